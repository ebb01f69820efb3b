"""`rlce serve` as a user runs it: SIGTERM removes every container it made;
containers of a server killed with SIGKILL are removed by the next start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rlce_server.client import Client, call, pb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(instance: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, RLCE_PORT=str(port), RLCE_WORKERS="1", RLCE_METRICS_PORT="0", RLCE_INSTANCE_ID=instance)
    proc = subprocess.Popen([sys.executable, "-m", "rlce_server", "serve"], env=env, stderr=subprocess.PIPE)
    target = f"127.0.0.1:{port}"
    deadline = time.time() + 120
    with grpc.insecure_channel(target) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        while True:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return proc, target
            except grpc.RpcError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
            assert time.time() < deadline, "server did not report SERVING"
            time.sleep(0.2)


def _containers(engine, instance: str) -> list:
    return engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"})


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
