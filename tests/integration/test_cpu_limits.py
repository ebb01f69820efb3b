"""Time limits decided by CPU time do not flip with the host's load.

A program that uses 60% of its CPU-time limit passes, and one that uses 150%
fails, every time, while two processes on the host burn CPU for the whole
test. The wall-clock backstop is set far out here so that only CPU time can
decide: a busy host stretches the wall clock, never the CPU time a program
used (its whole process tree's, children included).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from rlce_server.client import Client, pb, request, stdio

LIMIT_S = 1.0
RUNS = 10
BURN = (
    "import os, time\nshare = {share}\nkids = {kids}\n"
    "def burn(s):\n    t = time.process_time()\n    while time.process_time() - t < s:\n        pass\n"
    "pids = []\nfor _ in range(kids):\n    pid = os.fork()\n"
    "    if pid == 0:\n        burn(share / (kids + 1))\n        os._exit(0)\n"
    "    pids.append(pid)\nburn(share / (kids + 1))\nfor pid in pids:\n    os.waitpid(pid, 0)\nprint('done')\n"
)


@pytest.fixture()
def busy_host() -> Iterator[None]:
    """Two processes burning CPU on the host for the test's whole duration."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"]) for _ in range(2)]
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.wait()


@pytest.mark.parametrize("kids", [0, 2], ids=["one process", "three processes"])
def test_cpu_limits_hold_on_a_busy_host(client: Client, busy_host: None, kids: int) -> None:
    limits = pb.Limits(time_limit_s=LIMIT_S, wall_time_limit_s=60, total_time_limit_s=120)
    reqs = []
    for i in range(RUNS):
        for share, tag in ((0.6 * LIMIT_S, "under"), (1.5 * LIMIT_S, "over")):
            program = BURN.format(share=share, kids=kids)
            reqs.append(request("python", program, [stdio("", "done")], request_id=f"{tag}-{i}", limits=limits))
    for r in reqs:
        r.policy.no_cache = True
    got = {r.request_id: r for r in client.score_stream(reqs, timeout_s=1200)}
    under = [got[f"under-{i}"] for i in range(RUNS)]
    over = [got[f"over-{i}"] for i in range(RUNS)]
    assert all(r.verdict == pb.ACCEPTED for r in under), [(r.verdict, r.tests[0].message) for r in under]
    assert all(r.verdict == pb.TIME_LIMIT_EXCEEDED for r in over), [(r.verdict, r.tests[0].message) for r in over]
    assert all(0.5 * LIMIT_S < r.tests[0].cpu_time_s < LIMIT_S for r in under), [r.tests[0].cpu_time_s for r in under]
    assert all("CPU time limit" in r.tests[0].message for r in over)
