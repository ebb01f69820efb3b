"""Runs a job: admission, a leased sandbox, each test, grading, reward.

A fault of ours (SandboxFault, or a grader's InfraFault) is retried once,
from the start, on a fresh sandbox; if it happens again the answer is
SANDBOX_ERROR for that request only. A candidate's failure is always a
verdict, never a fault; a broken test of the caller's is INVALID_REQUEST
naming it.

Defence in depth: a request that breaks a fresh sandbox a second time is
run once more with the program replaced by the runtime's own known-good
self-test program -- the same tests, limits and judges. If that control run
works (whatever its verdict) the machinery serves this request's shape and
the program is what breaks it: RUNTIME_ERROR "the program breaks the
sandbox", a failure the trainer learns from -- never SANDBOX_ERROR, which
trainers treat as no reward at all. If the control breaks too, it is ours.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

from .. import rewards
from ..config import Settings
from ..domain import Job, Problem, ScoreResult, TestOutcome, Verdict
from ..errors import InvalidRequest, SandboxFault
from ..graders import BadTest, Context, InfraFault, grade
from ..metrics import Metrics
from ..runtimes import RuntimeSpec
from ..sandbox.backend import Sandbox
from ..sandbox.rlce_runner.protocol import Outcome, ProcessFacts, RunBatch, RunFacts, RunRequest
from .judges import JudgeRefused, Judges, Where
from .plans import JobPlan, plan_for
from .pool import Pool

log = logging.getLogger("rlce.scorer")
HEAVY_REPLY_BYTES = 256 * 1024
# stdio tests per round trip (RunBatch), and what one frame may carry
BATCH_MAX_RUNS = 64
BATCH_MAX_REPLY_BYTES = 24 * 1024 * 1024
BATCH_MAX_STDIN_BYTES = 8 * 1024 * 1024
_LIMIT_VERDICTS = {
    Verdict.TIME_LIMIT_EXCEEDED: "time",
    Verdict.MEMORY_LIMIT_EXCEEDED: "memory",
    Verdict.OUTPUT_LIMIT_EXCEEDED: "output",
}


# What the runner would have said about a test whose container the OOM killer ended.
def _judges_wall(request: RunRequest) -> float:
    """The wall time a run's checker and interactor may take beside the program's."""
    judges = (getattr(request, "checker", None), getattr(request, "interactor", None))
    return float(sum(j.limits.wall_s for j in judges if j is not None))


OOM_KILLED = RunFacts(outcome=Outcome.EXITED, wall_s=0.0, program=ProcessFacts(exit_code=-1, signal=9), oom_killed=True)


class _CallerFault(Exception):
    """A test or judge of the caller's is broken: the request is INVALID_REQUEST."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"tests[{index}]: {reason}" if index >= 0 else reason)


class Scorer:
    def __init__(
        self,
        settings: Settings,
        pools: dict[str, Pool],
        digests: dict[str, str],
        metrics: Metrics,
        specs: dict[str, RuntimeSpec],
        selftests: dict[str, Job] | None = None,
    ) -> None:
        self.settings = settings
        self.specs = specs
        self.selftests = selftests or {}
        self.judges = Judges(specs, settings.runner_reply_margin_s)
        self.pools = pools
        self.digests = digests
        self.metrics = metrics
        self.waiting = 0
        metrics.watch_queue(lambda: self.waiting)

    def runtime_label(self, language: str) -> str:
        pool = self.pools[language]
        return f"{language} {pool.version} image {self.digests.get(language, '')[:19]}"

    async def score(self, job: Job, *, owner: str = "") -> ScoreResult:
        """Score a job (admitted by the API, see ``admission``).

        ``owner`` (a stream or a client connection) is what the pool shares
        sandboxes fairly between."""
        start = time.monotonic()
        result = None
        error = ""
        for attempt in (1, 2):
            try:
                result = await self._attempt(job, start, owner)
                break
            except _CallerFault as exc:
                result = self._answer(job, Verdict.INVALID_REQUEST, str(exc))
                break
            except SandboxFault as exc:
                self.metrics.sandbox_failures.labels(job.language, "run").inc()
                log.warning("sandbox fault (attempt %d): %s", attempt, exc, extra={"request_id": job.request_id})
                error = str(exc)
        if result is None and await self._control_works(job, owner):
            log.warning("the program broke two sandboxes: %s", error, extra={"request_id": job.request_id})
            self.metrics.hacks.labels(job.language, "sandbox_breaking").inc()
            result = self._answer(job, Verdict.RUNTIME_ERROR, f"the program breaks the sandbox: {error}")
            result.tests = [
                TestOutcome(name=t.name, verdict=Verdict.RUNTIME_ERROR, message="the program breaks the sandbox")
                for t in job.tests
            ]
        if result is None:
            result = self._answer(job, Verdict.SANDBOX_ERROR, f"sandbox failure, retry later: {error}")
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

    async def _control_works(self, job: Job, owner: str) -> bool:
        """The same request with the runtime's known-good program: does the machinery serve it?"""
        selftest = self.selftests.get(job.language)
        if selftest is None:
            return False
        control = dataclasses.replace(job, program=selftest.program, request_id=f"{job.request_id}-control")
        try:
            await self._attempt(control, time.monotonic(), owner)
        except (SandboxFault, _CallerFault):
            return False
        return True

    @staticmethod
    def _answer(job: Job, verdict: Verdict, error: str) -> ScoreResult:
        return ScoreResult(
            request_id=job.request_id, verdict=verdict, reward=0.0, passed=0, total=len(job.tests), error=error
        )

    async def _lease_for_judge(self, runtime: str) -> Sandbox:
        if runtime not in self.pools:
            raise _CallerFault(-1, f"judges in {runtime} need the {runtime} runtime, which is not served here")
        return await self.pools[runtime].lease("judges")

    def _give_back_from_judge(self, runtime: str, sandbox: Sandbox, ok: bool) -> None:
        self.pools[runtime].give_back(sandbox, reusable=ok, reason="broken")

    async def _judges_where(self, job: Job) -> dict[str, Where]:
        """Where the job's judges are built (those built elsewhere, built now: before the lease)."""
        found = {}
        for which, judge in (("checker", job.checker), ("interactor", job.interactor)):
            if judge is None:
                continue
            try:
                found[which] = await self.judges.prepare(
                    judge, job.language, which, self._lease_for_judge, self._give_back_from_judge
                )
            except JudgeRefused as exc:
                raise _CallerFault(-1, str(exc)) from None
        return found

    async def _install_judges(self, sandbox: Sandbox, job: Job, plan: JobPlan, where: dict[str, Where]) -> None:
        """The job's judges ready in its sandbox, and its checker known to accept every expected answer."""
        try:
            for which, place in where.items():
                launch = await self.judges.install(sandbox, place, which)
                setattr(plan.judges, which, launch)
            if job.checker is not None and plan.judges.checker is not None:
                call = plan.judges.call("checker", job.checker, b"", b"", job)
                assert call is not None
                await self.judges.validate(sandbox, job.checker, plan.judges.checker, job.tests, call.limits)
        except JudgeRefused as exc:
            raise _CallerFault(-1, str(exc)) from None

    async def check_problem(self, problem: Problem, owner: str) -> None:
        """RegisterTests: build a problem's judges and check its checker against every
        expected answer now (InvalidRequest naming the judge and quoting it if not)."""
        judge = problem.checker or problem.interactor
        assert judge is not None
        spec = self.specs.get(judge.language)
        portable = spec is not None and spec.judge is not None and spec.judge.runs_anywhere
        host = judge.language if judge.language in self.pools else next(iter(self.pools)) if portable else ""
        if not host:
            raise InvalidRequest(f"{'checker' if problem.checker else 'interactor'}.language", "is not served here")
        job = Job(
            request_id="register",
            language=host,
            program="",
            tests=problem.tests,
            limits=self.settings.limits.defaults(),
            checker=problem.checker,
            interactor=problem.interactor,
        )
        for attempt in (1, 2):
            try:
                where = await self._judges_where(job)
                sandbox = await self.pools[host].lease(owner)
                clean = False
                try:
                    await self._install_judges(sandbox, job, plan_for(self.specs[host], job), where)
                    clean = await sandbox.reset(self.settings.runner_reply_margin_s)
                finally:
                    self.pools[host].give_back(sandbox, reusable=clean, reason="broken")
                return
            except _CallerFault as exc:
                raise InvalidRequest(str(exc).split(":", 1)[0], str(exc).split(":", 1)[-1].strip()) from None
            except SandboxFault:
                if attempt == 2:
                    raise

    async def _attempt(self, job: Job, start: float, owner: str) -> ScoreResult:
        pool = self.pools[job.language]
        where = await self._judges_where(job)
        self.waiting += 1
        try:
            sandbox = await pool.lease(owner)
        finally:
            self.waiting -= 1
        leased = time.monotonic()
        queue_s = leased - start
        self.metrics.queue_wait.labels(job.language).observe(queue_s)
        clean = False
        plan = plan_for(self.specs[job.language], job)
        broken_test: _CallerFault | None = None
        try:
            try:
                await self._install_judges(sandbox, job, plan, where)
                outcomes = await self._run_tests(sandbox, job, plan)
            except _CallerFault as exc:  # the sandbox is fine: reset and reused as usual
                broken_test, outcomes = exc, []
            clean = await sandbox.reset(self.settings.runner_reply_margin_s)
            for kind, count in sandbox.last_removed.items():
                if count:
                    self.metrics.leftovers.labels(job.language, kind).inc(count)
        finally:
            # cancelled or broken mid-job: the sandbox is replaced, never reused;
            # one fresh container per job for the most cautious (--isolation container)
            reusable = clean and self.settings.isolation == "pool"
            pool.give_back(sandbox, reusable=reusable, reason="isolation" if clean else "broken")
        if broken_test is not None:
            raise broken_test
        run_s = time.monotonic() - leased
        self.metrics.run_duration.labels(job.language).observe(run_s)
        if plan.built_s:
            self.metrics.compile_duration.labels(job.language).observe(plan.built_s)
        verdict = rewards.overall_verdict(outcomes)
        compile_failed = next((o for o in outcomes if o.verdict is Verdict.COMPILE_ERROR), None)
        return ScoreResult(
            request_id=job.request_id,
            verdict=verdict,
            reward=rewards.reward(job.reward_mode, verdict, job.tests, outcomes),
            passed=sum(1 for o in outcomes if o.verdict is Verdict.ACCEPTED),
            total=len(job.tests),
            tests=outcomes,
            queue_s=queue_s,
            run_s=run_s,
            compile_ok=compile_failed is None,
            compile_output=plan.compile_output or (compile_failed.message if compile_failed else ""),
            compile_time_s=plan.built_s,
        )

    async def _run_tests(self, sandbox: Sandbox, job: Job, plan: JobPlan) -> list[TestOutcome]:
        """Each test in order: prepared (built), run, graded. Consecutive stdio
        tests go to the sandbox in batches (one round trip for many), doubling
        while they pass, so a failure early wastes at most as many runs as passed."""
        outcomes: list[TestOutcome] = []
        margin = self.settings.runner_reply_margin_s
        # The request's total time limit covers its tests, from the moment it
        # has a sandbox: never the queue (a long stream must not time out its
        # own tail) nor its builds (they have their own limits).
        deadline = time.monotonic() + job.limits.total_time_limit_s
        stop = False
        batch = 1
        i = 0
        while i < len(job.tests):
            test = job.tests[i]
            if stop:
                outcomes.append(TestOutcome(name=test.name, verdict=Verdict.SKIPPED, message="not run"))
                i += 1
                continue
            before = time.monotonic()
            prepared = await plan.prepare(sandbox, i, margin)
            deadline += time.monotonic() - before
            if isinstance(prepared, BadTest):
                raise _CallerFault(i, prepared.reason)
            if prepared is not None:  # the build failed: the candidate's COMPILE_ERROR
                outcomes.append(prepared)
                self.metrics.test_verdicts.labels(job.language, prepared.verdict.name).inc()
                stop = True
                i += 1
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
                i += 1
                continue
            wall_s = min(job.limits.wall_time_limit_s, left)
            group = await self._batch_from(sandbox, job, plan, i, batch, margin)
            requests = [plan.request(k, wall_s) for k in group]
            judging = sum(_judges_wall(r) for r in requests)
            dead = False
            try:
                if len(requests) == 1:
                    results = [await sandbox.run(requests[0], wall_s + judging + margin)]
                else:
                    batch_request = RunBatch(list(requests), left, job.stop_on_first_failure)  # type: ignore[arg-type]
                    results = (await sandbox.run_batch(batch_request, left + judging + margin)).facts
            except SandboxFault:
                # The only way a program can end its container is the OOM killer: its verdict.
                if not await asyncio.to_thread(sandbox.oom_killed):
                    raise
                results, dead = [OOM_KILLED], True
            if not results:  # the runner found the request's time used up before the first run
                outcomes.append(
                    TestOutcome(
                        name=test.name,
                        verdict=Verdict.TIME_LIMIT_EXCEEDED,
                        message=f"request total time limit {job.limits.total_time_limit_s}s reached",
                    )
                )
                i += 1
                continue
            heavy = sandbox.last_reply_bytes > HEAVY_REPLY_BYTES * len(results)
            all_passed = True
            for k, facts in zip(group, results, strict=False):
                outcome = await self._graded(job, plan, k, facts, heavy)
                outcomes.append(outcome)
                i += 1
                failed = outcome.verdict is not Verdict.ACCEPTED
                all_passed = all_passed and not failed
                stop = dead or (failed and job.stop_on_first_failure)
                if stop:
                    break
            batch = min(2 * batch, self._batch_cap(job)) if all_passed and len(results) == len(group) else 1
        return outcomes

    def _batch_cap(self, job: Job) -> int:
        """Runs per frame: each reply carries up to two capped streams per run (base64)."""
        per_run = 3 * job.limits.output_limit_bytes + 4096
        return max(1, min(BATCH_MAX_RUNS, BATCH_MAX_REPLY_BYTES // per_run))

    async def _batch_from(
        self, sandbox: Sandbox, job: Job, plan: JobPlan, first: int, size: int, margin: float
    ) -> list[int]:
        """Test ``first`` and the stdio tests after it that can share its round trip."""
        group = [first]
        if not plan.batchable(first):
            return group
        stdin = 0
        while len(group) < size and (k := first + len(group)) < len(job.tests) and plan.batchable(k):
            stdin += plan.stdin_bytes(k)
            if stdin > BATCH_MAX_STDIN_BYTES or await plan.prepare(sandbox, k, margin) is not None:
                break  # (stdio tests share one build: prepared already)
            group.append(k)
        return group

    async def _graded(self, job: Job, plan: JobPlan, index: int, facts: RunFacts, heavy: bool) -> TestOutcome:
        test = job.tests[index]
        if facts.leftover_processes:
            self.metrics.leftovers.labels(job.language, "processes").inc(facts.leftover_processes)
        context = Context(
            job.limits,
            plan.conventions(index),
            job.checker.points_max if job.checker else 1.0,
            job.interactor.points_max if job.interactor else 1.0,
        )
        if heavy:  # a 16 MB value: compared off the event loop
            graded = await asyncio.to_thread(grade, test, facts, context)
        else:
            graded = grade(test, facts, context)
        if isinstance(graded, InfraFault):
            raise SandboxFault(graded.reason)
        if isinstance(graded, BadTest):
            raise _CallerFault(index, graded.reason)
        outcome = graded.outcome
        self.metrics.test_verdicts.labels(job.language, outcome.verdict.name).inc()
        for kind in outcome.hacks:
            self.metrics.hacks.labels(job.language, kind).inc()
        if outcome.verdict in _LIMIT_VERDICTS:
            self.metrics.limit_hits.labels(job.language, _LIMIT_VERDICTS[outcome.verdict]).inc()
        return outcome
