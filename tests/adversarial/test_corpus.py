"""Every attack in the corpus holds: no reward beyond the honest share, a
verdict of the candidate's (never SANDBOX_ERROR), an answer in bounded time,
a healthy server, and a sandbox that a canary and a probe find clean.

The server has one worker, so the canary and the probe run in the very
sandbox the attack just used.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from rlce_server.client import Client, pb, request, stdio
from tests.integration.server import ServerThread

from .corpus import ALL_KINDS, ATTACKS, STDIO_ADD, Attack

HONEST = (
    "import sys\ndef add(a, b):\n    return a + b\nif __name__ == '__main__':\n"
    "    print(add(*map(int, sys.stdin.read().split())))\n"
)
# Run as a stdio test, so nothing but the root runner and zygote may exist --
# and the sandbox's one judge (the long-lived test driver, uid = ours + 1,
# a child of the root zygote).
PROBE = r"""
import os
bad = []
me = os.getpid()
judges = []
def field(status, key):
    return [line for line in status.splitlines() if line.startswith(key + ':')][0].split()[1]
for p in os.listdir('/proc'):
    if p.isdigit() and int(p) != me:
        try:
            status = open(f'/proc/{p}/status').read()
            parent = open(f'/proc/{field(status, "PPid")}/status').read()
        except OSError:
            continue
        uid = int(field(status, 'Uid'))
        if uid == os.getuid() + 1 and int(field(parent, 'Uid')) == 0:
            judges.append(p)
        elif uid != 0:
            bad.append(f'process {p} of uid {uid}')
if len(judges) > 1:
    bad.append(f'{len(judges)} judge processes')
for d in ('/w', '/tmp', '/dev/shm'):
    try:
        bad += [f'{d}/{n}' for n in os.listdir(d)]
    except OSError as exc:
        bad.append(f'{d}: {exc}')
for kind in ('shm', 'msg', 'sem'):
    bad += [f'sysv {kind}' for _ in open(f'/proc/sysvipc/{kind}').read().splitlines()[1:]]
print('CLEAN' if not bad else bad)
"""


@pytest.fixture(scope="module")
def one_sandbox(images, engine) -> Iterator[ServerThread]:
    srv = ServerThread(workers=1).start()
    yield srv
    instance = srv.settings.instance_id
    srv.stop()
    assert not engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"}, ignore_removed=True), (
        "containers leaked"
    )


@pytest.mark.parametrize("attack", ATTACKS, ids=[f"{a.category}: {a.name}" for a in ATTACKS])
def test_attack_holds(one_sandbox: ServerThread, attack: Attack) -> None:
    limits = pb.Limits(
        time_limit_s=attack.time_limit_s,
        memory_limit_mb=attack.memory_limit_mb,
        output_limit_bytes=1 << 16,
        total_time_limit_s=30,
    )
    with Client(one_sandbox.target) as client:
        # no attack may make the server hang: the call's own deadline would fail the test
        resp = client.score_request(request("python", attack.program, attack.tests, limits=limits), timeout_s=120)
        verdicts = [pb.Verdict.Name(t.verdict) for t in resp.tests]
        assert resp.verdict != pb.ACCEPTED, verdicts
        assert resp.reward <= attack.max_reward + 1e-9, (resp.reward, verdicts)
        assert resp.verdict != pb.SANDBOX_ERROR, resp.error
        # judged for what it did, never only after breaking two sandboxes (the scorer's last defence)
        assert not any("the program breaks the sandbox" in t.message for t in resp.tests), verdicts
        if attack.message:
            assert any(attack.message in t.message for t in resp.tests), [t.message for t in resp.tests]

        with grpc.insecure_channel(one_sandbox.target) as ch:
            health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING

        canary = client.score("python", HONEST, [*ALL_KINDS, STDIO_ADD], limits=limits, no_cache=True)
        assert canary.verdict == pb.ACCEPTED and canary.reward == 1.0, [t.message for t in canary.tests]
        probe = client.score("python", PROBE, [stdio("", "CLEAN")], no_cache=True)
        assert probe.verdict == pb.ACCEPTED, probe.tests[0].stdout.decode(errors="replace")


def test_canaries_unaffected_by_concurrent_abuse(images, engine) -> None:
    """Resource attacks in one sandbox do not change verdicts in the others."""
    srv = ServerThread(workers=2).start()
    try:
        abusive = [a for a in ATTACKS if a.category == "resource abuse"]
        limits = pb.Limits(time_limit_s=1.0, memory_limit_mb=256)
        reqs = []
        for i in range(60):
            if i % 4 == 0:
                a = abusive[(i // 4) % len(abusive)]
                reqs.append(
                    request("python", a.program, a.tests, request_id=f"attack-{i}", limits=limits, no_cache=True)
                )
            else:
                reqs.append(
                    request(
                        "python",
                        HONEST,
                        [*ALL_KINDS, STDIO_ADD],
                        request_id=f"canary-{i}",
                        limits=pb.Limits(time_limit_s=5.0),
                        no_cache=True,
                    )
                )
        with Client(srv.target) as client:
            out = list(client.score_stream(reqs, timeout_s=600))
        assert len(out) == len(reqs)
        canaries = [r for r in out if r.request_id.startswith("canary")]
        assert all(r.verdict == pb.ACCEPTED for r in canaries), [
            (r.request_id, pb.Verdict.Name(r.verdict), [t.message for t in r.tests])
            for r in canaries
            if r.verdict != pb.ACCEPTED
        ]
        assert all(r.verdict not in (pb.ACCEPTED, pb.SANDBOX_ERROR) for r in out if r.request_id.startswith("attack"))
    finally:
        instance = srv.settings.instance_id
        srv.stop()
        assert not engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"}, ignore_removed=True)
