"""The gRPC contract through a real server and real sandboxes."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rlce_server.client import assertion, call, pb, request, stdio

ADD = "def add(a, b):\n    return a + b\n"
ECHO_SUM = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"


def test_health_is_serving(server):
    with grpc.insecure_channel(server.target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        for service in ("", "rlce.v1.Scorer"):
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service))
            assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_services(server):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(server.target) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        reply = next(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        names = {s.name for s in reply.list_services_response.service}
        assert {"rlce.v1.Scorer", "grpc.health.v1.Health"} <= names


def test_list_runtimes(client):
    rts = client.list_runtimes().runtimes
    py = next(r for r in rts if r.name == "python")
    assert py.version.startswith("3.") and py.image_digest.startswith("sha256:")
    assert set(py.test_kinds) == {"stdio", "call", "assertion"}
    assert py.default_limits.time_limit_s > 0 and py.max_limits.memory_limit_mb >= py.default_limits.memory_limit_mb


def test_all_three_kinds_and_partial_reward(client):
    tests = [
        stdio("1 2 3", "6", name="s"),
        call("add", [2, 3], 5, name="c"),
        call("add", [[1], [2]], [1, 2], name="c-list"),
        assertion("assert add(1, 1) == 2", name="a"),
        assertion("assert add(1, 1) == 3", name="a-wrong", weight=4.0),
    ]
    resp = client.score("python", ADD + ECHO_SUM, tests, request_id="mine")
    assert resp.request_id == "mine"
    assert [t.name for t in resp.tests] == ["s", "c", "c-list", "a", "a-wrong"]
    assert [t.verdict for t in resp.tests] == [pb.ACCEPTED] * 4 + [pb.WRONG_ANSWER]
    assert resp.verdict == pb.WRONG_ANSWER and resp.passed == 4 and resp.total == 5
    assert abs(resp.reward - 4 / 8) < 1e-9
    assert resp.timing.total_s >= resp.timing.run_s > 0
    all_or_nothing = client.score(
        "python", ADD + ECHO_SUM, tests, policy=pb.ScoringPolicy(reward_mode=pb.ALL_OR_NOTHING)
    )
    assert all_or_nothing.reward == 0.0


def test_call_is_type_strict(client):
    prog = "def f(x):\n    return x * 1.0\n"
    resp = client.score("python", prog, [call("f", [2], 2), call("f", [2], 2.0)])
    assert [t.verdict for t in resp.tests] == [pb.WRONG_ANSWER, pb.ACCEPTED]


def test_limits_give_their_verdicts(client):
    lim = pb.Limits(time_limit_s=1.0, memory_limit_mb=128, output_limit_bytes=10_000)
    cases = {
        "while True: pass": pb.TIME_LIMIT_EXCEEDED,
        "import time\ntime.sleep(30)": pb.TIME_LIMIT_EXCEEDED,
        "x = bytearray(512 * 1024 * 1024)": pb.MEMORY_LIMIT_EXCEEDED,
        "print('x' * 100_000)": pb.OUTPUT_LIMIT_EXCEEDED,
        "import sys\nsys.stderr.write('e' * 100_000)": pb.OUTPUT_LIMIT_EXCEEDED,
        "raise ValueError('boom')": pb.RUNTIME_ERROR,
        "import os\nos.kill(os.getpid(), 9)": pb.RUNTIME_ERROR,
        "def broken(:\n  pass": pb.COMPILE_ERROR,
    }
    for program, verdict in cases.items():
        resp = client.score("python", program, [stdio("", "")], limits=lim)
        assert resp.verdict == verdict, (program, pb.Verdict.Name(resp.verdict), resp.tests[0].message)
        assert resp.reward == 0.0
        assert resp.tests[0].wall_time_s < 5


def test_stop_on_first_failure(client):
    tests = [call("add", [1, 1], 3), call("add", [1, 1], 2)]
    resp = client.score("python", ADD, tests, policy=pb.ScoringPolicy(stop_on_first_failure=True))
    assert [t.verdict for t in resp.tests] == [pb.WRONG_ANSWER, pb.SKIPPED]


def test_register_tests_and_ref(client):
    tests = [call("add", [1, 2], 3), assertion("assert add(2, 2) == 4")]
    ref = client.register_tests(tests)
    assert ref == client.register_tests(tests), "the same tests give the same ref"
    assert ref != client.register_tests(tests[:1])
    resp = client.score("python", ADD, tests_ref=ref)
    assert resp.verdict == pb.ACCEPTED and resp.total == 2
    with pytest.raises(grpc.RpcError) as info:
        client.score("python", ADD, tests_ref="sha256:" + "0" * 64)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "tests_ref" in info.value.details()


BAD = [
    (request("cobol", ADD, [call("add", [1, 2], 3)]), "language"),
    (request("python", ADD, []), "tests"),
    (request("python", ADD, [pb.TestCase(name="x")]), "tests[0].kind"),
    (request("python", ADD, [call("add", [1, 2], 3)], limits=pb.Limits(time_limit_s=1e9)), "limits.time_limit_s"),
    (
        request("python", ADD, [pb.TestCase(call=pb.CallTest(entry_point="add", args_json="[1,", expected_json="3"))]),
        "tests[0].call.args_json",
    ),
    (
        request("python", ADD, [pb.TestCase(call=pb.CallTest(entry_point="add", args_json="[1]", expected_json="{"))]),
        "tests[0].call.expected_json",
    ),
    (
        request("python", ADD, [pb.TestCase(call=pb.CallTest(args_json="[1]", expected_json="1"))]),
        "tests[0].call.entry_point",
    ),
    (request("python", ADD, [call("add", [1, 2], 3)] * 2000), "tests"),
    (request("python", "x = 1\n" * 400_000, [call("add", [1, 2], 3)]), "program"),
]


@pytest.mark.parametrize(("bad", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_input_is_invalid_argument_naming_the_field(client, engine, server, bad, field):
    before = len(
        engine.containers.list(
            all=True, filters={"label": f"rlce.server={server.settings.instance_id}"}, ignore_removed=True
        )
    )
    with pytest.raises(grpc.RpcError) as info:
        client.score_request(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(field + ":"), info.value.details()
    # the server goes on serving, with the same sandboxes
    assert client.score("python", ADD, [call("add", [1, 2], 3)]).verdict == pb.ACCEPTED
    after = len(
        engine.containers.list(
            all=True, filters={"label": f"rlce.server={server.settings.instance_id}"}, ignore_removed=True
        )
    )
    assert after == before


def test_oversized_request_is_invalid_argument(client):
    big = request("python", ADD, [stdio(b"x" * (40 << 20), "")])
    with pytest.raises(grpc.RpcError) as info:
        client.score_request(big)
    # 40 MiB is under gRPC's own cap (2 x max_request_bytes), so rlce's check answers, naming the field
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith("request:"), info.value.details()
    assert client.score("python", ADD, [call("add", [1, 2], 3)]).verdict == pb.ACCEPTED


def test_stream_answers_malformed_items_and_goes_on(client):
    reqs = [
        request("python", ADD, [call("add", [1, 2], 3)], request_id="ok-1"),
        request("cobol", ADD, [call("add", [1, 2], 3)], request_id="bad-lang"),
        request("python", ADD, [], request_id="no-tests"),
        request("python", ADD, [call("add", [1, 2], 4)], request_id="wrong"),
    ]
    out = {r.request_id: r for r in client.score_stream(reqs)}
    assert set(out) == {"ok-1", "bad-lang", "no-tests", "wrong"}
    assert out["ok-1"].verdict == pb.ACCEPTED
    assert out["bad-lang"].verdict == pb.INVALID_REQUEST and out["bad-lang"].error.startswith("language:")
    assert out["no-tests"].verdict == pb.INVALID_REQUEST and out["no-tests"].error.startswith("tests:")
    assert out["wrong"].verdict == pb.WRONG_ANSWER


def test_thousand_mixed_requests_on_one_stream(client):
    kinds = [
        (ADD, [call("add", [1, 2], 3)], pb.ACCEPTED),
        (ADD, [call("add", [1, 2], 4)], pb.WRONG_ANSWER),
        (ECHO_SUM, [stdio("4 5", "9")], pb.ACCEPTED),
        (ECHO_SUM, [stdio("4 5", "10")], pb.WRONG_ANSWER),
        ("raise SystemExit(3)", [stdio("", "")], pb.RUNTIME_ERROR),
        (ADD, [assertion("assert add('a', 'b') == 'ab'")], pb.ACCEPTED),
        ("def add(a, b):\n    raise KeyError(a)\n", [assertion("assert add(1, 2) == 3")], pb.RUNTIME_ERROR),
        ("while True: pass", [stdio("", "")], pb.TIME_LIMIT_EXCEEDED),
    ]
    lim = pb.Limits(time_limit_s=0.3)
    reqs, want = [], {}
    for i in range(1000):
        program, tests, verdict = kinds[i % len(kinds)]
        if i % len(kinds) == 7 and i > 80:  # keep the slow ones few
            program, tests, verdict = kinds[0]
        reqs.append(request("python", program, tests, request_id=f"r{i}", limits=lim))
        want[f"r{i}"] = verdict
    reqs.append(request("nope", ADD, [], request_id="invalid"))
    want["invalid"] = pb.INVALID_REQUEST
    got = [(r.request_id, r.verdict) for r in client.score_stream(reqs)]
    assert len(got) == len(reqs) and len({rid for rid, _ in got}) == len(reqs), "exactly one response each"
    wrong = {rid: (pb.Verdict.Name(v), pb.Verdict.Name(want[rid])) for rid, v in got if v != want[rid]}
    assert not wrong
