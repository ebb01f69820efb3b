"""MBPP: each reference program's asserts, scored as separate assertion tests,
get the same per-assert outcome as running program + assert as a plain script."""

from rlce_server.client import assertion, pb, request
from tests.conftest import dataset

from .bare import assert_outcomes, parallel


def test_mbpp_per_assert_outcomes_match_bare_runs(client):
    rows = dataset("mbpp/mbpp.jsonl.gz")
    assert len(rows) == 974
    tests_of = {r["task_id"]: [(r["test_setup_code"] + "\n" + a) for a in r["test_list"]] for r in rows}
    expected = dict(zip(tests_of, parallel(lambda r: assert_outcomes(r["code"], tests_of[r["task_id"]]), rows)))
    reqs = [
        request("python", r["code"], [assertion(t) for t in tests_of[r["task_id"]]], request_id=str(r["task_id"]))
        for r in rows
    ]
    got = {}
    for resp in client.score_stream(reqs):
        got[int(resp.request_id)] = [t.verdict == pb.ACCEPTED for t in resp.tests]
    assert len(got) == len(rows)
    mismatches = {tid: (expected[tid], got[tid]) for tid in expected if expected[tid] != got[tid]}
    assert not mismatches, f"{len(mismatches)} programs differ: {dict(list(mismatches.items())[:10])}"
    # the data set's own references pass (this is the published state of mbpp.jsonl)
    assert sum(all(v) for v in got.values()) == 974


def test_partial_credit_shows_per_assert(client):
    row = next(r for r in dataset("mbpp/mbpp.jsonl.gz") if r["task_id"] == 2)
    wrong_last = row["test_list"][:2] + ["assert similar_elements((1, 2), (3, 4)) == (9,)"]
    resp = client.score("python", row["code"], [assertion(t) for t in wrong_last])
    assert [t.verdict for t in resp.tests] == [pb.ACCEPTED, pb.ACCEPTED, pb.WRONG_ANSWER]
    assert abs(resp.reward - 2 / 3) < 1e-9 and resp.verdict == pb.WRONG_ANSWER
