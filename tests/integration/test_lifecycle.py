"""`rlce serve` as a user runs it: SIGTERM removes every container it made;
containers of a server killed with SIGKILL are removed by the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from rlce_server.client import Client, call, pb, wait_serving
from tests.conftest import free_port


def _start(instance: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, RLCE_PORT=str(port), RLCE_WORKERS="1", RLCE_METRICS_PORT="0", RLCE_INSTANCE_ID=instance)
    proc = subprocess.Popen([sys.executable, "-m", "rlce_server", "serve"], env=env, stderr=subprocess.DEVNULL)
    target = f"127.0.0.1:{port}"
    try:
        wait_serving(target, alive=lambda: proc.poll() is None)
    except RuntimeError:
        raise AssertionError(f"rlce serve exited with {proc.poll()}") from None
    return proc, target


def _containers(engine, instance: str) -> list:
    return engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"}, ignore_removed=True)


def test_sigterm_removes_containers_and_sigkill_leftovers_are_swept(images, engine):
    first = f"t{os.getpid()}a"
    proc, target = _start(first)
    with Client(target) as client:
        assert client.score("python", "def f(x): return x", [call("f", [1], 1)]).verdict == pb.ACCEPTED
    assert len(_containers(engine, first)) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert not _containers(engine, first)

    second = f"t{os.getpid()}b"
    proc, _ = _start(second)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert len(_containers(engine, second)) == 1, "SIGKILL leaves its container behind"
    third = f"t{os.getpid()}c"
    proc, _ = _start(third)  # sweeps the dead server's container at start
    try:
        assert not _containers(engine, second)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert not _containers(engine, third)


def test_isolation_container_gives_each_job_a_fresh_container(images, engine):
    from .server import ServerThread

    srv = ServerThread(workers=1, isolation="container").start()
    instance = srv.settings.instance_id
    starts = srv.app.metrics.sandbox_starts.labels("python")
    try:
        before = starts._value.get()
        seen = []
        with Client(srv.target) as client:
            for _ in range(3):
                deadline = time.time() + 600  # a liveness bound, not a speed: a loaded host is slow
                while True:  # the replacement is made in the background
                    names = {c.name for c in _containers(engine, instance) if c.status == "running"}
                    if len(names) == 1 and not names & set(seen):
                        break
                    assert time.time() < deadline
                    time.sleep(0.1)
                seen.append(names.pop())
                # no_cache: a cached answer runs nothing, so no container would replace this one
                resp = client.score("python", "def f(x): return x", [call("f", [1], 1)], no_cache=True)
                assert resp.verdict == pb.ACCEPTED and not resp.cached
        assert len(set(seen)) == 3, seen
        deadline = time.time() + 600  # each of the 3 jobs' containers is replaced by a fresh one
        while starts._value.get() - before < 3:
            assert time.time() < deadline, "a used container was not replaced"
            time.sleep(0.1)
    finally:
        srv.stop()
    assert not _containers(engine, instance)


def test_pool_recycles_a_sandbox_after_its_job_budget(images, engine):
    from .server import ServerThread

    srv = ServerThread(workers=1, recycle_after_jobs=3).start()
    try:
        starts = srv.app.metrics.sandbox_starts.labels("python")
        before = starts._value.get()
        with Client(srv.target) as client:
            for i in range(7):
                resp = client.score("python", "def f(x): return x", [call("f", [i], i)], no_cache=True, timeout_s=60)
                assert resp.verdict == pb.ACCEPTED
        assert starts._value.get() - before == 2, "jobs 3 and 6 retired their sandbox"
        assert srv.app.metrics.sandbox_recycles.labels("python", "recycle")._value.get() == 2
        assert srv.app.metrics.runner_restarts.labels("python")._value.get() == 0
    finally:
        srv.stop()
