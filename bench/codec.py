"""What the wire codec costs per stdio run: dump and load of a request and of its facts.

    python3 bench/codec.py [--runs 16] [--repeat 5]

A RunBatch of ``--runs`` ExecRuns (what the host sends for a C++ stdio batch)
and a BatchFacts of as many RunFacts (what the runner answers), through
``protocol.dump``/``load`` and JSON as the two ends use them; the best of
``--repeat`` timings, in microseconds per run. Copy it into another checkout to
compare codecs (it imports the checkout's own ``rlce_runner.protocol``).
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "rlce_server" / "sandbox"))

from rlce_runner import protocol  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    limits = protocol.TestLimits(wall_s=2.0, cpu_s=1.5, memory_mb=64, output_bytes=1024)
    run = protocol.ExecRun(program=protocol.Launch("ab" * 32, ["{build}/prog"]), stdin=b"123456\n", limits=limits)
    batch = protocol.RunBatch([run] * args.runs, 10.0, True)
    fact = protocol.RunFacts(
        outcome=protocol.Outcome.EXITED,
        wall_s=0.002,
        program=protocol.ProcessFacts(stdout=b"1 123455\n", cpu_s=0.001, maxrss_kb=1000),
        cpu_s=0.001,
        peak_memory_kb=1000,
    )
    facts = protocol.BatchFacts([fact] * args.runs)
    request_data = json.loads(json.dumps(protocol.dump(batch)))
    facts_data = json.loads(json.dumps(protocol.dump(facts)))
    steps = {
        "dump the request (host)": lambda: protocol.dump(batch),
        "load the request (runner)": lambda: protocol.load(protocol.Request, request_data),
        "dump the facts (runner)": lambda: protocol.dump(facts),
        "load the facts (host)": lambda: protocol.load(protocol.BatchFacts, facts_data),
    }
    table = Table(title=f"wire codec, µs per run (batches of {args.runs}, best of {args.repeat})")
    table.add_column("step")
    table.add_column("µs per run", justify="right")
    total = 0.0
    for name, fn in steps.items():
        n = 200
        us = min(timeit.repeat(fn, number=n, repeat=args.repeat)) / n / args.runs * 1e6
        total += us
        table.add_row(name, f"{us:.1f}")
    table.add_row("all four", f"{total:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
