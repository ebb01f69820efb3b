"""What the zygote's size costs each forked process, and what each preload adds to it.

    python3 bench/forkcost.py [--forks 300] [--rounds 3]

Every Python test is two processes forked from the zygote (the program server
and the test driver). A fork copies the page-table entries of the parent's
anonymous memory and the exit tears them down again, so their price grows
with the zygote's anonymous RSS, whatever the child does. A profile of a
saturated HumanEval stream (``perf record -a -g -e cpu-clock``) put ``fork``
and ``exit_group`` at about a sixth of the sandboxes' CPU; this bench prices
that part alone, on the host's ``/usr/bin/python3`` (the interpreter the
image has):

* fork + immediate ``_exit`` + ``waitpid``, CPU per process, for a bare
  interpreter and for one that imported what the zygote imports (the
  runtime's ``preload`` list and the zygote's own modules), the ratio per MB;
* each of those modules' own addition to the anonymous RSS, largest first,
  imported alone in a fresh interpreter (a module another one imports first
  is counted there).

Rounds alternate bare and preloaded, and the median round is printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rlce_server.sandbox.rlce_runner.zygote import ALWAYS  # noqa: E402

PYTHON = "/usr/bin/python3"
RUNNER = "rlce_server.sandbox.rlce_runner"
# the runner's own code the zygote imports for its children (zygote.main), with what it imports
ZYGOTE_CODE = [f"{RUNNER}.{m}" for m in ("zygote", "program_server", "session_process", "test_driver")]

FORKS = """
import gc, os, sys, time
sys.path.insert(0, sys.argv[2])
for m in sys.argv[3:]:
    __import__(m)
gc.collect(); gc.freeze()
anon = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("RssAnon"))
n = int(sys.argv[1])
t0 = os.times()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
t1 = os.times()
cpu = sum(t1[:4]) - sum(t0[:4])
print(anon, cpu / n * 1e3)
"""

SIZE = """
import sys
sys.path.insert(0, sys.argv[2])
def anon():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("RssAnon"))
before = anon()
__import__(sys.argv[1])
print(anon() - before)
"""


def preloads() -> list[str]:
    spec = tomllib.loads((ROOT / "sandbox_images" / "python" / "runtime.toml").read_text())
    return list(dict.fromkeys(ALWAYS + list(spec["preload"]) + ZYGOTE_CODE))


def forks(n: int, modules: list[str]) -> tuple[int, float]:
    out = subprocess.run(
        [PYTHON, "-I", "-c", FORKS, str(n), str(ROOT), *modules], capture_output=True, text=True, check=True
    )
    anon, ms = out.stdout.split()
    return int(anon), float(ms)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--forks", type=int, default=300, help="forks per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    modules = preloads()
    bare, loaded = [], []
    for _ in range(args.rounds):
        bare.append(forks(args.forks, []))
        loaded.append(forks(args.forks, modules))
    b_anon, b_ms = bare[0][0], statistics.median(ms for _, ms in bare)
    l_anon, l_ms = loaded[0][0], statistics.median(ms for _, ms in loaded)
    console = Console(width=120)
    table = Table(title=f"fork + exit, CPU per process ({PYTHON}, median of {args.rounds} rounds of {args.forks})")
    for col in ("interpreter", "anonymous RSS kB", "CPU ms per fork+exit"):
        table.add_column(col)
    table.add_row("bare", str(b_anon), f"{b_ms:.3f}")
    table.add_row(f"with the zygote's {len(modules)} modules", str(l_anon), f"{l_ms:.3f}")
    console.print(table)
    per_mb = (l_ms - b_ms) / max(1, (l_anon - b_anon) / 1024)
    console.print(f"{per_mb:.3f} ms per process per MB of the parent's anonymous memory")
    sizes = []
    for m in modules:
        out = subprocess.run([PYTHON, "-I", "-c", SIZE, m, str(ROOT)], capture_output=True, text=True, check=False)
        sizes.append((int(out.stdout.strip() or 0), m))
    table = Table(title="each module alone: its addition to a fresh interpreter's anonymous RSS")
    for col in ("module", "kB", "ms per fork+exit (at the rate above)"):
        table.add_column(col)
    for kb, m in sorted(sizes, reverse=True):
        table.add_row(m.removeprefix(f"{RUNNER}."), str(kb), f"{kb / 1024 * per_mb:.3f}")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
