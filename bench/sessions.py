"""Sessions: latency of the session RPCs, sessions held at once, and a process-per-call baseline.

A real server (``rlce serve``, its session sandboxes started with it) is
driven through the Python client, one call at a time:

* OpenSession + Exec('1+1') + CloseSession, p50/p99;
* Exec('1+1') in a warm session, p50/p99;
* ForkSession of a session holding some state, p50/p99 (each fork closed after);
* how many sessions are held open at once (each with a little state), the
  memory each idle one takes (the session sandboxes' cgroups, page cache
  left out), and the server's RSS before, with them open, and after they close;
* the baseline in the same run: each call as a fresh ``python3 -c`` on the
  host that re-runs the session's cells so far (no sandbox, no state kept),
  for the first call of a session and for its 20th.

    python3 bench/sessions.py [--calls 500] [--rounds 5] [--hold 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import grpc
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import percentile, start_server  # noqa: E402

from rlce_server.client import Client, pb  # noqa: E402

TARGETS = {"open_exec_close": 20.0, "exec": 10.0, "fork": 30.0}  # p50, ms (issue 18)
STATE_CELLS = [
    "import json, math, collections",
    "data = list(range(10_000))",
    "table = {i: str(i) for i in range(1000)}",
    "def f(n):\n    return sum(data[:n]) + len(table)",
    "counts = collections.Counter(x % 7 for x in data)",
] + [f"v{i} = f({i * 10})" for i in range(14)]


def ms(samples: list[float]) -> tuple[float, float]:
    return percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000


def timed(fn: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sandbox_memory_mib(engine: Any, instance: str) -> float:
    """The session sandboxes' memory (their cgroups' usage, page cache left out)."""
    total = 0.0
    for ctr in engine.containers.list(filters={"label": f"rlce.server={instance}"}):
        if "-sessions-" not in ctr.name:
            continue
        stats = ctr.stats(stream=False)["memory_stats"]
        inner = stats.get("stats", {})
        cache = inner.get("total_inactive_file", inner.get("inactive_file", inner.get("cache", 0)))
        total += (stats["usage"] - cache) / (1 << 20)
    return total


def baseline(cells: list[str]) -> float:
    """One call of a process-per-call tool: a fresh interpreter re-running every cell so far."""
    *before, last = cells
    program = "\n".join(before) + f"\n_r = ({last})\nif _r is not None: print(repr(_r))\n"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", program], check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=500, help="samples per latency row")
    ap.add_argument("--hold", type=int, default=300, help="sessions to hold open at once")
    ap.add_argument("--rounds", type=int, default=5, help="rows measured in turn, this many times")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    console = Console()
    engine = docker.from_env()
    slots = max(128, (args.hold + 1) // 2)
    env = {
        "RLCE_SESSIONS__PRESTART": "1",
        "RLCE_SESSIONS__SLOTS_PER_SANDBOX": str(slots),
        "RLCE_SESSIONS__MAX_OPEN": str(max(512, args.hold + 16)),
        "RLCE_INSTANCE_ID": f"bench{int(time.time()) % 100000}",
    }
    proc, target, start_s = start_server(1, **env)
    instance = env["RLCE_INSTANCE_ID"]
    rows: list[tuple[str, str, str, str]] = []
    try:
        with Client(target) as c:
            for _ in range(20):  # warm: the first sessions of each slot
                with c.session() as s:
                    s.exec("1+1")
            rss0 = rss_mib(proc.pid)

            def open_exec_close() -> None:
                with c.session() as s:
                    r = s.exec("1+1")
                    assert r.result == "2", r

            oec: list[float] = []
            ex: list[float] = []
            fk: list[float] = []
            base_first: list[float] = []
            base_20th: list[float] = []
            per_round = max(1, args.calls // args.rounds)
            with c.session() as s:
                for cell in STATE_CELLS:
                    assert s.exec(cell).verdict == pb.ACCEPTED
                # rounds of every row in turn: a burst of load on this (shared) host falls on all rows alike
                for _ in range(args.rounds):
                    oec += timed(open_exec_close, per_round)
                    ex += timed(lambda: s.exec("1+1"), per_round)
                    for _ in range(per_round):  # each fork closed after (a tree holds max_per_tree sessions)
                        t0 = time.perf_counter()
                        branch = s.fork()
                        fk.append(time.perf_counter() - t0)
                        branch.close()
                    base_first += [baseline(["1+1"]) for _ in range(max(1, per_round // 4))]
                    base_20th += [baseline([*STATE_CELLS, "1+1"]) for _ in range(max(1, per_round // 4))]

            mem0 = sandbox_memory_mib(engine, instance)
            held = []
            refused = ""
            for _ in range(args.hold):
                try:
                    s = c.session()
                except grpc.RpcError as exc:  # past a cap: what the table reports
                    refused = f"{exc.code().name}: {exc.details()}"[:100]
                    break
                s.exec("x = list(range(1000))\ny = {'k': x}")
                held.append(s)
            time.sleep(1)
            mem1 = sandbox_memory_mib(engine, instance)
            rss_open = rss_mib(proc.pid)
            for s in held:
                s.close()
            time.sleep(1)
            rss_after = rss_mib(proc.pid)
            mem2 = sandbox_memory_mib(engine, instance)
    finally:
        proc.terminate()
        proc.wait(60)

    def mark(value: float, key: str) -> str:
        return "yes" if value <= TARGETS[key] else "NO"

    p50, p99 = ms(oec)
    rows.append(("OpenSession + Exec('1+1') + CloseSession", f"{p50:.1f}", f"{p99:.1f}", mark(p50, "open_exec_close")))
    p50, p99 = ms(ex)
    rows.append(("Exec('1+1') in a warm session", f"{p50:.1f}", f"{p99:.1f}", mark(p50, "exec")))
    p50, p99 = ms(fk)
    rows.append((f"ForkSession (state of {len(STATE_CELLS)} cells)", f"{p50:.1f}", f"{p99:.1f}", mark(p50, "fork")))
    p50, p99 = ms(base_first)
    rows.append(("baseline: python3 -c, the 1st call of a session", f"{p50:.1f}", f"{p99:.1f}", "-"))
    p50, p99 = ms(base_20th)
    rows.append(("baseline: python3 -c, the 20th call (19 cells re-run)", f"{p50:.1f}", f"{p99:.1f}", "-"))

    table = Table(title=f"Sessions (server up in {start_s:.1f}s; {len(ex)} calls per row in {args.rounds} rounds)")
    for col in ("", "p50 ms", "p99 ms", "meets target"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    per = (mem1 - mem0) / max(1, len(held))
    hold = Table(title="Sessions held open at once")
    for col in ("", "value"):
        hold.add_column(col)
    hold.add_row("sessions open at once (target >= 256)", f"{len(held)}" + (f" (then: {refused})" if refused else ""))
    hold.add_row("memory per idle session (session sandboxes' cgroups)", f"{per:.2f} MiB")
    hold.add_row("session sandboxes' memory: before / open / after close", f"{mem0:.0f} / {mem1:.0f} / {mem2:.0f} MiB")
    hold.add_row("server RSS: before / open / after close", f"{rss0:.1f} / {rss_open:.1f} / {rss_after:.1f} MiB")
    console.print(hold)
    ratio = statistics.median(base_20th) / statistics.median(ex)
    console.print(f"a session's 20th call: process-per-call baseline / rlce Exec = {ratio:.0f}x (medians)")
    console.print(f"load average at the start: {load:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
