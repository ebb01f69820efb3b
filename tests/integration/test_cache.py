"""The result cache through the real stack: hits, coalescing, opt-out, and a
cache shared by two servers on a real redis-server."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from rlce_server.client import Client, call, pb, request, stdio

from .server import ServerThread

ADD = "def add(a, b):\n    return a + b\n"


def unique(program: str) -> str:
    return f"# {uuid.uuid4().hex}\n{program}"


def test_identical_request_is_answered_from_the_cache(client):
    program = unique(ADD)
    tests = [call("add", [1, 2], 3), call("add", [2, 2], 5)]
    first = client.score("python", program, tests, request_id="a")
    second = client.score("python", program, tests, request_id="b")
    assert not first.cached and second.cached
    assert second.request_id == "b"
    assert (second.verdict, second.reward, second.passed) == (first.verdict, first.reward, first.passed)
    assert [t.verdict for t in second.tests] == [pb.ACCEPTED, pb.WRONG_ANSWER]
    forced = client.score("python", program, tests, request_id="c", no_cache=True)
    assert not forced.cached and forced.reward == first.reward
    other_tests = client.score("python", program, [call("add", [1, 2], 3)])
    assert not other_tests.cached and other_tests.reward == 1.0


def test_identical_requests_in_flight_are_coalesced(server, client):
    """Six identical requests on one stream run once: the others wait for that run
    (coalesced) or, if it already finished, are answered from the cache."""

    def answered_without_running() -> float:
        return sum(server.app.metrics.cache_hits.labels("python", tier)._value.get() for tier in ("coalesced", "local"))

    misses = server.app.metrics.cache_misses.labels("python")
    before, missed = answered_without_running(), misses._value.get()
    program = unique("import time\ntime.sleep(0.5)\nprint(input())\n")
    reqs = [request("python", program, [stdio("x\n", "x\n")], request_id=str(i)) for i in range(6)]
    out = list(client.score_stream(reqs, timeout_s=60))
    assert sorted(r.request_id for r in out) == [str(i) for i in range(6)]
    assert all(r.verdict == pb.ACCEPTED for r in out)
    assert sum(1 for r in out if not r.cached) == 1
    assert answered_without_running() - before == 5 and misses._value.get() - missed == 1


def test_two_servers_share_results_through_redis(images, redis_url, tmp_path):
    url, redis_proc = redis_url
    key = tmp_path / "cache-hmac.key"
    key.write_text("k" * 32)
    a = ServerThread(workers=1, cache_redis_url=url, cache_hmac_key_file=key).start()
    b = ServerThread(workers=1, cache_redis_url=url, cache_hmac_key_file=key).start()
    try:
        program = unique(ADD)
        tests = [call("add", [20, 22], 42)]
        with Client(a.target) as ca, Client(b.target) as cb:
            first = ca.score("python", program, tests)
            assert first.verdict == pb.ACCEPTED and not first.cached
            second = cb.score("python", program, tests)
            assert second.cached and second.verdict == pb.ACCEPTED
            assert b.app.metrics.cache_hits.labels("python", "shared")._value.get() == 1
            # Redis goes away: the servers keep answering, by running
            redis_proc.kill()
            redis_proc.wait(10)
            with ThreadPoolExecutor(2) as pool:
                outs = list(pool.map(lambda c: c.score("python", unique(ADD), tests, timeout_s=30), [ca, cb]))
            assert [(o.verdict, o.cached) for o in outs] == [(pb.ACCEPTED, False)] * 2
            assert b.app.metrics.cache_errors._value.get() >= 1
    finally:
        a.stop()
        b.stop()
