"""Runs a job: admission, a leased sandbox, each test, grading, reward.

A fault of ours (SandboxFault) is retried once, from the start, on a fresh
sandbox; if it happens again the answer is SANDBOX_ERROR for that request
only. A candidate's failure is always a verdict, never a fault.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

from .. import rewards
from ..config import Settings
from ..domain import AssertSpec, CallSpec, Job, ScoreResult, StdioSpec, TestOutcome, Verdict
from ..errors import Overloaded, SandboxFault
from ..graders import grade
from ..metrics import Metrics
from ..runtimes import RuntimeSpec
from ..sandbox.backend import Sandbox
from . import builds
from .pool import Pool

log = logging.getLogger("rlce.scorer")
_LIMIT_VERDICTS = {
    Verdict.TIME_LIMIT_EXCEEDED: "time",
    Verdict.MEMORY_LIMIT_EXCEEDED: "memory",
    Verdict.OUTPUT_LIMIT_EXCEEDED: "output",
}


def _runner_message(job: Job, index: int, time_s: float) -> dict[str, Any]:
    spec = job.tests[index].spec
    limits = {
        "time_s": time_s,
        "cpu_s": min(job.limits.cpu_time_limit_s, time_s),
        "memory_mb": job.limits.memory_limit_mb,
        "output_bytes": job.limits.output_limit_bytes,
    }
    msg: dict[str, Any] = {"op": "run", "program": job.program, "limits": limits}
    if isinstance(spec, StdioSpec):
        msg.update(mode="stdio", stdin=base64.b64encode(spec.stdin).decode())
    elif isinstance(spec, CallSpec):
        msg.update(mode="call", entry=spec.entry_point, args=spec.args_json)
    elif isinstance(spec, AssertSpec):
        msg.update(mode="assert", code=spec.code)
    return msg


class Scorer:
    def __init__(
        self,
        settings: Settings,
        pools: dict[str, Pool],
        digests: dict[str, str],
        metrics: Metrics,
        specs: dict[str, RuntimeSpec] | None = None,
    ) -> None:
        self.settings = settings
        self.specs = specs or {}
        self.pools = pools
        self.digests = digests
        self.metrics = metrics
        self.waiting = 0
        metrics.watch_queue(lambda: self.waiting)

    def runtime_label(self, language: str) -> str:
        pool = self.pools[language]
        return f"{language} {pool.version} image {self.digests.get(language, '')[:19]}"

    async def score(self, job: Job, *, admit_or_fail: bool, owner: str = "") -> ScoreResult:
        """Score a job; ``admit_or_fail`` raises Overloaded past the queue bound.

        ``owner`` (a stream or a client connection) is what the pool shares
        sandboxes fairly between."""
        if admit_or_fail and self.waiting >= self.settings.queue_size:
            raise Overloaded(f"more than {self.settings.queue_size} requests are waiting")
        start = time.monotonic()
        result = None
        for attempt in (1, 2):
            try:
                result = await self._attempt(job, start, owner)
                break
            except SandboxFault as exc:
                self.metrics.sandbox_failures.labels(job.language, "run").inc()
                log.warning("sandbox fault (attempt %d): %s", attempt, exc, extra={"request_id": job.request_id})
                error = str(exc)
        if result is None:
            result = ScoreResult(
                request_id=job.request_id,
                verdict=Verdict.SANDBOX_ERROR,
                reward=0.0,
                passed=0,
                total=len(job.tests),
                error=f"sandbox failure, retry later: {error}",
            )
        result.total_s = time.monotonic() - start
        result.runtime = self.runtime_label(job.language)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "scored",
                extra={
                    "request_id": job.request_id,
                    "language": job.language,
                    "verdict": result.verdict.name,
                    "reward": result.reward,
                    "seconds": round(result.total_s, 4),
                },
            )
        self.metrics.verdicts.labels(job.language, result.verdict.name).inc()
        if result.verdict is not Verdict.SANDBOX_ERROR:
            self.metrics.rewards.labels(job.language).observe(result.reward)
        return result

    async def _attempt(self, job: Job, start: float, owner: str) -> ScoreResult:
        pool = self.pools[job.language]
        self.waiting += 1
        try:
            sandbox = await pool.lease(owner)
        finally:
            self.waiting -= 1
        leased = time.monotonic()
        queue_s = leased - start
        self.metrics.queue_wait.labels(job.language).observe(queue_s)
        clean = False
        compiled = builds.Builds(self.specs.get(job.language), job)
        try:
            outcomes = await self._run_tests(sandbox, job, compiled)
            clean = await sandbox.reset(self.settings.runner_reply_margin_s)
            for kind, count in sandbox.last_removed.items():
                if count:
                    self.metrics.leftovers.labels(job.language, kind).inc(count)
        finally:
            # cancelled or broken mid-job: the sandbox is replaced, never reused;
            # one fresh container per job for the most cautious (--isolation container)
            reusable = clean and self.settings.isolation == "pool"
            pool.give_back(sandbox, reusable=reusable, reason="isolation" if clean else "broken")
        run_s = time.monotonic() - leased
        self.metrics.run_duration.labels(job.language).observe(run_s)
        verdict = rewards.overall_verdict(outcomes)
        if any(o.verdict is Verdict.COMPILE_ERROR for o in outcomes):
            verdict = Verdict.COMPILE_ERROR
        passed = sum(1 for o in outcomes if o.verdict is Verdict.ACCEPTED)
        compile_msg = next((o.message for o in outcomes if o.verdict is Verdict.COMPILE_ERROR), "")
        if compiled.built_s:
            self.metrics.compile_duration.labels(job.language).observe(compiled.built_s)
        return ScoreResult(
            request_id=job.request_id,
            verdict=verdict,
            reward=rewards.reward(job.reward_mode, verdict, job.tests, outcomes),
            passed=passed,
            total=len(job.tests),
            tests=outcomes,
            queue_s=queue_s,
            run_s=run_s,
            compile_ok=not compile_msg,
            compile_output=compiled.output or compile_msg,
            compile_time_s=compiled.built_s,
        )

    async def _run_tests(self, sandbox: Sandbox, job: Job, compiled: builds.Builds) -> list[TestOutcome]:
        outcomes: list[TestOutcome] = []
        # The request's total time limit covers its tests, from the moment it
        # has a sandbox: never the queue (a long stream must not time out its
        # own tail) nor its builds (they have their own limits).
        deadline = time.monotonic() + job.limits.total_time_limit_s
        stop = dead = False
        for i, test in enumerate(job.tests):
            if stop:
                outcomes.append(TestOutcome(name=test.name, verdict=Verdict.SKIPPED, message="not run"))
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                outcomes.append(
                    TestOutcome(
                        name=test.name,
                        verdict=Verdict.TIME_LIMIT_EXCEEDED,
                        message=f"request total time limit {job.limits.total_time_limit_s}s reached",
                    )
                )
                continue
            time_s = min(job.limits.time_limit_s, left)
            msg = _runner_message(job, i, time_s)
            if compiled.spec is not None:
                before = time.monotonic()
                broken = await compiled.ensure(sandbox, i, self.settings.runner_reply_margin_s)
                deadline += time.monotonic() - before
                if broken is not None:
                    outcomes.append(broken)
                    self.metrics.test_verdicts.labels(job.language, broken.verdict.name).inc()
                    stop = True
                    continue
                msg = compiled.run_message(i, msg)
            try:
                raw = await sandbox.run(msg, time_s + self.settings.runner_reply_margin_s)
            except SandboxFault:
                # The only way a program can end its container is the OOM killer: its verdict.
                if not await asyncio.to_thread(sandbox.oom_killed):
                    raise
                raw = {"outcome": "exited", "oom_killed": True, "signal": 9, "exit_code": -1}
                dead = True
            if raw.get("leftover_processes"):
                self.metrics.leftovers.labels(job.language, "processes").inc(raw["leftover_processes"])
            outcome = grade(test, compiled.annotate(i, raw), job.limits)
            outcomes.append(outcome)
            self.metrics.test_verdicts.labels(job.language, outcome.verdict.name).inc()
            if outcome.verdict in _LIMIT_VERDICTS:
                self.metrics.limit_hits.labels(job.language, _LIMIT_VERDICTS[outcome.verdict]).inc()
            failed = outcome.verdict is not Verdict.ACCEPTED
            stop = dead or outcome.verdict is Verdict.COMPILE_ERROR or (failed and job.stop_on_first_failure)
        return outcomes
