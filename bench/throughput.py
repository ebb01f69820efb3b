"""Throughput of rlce against running the same programs bare, in one run.

    python bench/throughput.py [--repeat 3] [--workers N] [--stream-requests 10000]

Baseline: each HumanEval canonical program (prompt + solution + test +
check) run as a bare ``/usr/bin/python3`` subprocess, as many at once as
there are cores. rlce: the same programs as assertion tests through
``ScoreStream`` of a real server started in its own process, fully
sandboxed:

* cold  -- the first pass right after the server reports SERVING
  (``no_cache``; the server's start-up time is printed too);
* warm  -- the same pass again, ``no_cache``: every program really runs;
  ``--rounds`` rounds of (bare, warm) back to back, each ratio taken between
  neighbours and the median round reported (this VM drifts by tens of
  percent over minutes);
* cached -- the same pass twice with the cache on; the second is timed.

Then the unary ``Score`` latency of a trivial program (idle, and with the
pool saturated by other clients), 10,000 requests on one stream with the
server's RSS at start, peak and end, and the memory of each warm sandbox.
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


def start_server(workers: int, **extra_env: str) -> tuple[subprocess.Popen, str, float]:
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
    t0 = time.perf_counter()
    try:
        wait_serving(target, alive=lambda: proc.poll() is None)
    except (RuntimeError, TimeoutError) as exc:
        raise SystemExit(f"{exc} (run `rlce serve` by hand to see its log)") from None
    return proc, target, time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def timed_stream(client: Client, reqs: list[pb.ScoreRequest]) -> tuple[float, int, list[float], int]:
    """Wall time, programs accepted, per-request latency (send to answer), answers cached."""
    sent: dict[str, float] = {}

    def feed():
        for r in reqs:
            sent[r.request_id] = time.perf_counter()
            yield r

    lat, ok, cached = [], 0, 0
    t0 = time.perf_counter()
    for resp in client.score_stream(feed()):
        lat.append(time.perf_counter() - sent[resp.request_id])
        ok += resp.verdict == pb.ACCEPTED
        cached += resp.cached
    return time.perf_counter() - t0, ok, lat, cached


def sandbox_memory_mib(instance_filter: str) -> list[float]:
    import docker

    engine = docker.from_env()
    out = []
    for c in engine.containers.list(filters={"label": instance_filter}):
        stats = c.stats(stream=False)["memory_stats"]
        cache = stats.get("stats", {}).get("cache", 0) or stats.get("stats", {}).get("inactive_file", 0)
        out.append((stats.get("usage", 0) - cache) / 2**20)
    return out


TRIVIAL_PROGRAM = "def f(x):\n    return x + 1\n"


def trainer_stream(target: str, make_reqs, stop: threading.Event) -> None:
    """Another trainer: HumanEval on one ScoreStream, 64 in flight, until stopped."""
    with Client(target) as c:
        while not stop.is_set():
            reqs = make_reqs(f"load{time.monotonic_ns()}-", True)
            for _ in c.score_stream(r for r in reqs if not stop.is_set()):
                pass


def slow_clients(target: str, n: int, stop: threading.Event) -> None:
    """n other clients, each running 50 ms jobs back to back."""

    def one() -> None:
        slow = "import time\ndef f(x):\n    time.sleep(0.05)\n    return x + 1\n"
        with Client(target) as c:
            while not stop.is_set():
                c.score("python", slow, [call("f", [1], 2)], no_cache=True)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def latency_under_load(target: str, args: argparse.Namespace, load) -> list[float]:
    """Unary latency of a trivial program while ``load`` keeps every sandbox busy."""
    stop = threading.Event()
    loader = threading.Thread(target=load, args=(stop,))
    loader.start()
    time.sleep(1.0)
    out = []
    with Client(target) as client:
        for _ in range(min(args.latency_calls, 200)):
            t = time.perf_counter()
            client.score("python", TRIVIAL_PROGRAM, [call("f", [1], 2)], no_cache=True)
            out.append(time.perf_counter() - t)
    stop.set()
    loader.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3, help="HumanEval passes per measurement")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="bare runs at once")
    ap.add_argument("--sandboxes", type=int, default=None, help="rlce pool size (default: --workers)")
    ap.add_argument("--latency-calls", type=int, default=300)
    ap.add_argument("--stream-requests", type=int, default=10_000, help="requests on one stream for the RSS check")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of (bare, rlce warm) back to back")
    ap.add_argument(
        "--hardening-cost", action="store_true", help="also run rlce without the stacked seccomp filter, to price it"
    )
    args = ap.parse_args()
    rows = humaneval() * args.repeat
    console = Console(width=160)

    def make_reqs(tag: str, no_cache: bool) -> list[pb.ScoreRequest]:
        return [
            request(
                "python",
                r["prompt"] + r["canonical_solution"],
                [assertion(r["test"] + f"\ncheck({r['entry_point']})\n")],
                request_id=f"{tag}{i}",
                no_cache=no_cache,
            )
            for i, r in enumerate(rows)
        ]

    with console.status("bare /usr/bin/python3 subprocesses"):
        bare_first_s, bare_ok = bare(rows, args.workers)
    with console.status("starting rlce"):
        instance = f"bench{os.getpid()}"
        proc, target, startup_s = start_server(args.sandboxes or args.workers, RLCE_INSTANCE_ID=instance)
    results: list[tuple[str, float, int, list[float], int, int]] = []
    bare_runs = [bare_first_s]
    warm_rounds: list[tuple[float, tuple[str, float, int, list[float], int, int]]] = []
    try:
        rss_start, _ = rss_kb(proc.pid)
        with Client(target) as client:
            with console.status("rlce cold"):
                secs, ok, lat, cached = timed_stream(client, make_reqs("c", True))
            cold = ("rlce cold (first pass after start)", secs, ok, lat, cached, rss_kb(proc.pid)[0])
            # Rounds of (bare, rlce warm) back to back: this VM's speed drifts
            # by tens of percent over minutes, so each ratio is taken between
            # neighbours and the median round is reported.
            for r in range(args.rounds):
                with console.status(f"round {r + 1}: bare"):
                    bare_runs.append(bare(rows, args.workers)[0])
                with console.status(f"round {r + 1}: rlce warm"):
                    secs, ok, lat, cached = timed_stream(client, make_reqs(f"w{r}-", True))
                warm_rounds.append((bare_runs[-1], ("rlce warm (no_cache), median round", secs, ok, lat, cached,
                                                    rss_kb(proc.pid)[0])))  # fmt: skip
            with console.status("rlce cached"):
                timed_stream(client, make_reqs("f", False))  # fills the cache
                secs, ok, lat, cached = timed_stream(client, make_reqs("h", False))
            cached_row = ("rlce cached", secs, ok, lat, cached, rss_kb(proc.pid)[0])
            with console.status("unary latency"):
                trivial = [call("f", [1], 2)]
                lat_idle = []
                for _ in range(args.latency_calls):
                    t = time.perf_counter()
                    assert client.score("python", TRIVIAL_PROGRAM, trivial, no_cache=True).verdict == pb.ACCEPTED
                    lat_idle.append(time.perf_counter() - t)
                lat_stream = latency_under_load(target, args, lambda stop: trainer_stream(target, make_reqs, stop))
                lat_busy = latency_under_load(target, args, lambda stop: slow_clients(target, args.workers * 2, stop))
            sandbox_mib = sandbox_memory_mib(f"rlce.server={instance}")
            with console.status(f"{args.stream_requests} requests on one stream"):
                n_stream = args.stream_requests
                peak = [rss_kb(proc.pid)[0]]
                watching = threading.Event()

                def watch() -> None:
                    while not watching.is_set():
                        peak.append(rss_kb(proc.pid)[0])
                        time.sleep(0.2)

                stream_start_rss = rss_kb(proc.pid)[0]
                watcher = threading.Thread(target=watch)
                watcher.start()
                stream_reqs = (
                    request("python", f"def f(x):\n    return x + {i % 1000}\n", [call("f", [i], i + i % 1000)],
                            request_id=str(i), no_cache=True)
                    for i in range(n_stream)
                )  # fmt: skip
                t0 = time.perf_counter()
                answers = bad = 0
                for resp in client.score_stream(stream_reqs):
                    answers += 1
                    bad += resp.verdict != pb.ACCEPTED
                stream_s = time.perf_counter() - t0
                watching.set()
                watcher.join()
                stream_end_rss = rss_kb(proc.pid)[0]
        rss_end, rss_peak = rss_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)

    bare_s = statistics.median(bare_runs)
    ratios = sorted((b / row[1], b, row) for b, row in warm_rounds)
    _, warm_bare_s, warm_row = ratios[len(ratios) // 2]

    if args.hardening_cost:
        with console.status("rlce without the stacked seccomp filter"):
            proc2, target2, _ = start_server(args.sandboxes or args.workers, RLCE_EXTRA_SECCOMP="false")
            try:
                with Client(target2) as client:
                    timed_stream(client, make_reqs("x", True))  # warm-up
                    secs, ok, lat, cached = timed_stream(client, make_reqs("s", True))
                    results.append(("rlce warm, stacked seccomp off", secs, ok, lat, cached, rss_kb(proc2.pid)[0]))
            finally:
                proc2.terminate()
                proc2.wait(60)

    n = len(rows)
    table = Table(
        title=f"HumanEval canonical x{args.repeat} ({n} programs) via ScoreStream, {args.workers} workers / "
        f"{args.sandboxes or args.workers} sandboxes, {os.cpu_count()} cores"
    )
    for col in ("run", "passed", "cached", "wall s", "programs/s", "p50 ms", "p99 ms", "server RSS MiB", "vs bare"):
        table.add_column(col, justify="right" if col != "run" else "left")
    table.add_row(
        f"bare /usr/bin/python3, {args.workers} at once (median of {len(bare_runs)} runs)", str(bare_ok), "-",
        f"{bare_s:.2f}", f"{n / bare_s:.1f}", "-", "-", "-", "1.00x",
    )  # fmt: skip
    # each rlce row against the bare run next to it
    for baseline, (label, secs, ok, lat, cached, rss) in [
        (bare_first_s, cold), (warm_bare_s, warm_row), (bare_s, cached_row), *((bare_s, r) for r in results)
    ]:  # fmt: skip
        table.add_row(
            label, str(ok), str(cached), f"{secs:.2f}", f"{n / secs:.1f}",
            f"{statistics.median(lat) * 1000:.0f}", f"{percentile(lat, 0.99) * 1000:.0f}",
            f"{rss / 1024:.1f}", f"{baseline / secs:.2f}x",
        )  # fmt: skip
    console.print(table)
    console.print(
        "rounds (bare programs/s -> rlce warm programs/s = ratio): "
        + "; ".join(f"{n / b:.1f} -> {n / row[1]:.1f} = {b / row[1]:.2f}x" for b, row in warm_rounds)
    )
    lat = Table(title="unary Score, trivial program (call test, no_cache)")
    for col in ("load", "calls", "p50 ms", "p99 ms"):
        lat.add_column(col, justify="right" if col != "load" else "left")
    for label, values in (
        ("idle", lat_idle),
        ("pool saturated by another trainer's HumanEval stream (64 in flight)", lat_stream),
        (f"pool saturated by {args.workers * 2} other clients of 50 ms jobs", lat_busy),
    ):
        lat.add_row(
            label,
            str(len(values)),
            f"{statistics.median(values) * 1000:.1f}",
            f"{percentile(values, 0.99) * 1000:.1f}",
        )
    console.print(lat)
    console.print(f"server start-up to SERVING: {startup_s:.1f} s")
    console.print(
        f"{n_stream} requests on one stream: {answers} answered, {bad} not ACCEPTED, {stream_s:.1f} s "
        f"({n_stream / stream_s:.0f}/s); server RSS start {stream_start_rss / 1024:.1f} MiB, "
        f"peak {max(peak) / 1024:.1f} MiB, end {stream_end_rss / 1024:.1f} MiB"
    )
    console.print(
        f"server RSS over the whole run: start {rss_start / 1024:.1f}, peak {rss_peak / 1024:.1f}, "
        f"end {rss_end / 1024:.1f} MiB"
    )
    if sandbox_mib:
        console.print(
            f"memory per warm sandbox (container cgroup, page cache excluded): "
            f"{', '.join(f'{m:.1f}' for m in sandbox_mib)} MiB"
        )


if __name__ == "__main__":
    main()
