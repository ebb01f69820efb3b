"""A soak: 20,000 mixed requests (correct, wrong, timeouts, crashes, output
floods) through one server process. Every request answered with the right
verdict; server RSS flat; no zombies; no container or volume leaks; nothing
written to the host's disk by the sandboxes. RLCE_SOAK_REQUESTS overrides the count."""

from __future__ import annotations

import os
import subprocess
import time

from rlce_server.client import Client, call, pb, request, stdio

from .helpers import ServeProcess

N = int(os.environ.get("RLCE_SOAK_REQUESTS", "20000"))
RSS_GROWTH_LIMIT_KB = 40 * 1024  # after warm-up
DISK_GROWTH_LIMIT = 200 * 1024 * 1024

KINDS = [
    ("def f(x):\n    return x + 1\n", [call("f", [1], 2)], pb.ACCEPTED),
    ("def f(x):\n    return x + 2\n", [call("f", [1], 2)], pb.WRONG_ANSWER),
    ("import sys\nprint(int(sys.stdin.read()) * 2)\n", [stdio("21", "42")], pb.ACCEPTED),
    ("def f(x):\n    raise ValueError(x)\n", [call("f", [1], 2)], pb.RUNTIME_ERROR),
    ("import os\nos.abort()\n", [stdio("", "")], pb.RUNTIME_ERROR),
    ("print('y' * 200000)\n", [stdio("", "")], pb.OUTPUT_LIMIT_EXCEEDED),
    ("def f(x):\n    return [x] * 3\n", [call("f", [1], [1, 1, 1])], pb.ACCEPTED),
]
TIMEOUT = ("while True:\n    pass\n", [stdio("", "")], pb.TIME_LIMIT_EXCEEDED)


def zombies() -> int:
    out = subprocess.run(["ps", "-eo", "stat="], capture_output=True, text=True).stdout
    return sum(1 for s in out.split() if s.startswith("Z"))


def test_soak(images, engine):
    volumes_before = len(engine.volumes.list())
    zombies_before = zombies()
    srv = ServeProcess(workers=2)
    limits = pb.Limits(time_limit_s=0.3, output_limit_bytes=50_000)

    def reqs(start: int, count: int):
        for i in range(start, start + count):
            program, tests, _ = TIMEOUT if i % 500 == 7 else KINDS[i % len(KINDS)]
            yield request("python", program, tests, request_id=str(i), limits=limits)

    def want(i: int) -> int:
        return (TIMEOUT if i % 500 == 7 else KINDS[i % len(KINDS)])[2]

    wrong, answered, rss = [], 0, []
    t0 = time.time()
    try:
        with Client(srv.target) as client:
            warm = 1000
            for start, count in ((0, warm), (warm, N - warm)):
                for resp in client.score_stream(reqs(start, count), timeout_s=3600):
                    answered += 1
                    if resp.verdict != want(int(resp.request_id)):
                        wrong.append((resp.request_id, pb.Verdict.Name(resp.verdict), resp.error[:100]))
                rss.append(srv.rss_kb())
        running = srv.containers(engine)
        assert len(running) == 2, f"pool should hold exactly its 2 sandboxes, found {len(running)}"
        # what the sandboxes wrote to the host's disk: their writable layers (the root is
        # read-only, work dirs are tmpfs, logging is off); the whole disk's usage would count
        # whatever else the machine does meanwhile
        mine = {"label": f"rlce.server={srv.instance}"}
        written = sum(c.get("SizeRw") or 0 for c in engine.api.containers(all=True, size=True, filters=mine))
    finally:
        assert srv.stop() == 0
    seconds = time.time() - t0
    assert answered == N, "every request answered exactly once"
    assert not wrong, f"{len(wrong)} wrong verdicts: {wrong[:10]}"
    assert rss[-1] - rss[0] <= RSS_GROWTH_LIMIT_KB, f"server RSS grew from {rss[0]} KiB to {rss[-1]} KiB"
    assert not srv.containers(engine), "containers leaked"
    assert len(engine.volumes.list()) == volumes_before, "volumes leaked"
    deadline = time.time() + 15  # exiting container shims are reaped a moment later
    while zombies() > zombies_before and time.time() < deadline:
        time.sleep(0.5)
    assert zombies() <= zombies_before, "zombie processes left"
    assert written <= DISK_GROWTH_LIMIT, f"the sandboxes wrote {written >> 20} MiB to the host's disk"
    print(
        f"\nsoak: {N} requests in {seconds:.0f}s ({N / seconds:.0f}/s), wrong 0, RSS after warm-up "
        f"{rss[0] / 1024:.1f} MiB -> end {rss[-1] / 1024:.1f} MiB, disk delta "
        f"{written / 2**20:.1f} MiB, zombies {zombies()}, leaks 0"
    )
