"""The result cache's key on the Score path: ``cache_key`` against hashing each field's repr.

The key is computed on the server's event loop for every Score that may be
cached, so its cost is per request. The baseline, in the same run, is the
previous way (sha256 over the repr of each field): repr escapes every byte of
a test's input and output and of a judge's files, so it grows with the data.

    python3 bench/cache_key.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rlce_server.domain import Job, JudgeSpec, Limits, StdioSpec, TestCase  # noqa: E402
from rlce_server.scheduling.cache import NOT_KEYED, cache_key  # noqa: E402

TESTLIB = ROOT.parent / "shared" / "datasets" / "testlib" / "testlib.h"
LIMITS = Limits(
    time_limit_s=1.0, wall_time_limit_s=3.0, memory_limit_mb=256, output_limit_bytes=1 << 20, total_time_limit_s=60.0
)


def repr_key(job: Job, image_digest: str) -> str:
    """The baseline: sha256 over the repr of every keyed field."""
    h = hashlib.sha256(image_digest.encode())
    for f in dataclasses.fields(job):
        if f.name not in NOT_KEYED:
            data = repr(getattr(job, f.name)).encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def jobs() -> list[tuple[str, Job]]:
    small = tuple(TestCase(f"t{i}", 1.0, StdioSpec(b"1 2\n" * 200, b"3\n" * 200)) for i in range(50))
    big = tuple(TestCase(f"t{i}", 1.0, StdioSpec(bytes(range(256)) * 400, b"3 " * 50_000)) for i in range(20))
    checker = JudgeSpec("cpp", "int main() {}", (("testlib.h", TESTLIB.read_bytes()),), LIMITS)
    return [
        ("1 stdio test", Job("r", "python", "print(1)", small[:1], LIMITS)),
        ("50 stdio tests of 1.2 KB", Job("r", "python", "print(1)", small, LIMITS)),
        ("the same + a C++ checker with testlib.h", Job("r", "python", "print(1)", small, LIMITS, checker=checker)),
        ("20 stdio tests of 200 KB", Job("r", "python", "print(1)", big, LIMITS)),
    ]


def per_call_ms(fn: object, job: Job, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn(job, "python=sha256:x")  # type: ignore[operator]
    return (time.perf_counter() - start) / repeat * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    table = Table(title=f"cache key per Score, ms (mean of {args.repeat})")
    for col in ("request", "repr of each field (baseline)", "cache_key", "baseline / cache_key"):
        table.add_column(col, justify="right")
    for name, job in jobs():
        base = per_call_ms(repr_key, job, args.repeat)
        ours = per_call_ms(cache_key, job, args.repeat)
        table.add_row(name, f"{base:.3f}", f"{ours:.3f}", f"{base / ours:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
