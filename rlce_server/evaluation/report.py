"""What an evaluation prints and writes: pass@k lines, a table by verdict,
per-sample JSONL, and a self-contained HTML report (inline SVG, no scripts)."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .passk import mean_pass_at_k
from .scoring import SampleResult

VERDICT_COLOURS = {
    "ACCEPTED": "#2e7d32", "WRONG_ANSWER": "#c62828", "RUNTIME_ERROR": "#ef6c00",
    "TIME_LIMIT_EXCEEDED": "#6a1b9a", "MEMORY_LIMIT_EXCEEDED": "#283593", "OUTPUT_LIMIT_EXCEEDED": "#00838f",
    "COMPILE_ERROR": "#795548", "SANDBOX_ERROR": "#9e9e9e", "INVALID_REQUEST": "#424242", "SKIPPED": "#bdbdbd",
}  # fmt: skip


def per_task(results: list[SampleResult]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        counts[r.task_id][0] += 1
        counts[r.task_id][1] += int(r.passed)
    return {t: (n, c) for t, (n, c) in counts.items()}


def pass_at(results: list[SampleResult], ks: list[int]) -> dict[int, float]:
    counts = per_task(results)
    smallest = min(n for n, _ in counts.values())
    return {k: mean_pass_at_k(counts.values(), k) for k in ks if k <= smallest}


def pass_lines(results: list[SampleResult], ks: list[int]) -> list[str]:
    passed = sum(r.passed for r in results)
    return [f"pass@{k}: {v:.4f} ({passed}/{len(results)})" for k, v in pass_at(results, ks).items()]


def verdict_table(results: list[SampleResult]) -> Table:
    mix = Counter(r.verdict for r in results)
    table = Table(title="samples by verdict")
    table.add_column("verdict")
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    for verdict, n in mix.most_common():
        table.add_row(verdict, str(n), f"{n / len(results):.1%}")
    return table


def write_jsonl(results: list[SampleResult], path: Path) -> None:
    with path.open("w") as fh:
        for r in results:
            row = {
                "task_id": r.task_id,
                "sample": r.index,
                "verdict": r.verdict,
                "reward": r.reward,
                "passed": r.passed,
                "result": r.human_eval_result(),
                "tests": r.tests,
            }
            if r.extra:
                row["given"] = r.extra
            fh.write(json.dumps(row) + "\n")


def html_report(results: list[SampleResult], ks: list[int], title: str) -> str:
    """A standalone page: pass@k, pass rate per task (bars) and the verdict mix."""
    counts = per_task(results)
    tasks = sorted(counts, key=lambda t: (len(t), t))
    width, height, pad = max(600, 4 * len(tasks)), 220, 30
    bar_w = (width - 2 * pad) / max(len(tasks), 1)
    bars = []
    for i, t in enumerate(tasks):
        n, c = counts[t]
        h = (height - 2 * pad) * c / n
        bars.append(
            f'<rect class="task" data-task="{html.escape(t)}" data-rate="{c / n:.4f}" x="{pad + i * bar_w:.2f}" '
            f'y="{height - pad - h:.2f}" width="{max(bar_w - 1, 1):.2f}" height="{h:.2f}" fill="#2e7d32">'
            f"<title>{html.escape(t)}: {c}/{n}</title></rect>"
        )
    mix = Counter(r.verdict for r in results)
    x = 0.0
    segs, legend = [], []
    for verdict, n in mix.most_common():
        w = 600 * n / len(results)
        colour = VERDICT_COLOURS.get(verdict, "#000")
        segs.append(
            f'<rect class="verdict" data-verdict="{verdict}" data-count="{n}" x="{x:.2f}" y="0" '
            f'width="{w:.2f}" height="24" fill="{colour}"><title>{verdict}: {n}</title></rect>'
        )
        legend.append(f'<li><span style="background:{colour}"></span>{verdict}: {n} ({n / len(results):.1%})</li>')
        x += w
    scores = "".join(f"<li><b>pass@{k}</b> {v:.4f}</li>" for k, v in pass_at(results, ks).items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} ul.legend span{{display:inline-block;width:1em;height:1em;
margin-right:.4em;vertical-align:middle}} ul{{list-style:none;padding:0}} svg{{border:1px solid #ddd}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>{len(results)} samples over {len(tasks)} tasks, scored in rlce sandboxes.</p>
<ul id="scores">{scores}</ul>
<h2>Pass rate per task</h2>
<svg id="per-task" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">
<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#555"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#555"/>
<text x="2" y="{pad + 4}" font-size="10">100%</text><text x="8" y="{height - pad}" font-size="10">0%</text>
{"".join(bars)}
</svg>
<h2>Verdict mix</h2>
<svg id="verdicts" xmlns="http://www.w3.org/2000/svg" width="600" height="24">{"".join(segs)}</svg>
<ul class="legend">{"".join(legend)}</ul>
</body></html>
"""


def print_summary(console: Console, results: list[SampleResult], ks: list[int], seconds: float) -> None:
    console.print(verdict_table(results))
    for line in pass_lines(results, ks):
        console.print(line)
    console.print(f"{len(results)} samples in {seconds:.1f}s ({len(results) / max(seconds, 1e-9):.1f} samples/s)")
