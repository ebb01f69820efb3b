"""HumanEval through the real stack: canonical solutions pass, broken ones get 0."""

from rlce_server.client import assertion, pb, request
from tests.conftest import dataset


def he_requests(program_of):
    rows = dataset("humaneval/HumanEval.jsonl.gz")
    assert len(rows) == 164
    return [
        request(
            "python", program_of(r), [assertion(r["test"] + f"\ncheck({r['entry_point']})\n")], request_id=r["task_id"]
        )
        for r in rows
    ]


def test_canonical_solutions_all_accepted(client):
    responses = list(client.score_stream(he_requests(lambda r: r["prompt"] + r["canonical_solution"])))
    assert len(responses) == 164
    bad = {
        x.request_id: (pb.Verdict.Name(x.verdict), x.tests[0].message if x.tests else x.error)
        for x in responses
        if x.verdict != pb.ACCEPTED or x.reward != 1.0
    }
    assert not bad
    assert all(x.tests[0].wall_time_s > 0 for x in responses)
    assert all(x.runtime.startswith("python 3.") for x in responses)


def test_return_none_bodies_get_nothing(client):
    responses = list(client.score_stream(he_requests(lambda r: r["prompt"] + "    return None\n")))
    assert len(responses) == 164
    assert not [x.request_id for x in responses if x.verdict == pb.ACCEPTED]
    assert all(x.reward == 0.0 for x in responses)
    assert {x.verdict for x in responses} <= {pb.WRONG_ANSWER, pb.RUNTIME_ERROR}
