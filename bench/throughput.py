"""Throughput of rlce against running the same programs bare, in one run.

    python bench/throughput.py [--repeat 3] [--workers N]

Baseline: each HumanEval canonical program (prompt + solution + test +
check) run as a bare ``/usr/bin/python3`` subprocess, as many at once as
there are cores. rlce: the same programs as assertion tests through
``ScoreStream`` of a real server started in its own process, fully
sandboxed. Also the unary ``Score`` latency of a trivial program (idle and
with the pool saturated) and the server's RSS. Prints one table with ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlce_server.client import Client, assertion, call, pb, request, wait_serving  # noqa: E402

DATA = ROOT / "rlce_server" / "data" / "HumanEval.jsonl.gz"


def humaneval() -> list[dict]:
    with gzip.open(DATA, "rt") as fh:
        return [json.loads(line) for line in fh]


def full_program(r: dict) -> str:
    return r["prompt"] + r["canonical_solution"] + "\n" + r["test"] + f"\ncheck({r['entry_point']})\n"


def bare(rows: list[dict], workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, r in enumerate(rows):
            p = Path(tmp) / f"p{i}.py"
            p.write_text(full_program(r))
            paths.append(p)

        def run(p: Path) -> bool:
            return subprocess.run(["/usr/bin/python3", str(p)], capture_output=True, cwd=tmp).returncode == 0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            ok = sum(pool.map(run, paths))
        return time.perf_counter() - t0, ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def start_server(workers: int, **extra_env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, RLCE_PORT=str(port), RLCE_WORKERS=str(workers), RLCE_METRICS_PORT="0", **extra_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlce_server", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = f"127.0.0.1:{port}"
    try:
        wait_serving(target, alive=lambda: proc.poll() is None)
    except (RuntimeError, TimeoutError) as exc:
        raise SystemExit(f"{exc} (run `rlce serve` by hand to see its log)") from None
    return proc, target


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3, help="HumanEval passes per measurement")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="bare runs at once")
    ap.add_argument("--sandboxes", type=int, default=None, help="rlce pool size (default: --workers)")
    ap.add_argument("--latency-calls", type=int, default=300)
    ap.add_argument(
        "--hardening-cost", action="store_true", help="also run rlce without the stacked seccomp filter, to price it"
    )
    args = ap.parse_args()
    rows = humaneval() * args.repeat
    console = Console()

    with console.status("bare /usr/bin/python3 subprocesses"):
        bare_s, bare_ok = bare(rows, args.workers)
    with console.status("starting rlce"):
        proc, target = start_server(args.sandboxes or args.workers)
    try:
        rss_start, _ = rss_kb(proc.pid)
        reqs = [
            request(
                "python",
                r["prompt"] + r["canonical_solution"],
                [assertion(r["test"] + f"\ncheck({r['entry_point']})\n")],
                request_id=str(i),
            )
            for i, r in enumerate(rows)
        ]
        with Client(target) as client, console.status("rlce ScoreStream"):
            t0 = time.perf_counter()
            ok = sum(1 for x in client.score_stream(reqs) if x.verdict == pb.ACCEPTED)
            rlce_s = time.perf_counter() - t0
            trivial = [call("f", [1], 2)]
            prog = "def f(x):\n    return x + 1\n"
            lat_idle = []
            for _ in range(args.latency_calls):
                t = time.perf_counter()
                assert client.score("python", prog, trivial).verdict == pb.ACCEPTED
                lat_idle.append(time.perf_counter() - t)
            stop = threading.Event()

            def saturate() -> None:
                with Client(target) as c2:
                    while not stop.is_set():
                        c2.score("python", "import time\ndef f(x):\n    time.sleep(0.05)\n    return x + 1\n", trivial)

            loaders = [threading.Thread(target=saturate) for _ in range(args.workers * 2)]
            for th in loaders:
                th.start()
            time.sleep(0.5)
            lat_busy = []
            for _ in range(min(args.latency_calls, 100)):
                t = time.perf_counter()
                client.score("python", prog, trivial)
                lat_busy.append(time.perf_counter() - t)
            stop.set()
            for th in loaders:
                th.join()
        rss_end, rss_peak = rss_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)

    extra_rows = []
    if args.hardening_cost:
        with console.status("rlce without the stacked seccomp filter"):
            proc2, target2 = start_server(args.sandboxes or args.workers, RLCE_EXTRA_SECCOMP="false")
            try:
                with Client(target2) as client:
                    t0 = time.perf_counter()
                    ok2 = sum(1 for x in client.score_stream(reqs) if x.verdict == pb.ACCEPTED)
                    extra_rows.append(("rlce, stacked seccomp off", ok2, time.perf_counter() - t0))
            finally:
                proc2.terminate()
                proc2.wait(60)

    n = len(rows)
    table = Table(
        title=f"HumanEval canonical x{args.repeat} ({n} programs), {args.workers} workers, {os.cpu_count()} cores"
    )
    for col in ("run", "programs", "passed", "wall s", "programs/s", "vs bare"):
        table.add_column(col, justify="right" if col != "run" else "left")
    table.add_row("bare /usr/bin/python3", str(n), str(bare_ok), f"{bare_s:.2f}", f"{n / bare_s:.1f}", "1.00x")
    table.add_row(
        "rlce ScoreStream (sandboxed)", str(n), str(ok), f"{rlce_s:.2f}", f"{n / rlce_s:.1f}", f"{bare_s / rlce_s:.2f}x"
    )
    for label, passed, secs in extra_rows:
        table.add_row(label, str(n), str(passed), f"{secs:.2f}", f"{n / secs:.1f}", f"{bare_s / secs:.2f}x")
    console.print(table)
    lat = Table(title="unary Score, trivial program (call test)")
    for col in ("load", "calls", "p50 ms", "p99 ms"):
        lat.add_column(col, justify="right" if col != "load" else "left")
    lat.add_row(
        "idle",
        str(len(lat_idle)),
        f"{statistics.median(lat_idle) * 1000:.1f}",
        f"{percentile(lat_idle, 0.99) * 1000:.1f}",
    )
    lat.add_row(
        "pool saturated",
        str(len(lat_busy)),
        f"{statistics.median(lat_busy) * 1000:.1f}",
        f"{percentile(lat_busy, 0.99) * 1000:.1f}",
    )
    console.print(lat)
    console.print(
        f"server RSS: start {rss_start / 1024:.1f} MiB, peak {rss_peak / 1024:.1f} MiB, end {rss_end / 1024:.1f} MiB"
    )


if __name__ == "__main__":
    main()
