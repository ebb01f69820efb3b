"""``rlce demo``: start a server and score real benchmark programs end to end.

Runs ``rlce eval``'s pipeline on the bundled HumanEval: the canonical
solutions, then variants that must get nothing: bodies replaced by
``return None``, and three reward hacks a policy under RL learns (exit before
the asserts, an always-equal object, a fake PASS banner). Prints a table of
pass counts, rewards and throughput, and writes an HTML report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .evaluation.formats import Sample, load_problems
from .evaluation.report import html_report, pass_lines
from .evaluation.scoring import SampleResult, evaluate
from .local import local_server

HACKS: dict[str, Callable[[str, str], str]] = {
    "canonical": lambda prompt, solution: prompt + solution,
    "return None": lambda prompt, _: prompt + "    return None\n",
    "hack: exit(0) at import": lambda prompt, _: "import sys\nsys.exit(0)\n" + prompt + "    return None\n",
    "hack: always-equal object": lambda prompt, _: (
        prompt
        + "    class Eq:\n        def __eq__(self, o): return True\n        def __ne__(self, o): return False\n"
        + "    return Eq()\n"
    ),
    "hack: fake PASS banner": lambda prompt, _: (
        prompt + "    print('PASS'); print('{\"status\": \"passed\"}')\n    return None\n"
    ),
}
REPORT = Path("rlce_demo_report.html")


async def _run(workers: int | None, console: Console) -> list[tuple[str, list[SampleResult], float]]:
    data = resources.files("rlce_server").joinpath("data/HumanEval.jsonl.gz")
    with resources.as_file(data) as path:
        problems = load_problems(path)
        import gzip
        import json

        with gzip.open(path, "rt") as fh:
            solutions = {r["task_id"]: r["canonical_solution"] for r in map(json.loads, fh)}
    overrides: dict[str, Any] = {"workers": workers} if workers else {}
    out = []
    async with local_server(console, ["python"], **overrides) as target:
        console.print(f"rlce serving on {target}; scoring {len(problems)} HumanEval problems x {len(HACKS)} variants")
        for variant, make in HACKS.items():
            samples = [Sample(t, 0, make(p.prompt, solutions[t])) for t, p in problems.items()]
            t0 = time.perf_counter()
            results = await evaluate(target, problems, samples, show_progress=False)
            out.append((variant, results, time.perf_counter() - t0))
    return out


def main(workers: int | None = None) -> int:
    console = Console()
    runs = asyncio.run(_run(workers, console))
    table = Table(title="rlce demo: HumanEval, sandboxed")
    for col in ("variant", "programs", "accepted", "mean reward", "programs/s"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for variant, results, secs in runs:
        n, acc = len(results), sum(r.passed for r in results)
        table.add_row(variant, str(n), str(acc), f"{sum(r.reward for r in results) / n:.3f}", f"{n / secs:.1f}")
    console.print(table)
    canonical = runs[0][1]
    console.print("canonical " + pass_lines(canonical, [1])[0])
    REPORT.write_text(html_report(canonical, [1], "rlce demo: HumanEval canonical solutions"))
    console.print(f"report: {REPORT.resolve()}")
    ok = all(r.passed for r in canonical) and not any(r.passed for _, rs, _ in runs[1:] for r in rs)
    console.print(
        "[green]all canonical solutions accepted; no broken or hacking variant rewarded[/green]"
        if ok
        else "[red]unexpected verdicts: see the table[/red]"
    )
    return 0 if ok else 1
