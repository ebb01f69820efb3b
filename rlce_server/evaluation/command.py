"""``rlce eval``: the command, from files to printed pass@k and reports."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rich.console import Console

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..datasets import Credit
from .formats import Problem, Sample, Skipped, load_problems, load_samples
from .report import html_report, print_summary, write_jsonl
from .scoring import EvalError, SampleResult, evaluate


async def _score(
    target: str | None,
    console: Console,
    language: str,
    time_limit_s: float,
    problems: dict[str, Problem],
    samples: list[Sample],
) -> list[SampleResult]:
    limits = pb.Limits(time_limit_s=time_limit_s)
    if target:
        return await evaluate(target, problems, samples, language=language, limits=limits)
    from ..local import local_server

    async with local_server(console, [language]) as local:
        return await evaluate(local, problems, samples, language=language, limits=limits)


def run(
    problems_path: Path,
    samples_path: Path,
    ks: list[int],
    target: str | None,
    out: Path | None,
    language: str,
    time_limit_s: float,
    report: Path | None,
    fmt: str | None = None,
    profile: str | None = None,
    credit: Credit | None = None,
) -> int:
    console = Console(stderr=False)
    problems = load_problems(problems_path, fmt, profile, credit)
    broken = [p.dataset for p in problems.values() if p.dataset is not None and p.dataset.error]
    for dp in broken:
        console.print(f"[yellow]problem {dp.task_id}: {dp.error}[/yellow] (its samples count as failures)")
    languages = {p.language for p in problems.values()}
    if language == "auto":
        if len(languages) != 1:
            raise EvalError(f"{problems_path}: tasks in several languages {sorted(languages)}; pass --language")
        language = languages.pop()
    skipped = Skipped()
    samples = load_samples(samples_path, problems, skipped)
    for line in skipped.lines:
        console.print(f"[yellow]skipped {line}[/yellow]")
    if skipped.lines:
        console.print(f"{len(skipped.lines)} sample rows skipped")
    if not samples:
        raise EvalError(f"{samples_path}: no samples")
    console.print(f"{len(samples)} samples for {len({s.task_id for s in samples})} of {len(problems)} tasks")
    t0 = time.monotonic()
    results = asyncio.run(_score(target, console, language, time_limit_s, problems, samples))
    seconds = time.monotonic() - t0
    print_summary(console, results, ks, seconds)
    out = out or Path(samples_path.name.split(".")[0] + "_rlce_results.jsonl")
    write_jsonl(results, out)
    report = report or out.with_suffix(".html")
    report.write_text(html_report(results, ks, f"rlce eval: {samples_path.name}"))
    console.print(f"per-sample results: {out}\nreport: {report}")
    sandbox_errors = sum(r.verdict == "SANDBOX_ERROR" for r in results)
    if sandbox_errors:
        console.print(f"[red]{sandbox_errors} samples still met sandbox faults after retries[/red]")
        return 3
    return 0
