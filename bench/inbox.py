"""The runner's own cost per HumanEval job, measured inside one sandbox container.

Run by ``bench/inbox.sh`` (docker run of the python image with this checkout's
runner mounted over the image's): the real ``Runner`` (zygote, driver,
cleaner), the host's frames (ValueRun as the host sends it, then Reset),
without the host. Prints, per job: CPU of the runner, of the zygote (own),
of the forked children (reaped by the zygote), and their minor page faults.
``--profile`` adds a cProfile of the runner.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time


def read(path: str) -> str:
    with open(path) as fh:
        return fh.read()


def stat(pid: int) -> tuple[int, int, int, int, int, int]:
    f = read(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    return int(f[7]), int(f[8]), int(f[11]), int(f[12]), int(f[13]), int(f[14])  # minflt cminflt u s cu cs


def main() -> None:
    passes = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    profile = "--profile" in sys.argv
    import socket

    from rlce_runner.runner import Runner
    from rlce_runner.settings import CHILD_ENV, SandboxSettings
    from rlce_runner.zygote_client import ZygoteClient

    for d in ("/j", "/c"):
        os.makedirs(d, exist_ok=True)
    settings = SandboxSettings.from_env()
    if os.environ.get("INBOX_SUBPROCESS"):
        import subprocess  # noqa: F401  (as the runner's toolchain_version does before forking the zygote)
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    zpid = os.fork()
    if zpid == 0:
        parent.close()
        from rlce_runner.zygote import main as zygote_main

        zygote_main(child, ["abc", "array", "bisect", "collections", "copy", "dataclasses", "datetime", "decimal",
                            "enum", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math",
                            "operator", "random", "re", "statistics", "string", "sys", "typing", "unicodedata"],
                    seccomp=settings.seccomp, env=CHILD_ENV)  # fmt: skip
    child.close()
    zc = ZygoteClient(parent)
    zc.wait_ready()
    runner = Runner(zc, zpid, settings)
    with gzip.open("/data/HumanEval.jsonl.gz", "rt") as fh:
        rows = [json.loads(line) for line in fh]
    limits = {"wall_s": 11.0, "cpu_s": 5.0, "memory_mb": 512, "output_bytes": 1 << 20}
    frames = [
        {"op": "run", "kind": "values", "program": r["prompt"] + r["canonical_solution"], "mode": "assertion",
         "limits": limits, "code": r["test"] + f"\ncheck({r['entry_point']})\n"}
        for r in rows
    ]  # fmt: skip

    def one_pass() -> None:
        for fr in frames:
            rep = runner.reply(json.loads(json.dumps(fr)))
            assert rep["ok"] and rep["result"]["driver"]["status"] == "passed", rep
            rep = runner.reply({"op": "reset"})
            assert rep["ok"] and rep["result"]["clean"], rep

    one_pass()
    me = os.getpid()
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    for n in range(passes):
        if profile and n == passes - 1:
            import cProfile
            import pstats

            pr = cProfile.Profile()
            pr.enable()
            one_pass()
            pr.disable()
            pstats.Stats(pr).sort_stats("tottime").print_stats(25)
            continue
        r0, z0 = stat(me), stat(zpid)
        cpu0 = time.process_time()
        zs0 = int(read(f"/proc/{zpid}/schedstat").split()[0])
        t0 = time.perf_counter()
        one_pass()
        wall = time.perf_counter() - t0
        cpu1 = time.process_time()
        zs1 = int(read(f"/proc/{zpid}/schedstat").split()[0])
        r1, z1 = stat(me), stat(zpid)
        k = len(frames)
        print(
            f"pass {n}: per job: runner {(cpu1 - cpu0) * 1000 / k:.2f} ms, {(r1[0] - r0[0]) / k:.0f} faults; "
            f"zygote {(zs1 - zs0) / 1e6 / k:.2f} ms, {(z1[0] - z0[0]) / k:.0f} faults; "
            f"children {((z1[4] + z1[5]) - (z0[4] + z0[5])) * tick / k:.2f} ms, {(z1[1] - z0[1]) / k:.0f} faults; "
            f"wall {wall * 1000 / k:.2f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
