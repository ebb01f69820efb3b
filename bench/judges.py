"""Problems with a checker: rlce against a plain loop on the host, in the same run.

One multi-answer problem (print two positive integers that sum to n) with 50
stdio tests and a checker, in each language: a Python program with a Python
checker, a C++ program with a C++ testlib checker. rlce (a real server, one
sandbox per core, ``no_cache``) scores N copies of the program over
``ScoreStream``: each is built once, its tests and the checker runs stream in
its sandbox. The baseline is what a script on the host would do: build the
program once (g++, same flags), then per test run it and run the checker
on its output (the checker built once), two programs at once. Interleaved
rounds, the median round reported.

    python3 bench/judges.py [--languages python,cpp] [--programs 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import start_server  # noqa: E402

from rlce_server.client import Client, pb, stdio  # noqa: E402

TESTLIB = ROOT.parent / "shared" / "datasets" / "testlib" / "testlib.h"
TESTS = 50

PY_PROGRAM = "n = int(input())\nprint(1, n - 1)  # variant {k}\n"
PY_CHECKER = """import sys
n = int(open(sys.argv[1]).read())
out = open(sys.argv[2]).read().split()
if len(out) != 2 or not all(t.isdigit() for t in out):
    sys.exit(2)
a, b = map(int, out)
sys.exit(0 if a > 0 and b > 0 and a + b == n else 1)
"""
CPP_PROGRAM = (
    '#include <cstdio>\nint main() { long long n; std::scanf("%lld", &n); std::printf("1 %lld\\n", n - 1); }  // {k}\n'
)
CPP_CHECKER = """#include "testlib.h"
int main(int argc, char* argv[]) {
    registerTestlibCmd(argc, argv);
    long long n = inf.readLong();
    long long a = ouf.readLong(1, n), b = ouf.readLong(1, n);
    if (a + b != n) quitf(_wa, "%lld + %lld != %lld", a, b, n);
    quitf(_ok, "ok");
}
"""
CPP_FLAGS = ["-std=c++17", "-O2", "-pipe"]


def problem(seed: int = 7) -> list[pb.TestCase]:
    rng = random.Random(seed)
    tests = []
    for i in range(TESTS):
        n = rng.randint(2, 10**12)
        tests.append(stdio(f"{n}\n", f"1 {n - 1}\n", name=str(i)))
    return tests


def checker(language: str) -> pb.JudgeProgram:
    if language == "python":
        return pb.JudgeProgram(language="python", source=PY_CHECKER)
    return pb.JudgeProgram(language="cpp", source=CPP_CHECKER, files={"testlib.h": TESTLIB.read_bytes()})


def program(language: str, k: int) -> str:
    return (PY_PROGRAM if language == "python" else CPP_PROGRAM).replace("{k}", str(k))


def rlce_round(target: str, language: str, n: int, offset: int) -> tuple[float, int]:
    tests, judge = problem(), checker(language)
    reqs = []
    for k in range(n):
        req = pb.ScoreRequest(
            request_id=str(k), language=language, program=program(language, offset + k), tests=tests, checker=judge
        )
        req.policy.no_cache = True
        reqs.append(req)
    t0 = time.perf_counter()
    with Client(target) as client:
        ok = sum(r.verdict == pb.ACCEPTED for r in client.score_stream(reqs, timeout_s=3600))
    return time.perf_counter() - t0, ok


def bare_one(language: str, k: int, work: Path, checker_cmd: list[str]) -> bool:
    """Build once, then per test: run the program, run the checker on its output."""
    d = Path(tempfile.mkdtemp(dir=work))
    if language == "python":
        (d / "main.py").write_text(program(language, k))
        run = [sys.executable, str(d / "main.py")]
    else:
        (d / "main.cpp").write_text(program(language, k))
        subprocess.run(["g++", *CPP_FLAGS, "-o", str(d / "prog"), str(d / "main.cpp")], check=True)
        run = [str(d / "prog")]
    ok = True
    for t in problem():
        out = subprocess.run(run, input=t.stdio.stdin, capture_output=True, timeout=10).stdout
        (d / "in").write_bytes(t.stdio.stdin)
        (d / "out").write_bytes(out)
        (d / "ans").write_bytes(t.stdio.expected_stdout)
        ok &= (
            subprocess.run(
                [*checker_cmd, str(d / "in"), str(d / "out"), str(d / "ans")], capture_output=True
            ).returncode
            == 0
        )
    return ok


def bare_round(language: str, n: int, offset: int, workers: int, work: Path) -> tuple[float, int]:
    if language == "python":
        (work / "checker.py").write_text(PY_CHECKER)
        checker_cmd = [sys.executable, str(work / "checker.py")]
    else:
        (work / "checker.cpp").write_text(CPP_CHECKER)
        (work / "testlib.h").write_bytes(TESTLIB.read_bytes())
        if not (work / "checker").exists():
            subprocess.run(["g++", *CPP_FLAGS, "-o", str(work / "checker"), str(work / "checker.cpp")], check=True)
        checker_cmd = [str(work / "checker")]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        ok = sum(pool.map(lambda k: bare_one(language, offset + k, work, checker_cmd), range(n)))
    return time.perf_counter() - t0, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--languages", default="python,cpp")
    ap.add_argument("--programs", type=int, default=8, help="programs per round, each with the 50 tests")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    languages = args.languages.split(",")
    console = Console()
    runtimes = json.dumps(sorted(set(languages) | {"python"}))
    proc, target, _ = start_server(args.workers, RLCE_RUNTIMES=runtimes)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for language in languages:
                rlce_round(target, language, 1, 10**6)  # judges built and checked, sandboxes warm
                bare_s, rlce_s = [], []
                for r in range(args.rounds):
                    b, bok = bare_round(language, args.programs, r * 1000, args.workers, work)
                    s, sok = rlce_round(target, language, args.programs, r * 1000)
                    assert bok == sok == args.programs, (language, bok, sok)
                    bare_s.append(b)
                    rlce_s.append(s)
                b, s = statistics.median(bare_s), statistics.median(rlce_s)
                rows.append(
                    (
                        language,
                        args.programs / b,
                        args.programs * TESTS / b,
                        args.programs / s,
                        args.programs * TESTS / s,
                        b / s,
                    )
                )
    finally:
        proc.terminate()
        proc.wait(60)
    title = f"a problem with {TESTS} stdio tests and a checker ({args.workers} at once, median of {args.rounds} rounds)"
    table = Table(title=title)
    for col in ("language", "host loop prog/s", "host loop tests/s", "rlce prog/s", "rlce tests/s", "rlce vs host"):
        table.add_column(col, justify="right")
    for language, bp, bt, sp, st, ratio in rows:
        table.add_row(language, f"{bp:.2f}", f"{bt:.0f}", f"{sp:.2f}", f"{st:.0f}", f"{ratio:.2f}x")
    console.print(table)


if __name__ == "__main__":
    main()
