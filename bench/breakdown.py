"""Where the CPU of one HumanEval program goes: server, runner, zygote, forked children.

    RLCE_IMAGE_TAG=perf python3 bench/breakdown.py [--passes 3] [--repeat 3] [--workload cpp-stdio]

``--workload cpp-stdio``: instead, one C++ stdio program (bench/judges.py's, built
once and then served from the sandbox's artifact cache) against its 50 tests,
``--repeat`` x 10 requests per pass: the per-test cost of exec'd processes.
``--workload cpp`` (or java, javascript, go, rust): the first ``--repeat`` x 10
HumanEval-X canonical programs of that runtime with their split tests (as
bench/runtimes.py scores them), every pass's program and test marked as its
own, so each pass builds both: the whole cost of a compiled program.

A real server with one sandbox; HumanEval canonical programs (program + one
assertion test) through ``ScoreStream``, ``no_cache``. CPU is read from
counters, not wall clocks (the machine may be loaded): the server process's
``/proc/<pid>/stat`` (utime + stime), the runner's and the zygote's
``/proc/<pid>/schedstat``, and the container's ``cpuacct.usage`` (cgroup v1)
or ``cpu.stat`` (v2). Forked children (program servers, test drivers,
helpers) are the container's total minus the runner's and the zygote's own.
Each pass is measured apart; the median pass per stage is printed in ms per
program.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import humaneval, start_server  # noqa: E402

from rlce_server.client import Client, assertion, pb, request  # noqa: E402

TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def proc_cpu_ns(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_NS


def faults(pid: int) -> tuple[int, int]:
    """Minor page faults of the process itself, and of its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[8])


def sched_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def cgroup_ns(cid: str) -> int:
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage",):
        if os.path.exists(path):
            return int(Path(path).read_text())
    for line in Path(f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat").read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) * 1000
    raise RuntimeError("no cgroup counter")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="HumanEval copies per pass")
    ap.add_argument(
        "--workload", choices=["humaneval", "cpp-stdio", "cpp", "java", "javascript", "go", "rust"], default="humaneval"
    )
    args = ap.parse_args()
    # (language, programs per pass, the pass's requests given its tag)
    workload: tuple[str, int, Callable[[str], list[pb.ScoreRequest]]]
    if args.workload == "cpp-stdio":
        from judges import problem, program

        count = 10 * args.repeat  # (not `n`: the pass loop below rebinds that name)
        workload = (
            "cpp",
            count,
            lambda tag: [
                request("cpp", program("cpp", 1), problem(), request_id=f"{tag}{i}", no_cache=True)
                for i in range(count)
            ],
        )
    elif args.workload != "humaneval":
        from runtimes import load_tasks, mark, rlce_request

        tasks = load_tasks(args.workload, 10 * args.repeat)
        workload = (
            args.workload,
            len(tasks),
            lambda tag: [
                rlce_request(args.workload, f"{tag}{i}", t.program + mark(tag), t.test + mark(tag))
                for i, t in enumerate(tasks)
            ],
        )
    else:
        rows = humaneval() * args.repeat
        workload = "python", len(rows), lambda tag: [
            request("python", r["prompt"] + r["canonical_solution"],
                    [assertion(r["test"] + f"\ncheck({r['entry_point']})\n")],
                    request_id=f"{tag}{i}", no_cache=True)
            for i, r in enumerate(rows)
        ]  # fmt: skip
    language, programs, requests = workload
    import docker

    instance = f"breakdown{os.getpid()}"
    proc, target, _ = start_server(1, RLCE_INSTANCE_ID=instance, RLCE_RUNTIMES=f'["{language}"]')
    engine = docker.from_env()
    try:
        with Client(target) as client:

            def one_pass(tag: str) -> int:
                return sum(resp.verdict == pb.ACCEPTED for resp in client.score_stream(iter(requests(tag))))

            one_pass("warm")
            (container,) = engine.containers.list(filters={"label": f"rlce.server={instance}"})
            runner = int(container.attrs["State"]["Pid"])
            (zygote,) = [int(p) for p in Path(f"/proc/{runner}/task/{runner}/children").read_text().split()]
            cid = container.id
            per: dict[str, list[float]] = {k: [] for k in ("server", "runner", "zygote", "children", "container")}
            walls = []
            for n in range(args.passes):
                f0 = faults(runner)[0], *faults(zygote)
                s0, r0, z0, c0 = proc_cpu_ns(proc.pid), sched_ns(runner), sched_ns(zygote), cgroup_ns(cid)
                t0 = time.perf_counter()
                ok = one_pass(f"p{n}-")
                walls.append(time.perf_counter() - t0)
                s1, r1, z1, c1 = proc_cpu_ns(proc.pid), sched_ns(runner), sched_ns(zygote), cgroup_ns(cid)
                f1 = faults(runner)[0], *faults(zygote)
                for key, a, b in zip(("runner faults", "zygote faults", "children faults"), f0, f1, strict=True):
                    per.setdefault(key, []).append((b - a) / programs)
                k = programs * 1e6  # ns -> ms per program
                per["server"].append((s1 - s0) / k)
                per["runner"].append((r1 - r0) / k)
                per["zygote"].append((z1 - z0) / k)
                per["children"].append(((c1 - c0) - (r1 - r0) - (z1 - z0)) / k)
                per["container"].append((c1 - c0) / k)
                assert ok == programs, f"{ok}/{programs} passed"
    finally:
        proc.terminate()
        proc.wait(60)
    print(f"{programs} programs per pass, {args.passes} passes; ms CPU (faults) per program (median pass; all passes)")
    for key, values in per.items():
        print(f"  {key:16s} {statistics.median(values):7.2f}   ({', '.join(f'{v:.2f}' for v in values)})")
    total = statistics.median([a + b for a, b in zip(per["server"], per["container"], strict=True)])
    print(f"  {'total CPU ms':16s} {total:7.2f}   wall s per pass: {', '.join(f'{w:.1f}' for w in walls)}")


if __name__ == "__main__":
    main()
