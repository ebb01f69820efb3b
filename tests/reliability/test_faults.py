"""Faults under load: nothing lost, nothing wrong, nothing leaked."""

from __future__ import annotations

import random
import signal
import threading
import time
import urllib.request

import docker.errors
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from rlce_server.client import Client, call, pb, request
from tests.conftest import free_port

from .helpers import ServeProcess, engine_up, start_engine, stop_engine

ADD = "def add(a, b):\n    return a + b\n"


def health(target: str) -> int:
    with grpc.insecure_channel(target) as ch:
        try:
            return health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=2).status
        except grpc.RpcError:
            return -1


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


KILLS = 5
MIN_REQUESTS = 400
IN_FLIGHT = 8  # two sandboxes' worth of queued jobs


def test_sandboxes_killed_from_outside_under_load(images, engine):
    """Requests keep coming until the killer has killed KILLS sandboxes (counted,
    not assumed from a rate), so the assertions hold on any machine.

    At most IN_FLIGHT requests are outstanding: gRPC drains a request iterator
    as fast as it can, so without the bound the stream ran to its cap (20,000
    requests, minutes) before the first kill, and the kills met idle sandboxes
    rather than jobs in flight."""
    srv = ServeProcess(workers=2)
    try:
        want: dict[str, int] = {}
        stop = threading.Event()
        kills: list[str] = []
        room = threading.Semaphore(IN_FLIGHT)

        def requests():
            i = 0
            while i < MIN_REQUESTS or (len(kills) < KILLS and i < 50 * MIN_REQUESTS):
                assert room.acquire(timeout=600), "no answer for 600 s"
                expected = (i % 7) + (i % 5)
                ok = i % 3 != 0
                want[str(i)] = pb.ACCEPTED if ok else pb.WRONG_ANSWER
                yield request(
                    "python", ADD, [call("add", [i % 7, i % 5], expected if ok else expected + 1)], request_id=str(i)
                )
                i += 1

        def killer() -> None:
            rng = random.Random(7)
            while not stop.is_set() and len(kills) < KILLS:
                time.sleep(0.3)
                try:
                    running = [c for c in srv.containers(engine) if c.status == "running"]
                except docker.errors.NotFound:  # one vanished between list and inspect
                    continue
                if running:
                    victim = rng.choice(running)
                    try:
                        victim.kill()
                        kills.append(victim.name)
                    except Exception:
                        pass

        th = threading.Thread(target=killer)
        th.start()
        with Client(srv.target) as client:
            got = []
            for r in client.score_stream(requests(), timeout_s=1800):
                got.append((r.request_id, r.verdict))
                room.release()
        stop.set()
        th.join()
        assert len(got) == len(want) and {rid for rid, _ in got} == set(want), "exactly one response each"
        wrong = [(rid, v) for rid, v in got if v not in (want[rid], pb.SANDBOX_ERROR)]
        assert not wrong, f"wrong verdicts: {wrong[:10]}"
        assert len(kills) >= KILLS
        # each kill can cost the requests in flight on that sandbox (retried once on a fresh one)
        lost = sum(1 for rid, v in got if v != want[rid])
        assert lost <= 4 * len(kills), f"{lost} SANDBOX_ERRORs for {len(kills)} kills"
        correct = len(got) - lost
        # the pool refills and serves
        wait_for(lambda: len([c for c in srv.containers(engine) if c.status == "running"]) == 2, 60, "refill")
        with Client(srv.target) as client:
            assert client.score("python", ADD, [call("add", [1, 2], 3)]).verdict == pb.ACCEPTED
        print(
            f"\n{len(kills)} sandboxes killed, {correct}/{len(got)} correct, "
            f"{sum(v == pb.SANDBOX_ERROR for _, v in got)} SANDBOX_ERROR, 0 wrong"
        )
    finally:
        assert srv.stop() == 0
        assert not srv.containers(engine)


def test_deadline_and_cancel_free_the_sandbox(images, engine):
    srv = ServeProcess(workers=1)
    try:
        with Client(srv.target) as client:
            before = {c.name for c in srv.containers(engine)}
            slow = request(
                "python",
                "import time\ntime.sleep(20)\n",
                [pb.TestCase(stdio=pb.StdioTest())],
                limits=pb.Limits(time_limit_s=30),
            )
            with pytest.raises(grpc.RpcError) as info:
                client.score_request(slow, timeout_s=1.0)
            assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            # the job's sandbox is replaced, and the next request is fine (not stuck behind the sleeper)
            assert client.score("python", ADD, [call("add", [1, 2], 3)], timeout_s=60).verdict == pb.ACCEPTED
            after = {c.name for c in srv.containers(engine)}
            assert after and not (after & before), "the cancelled job's sandbox was reused"
            # a cancelled stream frees its sandbox too
            call_ = client.stub.ScoreStream(iter([slow]))
            time.sleep(1.0)
            call_.cancel()
            assert client.score("python", ADD, [call("add", [2, 2], 4)], timeout_s=60).verdict == pb.ACCEPTED
    finally:
        srv.stop()
        assert not srv.containers(engine)


def busy_sandboxes(metrics_port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "rlce_pool_sandboxes" and s.labels.get("state") == "busy":
                return float(s.value)
    return 0.0


def test_sigterm_drains_in_flight_then_removes_everything(images, engine):
    metrics_port = free_port()
    srv = ServeProcess(workers=2, RLCE_GRACE_S="20", RLCE_METRICS_PORT=str(metrics_port))
    results: dict[str, int] = {}

    def one(i: int) -> None:
        with Client(srv.target) as c:
            prog = "import time\ndef add(a, b):\n    time.sleep(2)\n    return a + b\n"
            results[str(i)] = c.score("python", prog, [call("add", [i, 1], i + 1)], timeout_s=60).verdict

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    wait_for(lambda: busy_sandboxes(metrics_port) == 2, 120, "both requests running")
    srv.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: health(srv.target) in (health_pb2.HealthCheckResponse.NOT_SERVING, -1), 60, "NOT_SERVING")
    for t in threads:
        t.join(60)
    assert srv.proc.wait(60) == 0
    assert results == {"0": pb.ACCEPTED, "1": pb.ACCEPTED}, "in-flight requests finished within the grace period"
    assert not srv.containers(engine)


def test_engine_restart_under_load(images, engine):
    """Last in this file: it stops and restarts dockerd."""
    srv = ServeProcess(workers=2)
    try:
        with Client(srv.target) as client:
            assert client.score("python", ADD, [call("add", [1, 2], 3)]).verdict == pb.ACCEPTED
            stop_engine()
            try:
                wait_for(
                    lambda: health(srv.target) == health_pb2.HealthCheckResponse.NOT_SERVING,
                    60,
                    "NOT_SERVING while the engine is down",
                )
                # never hanging: each answer comes within the call's own deadline
                verdicts = [
                    client.score("python", ADD, [call("add", [1, 2], 3)], timeout_s=60).verdict for _ in range(4)
                ]
                assert set(verdicts) == {pb.SANDBOX_ERROR}, verdicts
            finally:
                start_engine()
            assert engine_up()
            wait_for(
                lambda: health(srv.target) == health_pb2.HealthCheckResponse.SERVING,
                120,
                "SERVING again after the engine came back",
            )
            assert client.score("python", ADD, [call("add", [1, 2], 3)]).verdict == pb.ACCEPTED
        assert srv.proc.poll() is None, "the server kept running"
    finally:
        if not engine_up():
            start_engine()
        srv.stop()
    assert not srv.containers(engine)
