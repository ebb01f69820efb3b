"""``Run``: code run once in a scoring sandbox, no tests (docs/SESSIONS.md).

It goes the way a one-test stdio job goes -- the same pools, the same plans
(``ScriptRun`` for Python, the ``[build.stdio]`` build then ``ExecRun`` for
compiled runtimes), the same reset -- with the request's files written into a
working directory of the run's own first and its ``fetch`` read back after.
A fault of ours is retried once on a fresh sandbox, then SANDBOX_ERROR.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass, field

from ..domain import Job, Limits, StdioSpec, TestCase, TestOutcome, Verdict
from ..errors import SandboxFault
from ..graders import InfraFault
from ..graders.run import grade_run
from ..metrics import Metrics
from ..runtimes import RuntimeSpec
from ..sandbox.backend import Sandbox
from ..sandbox.rlce_runner.protocol import ExecRun, RunRequest, ScriptRun
from .plans import plan_for
from .pool import Pool
from .scorer import OOM_KILLED

log = logging.getLogger("rlce.run")


@dataclass(frozen=True)
class RunJob:
    request_id: str
    language: str
    code: str
    stdin: bytes
    limits: Limits
    files: dict[str, bytes] = field(default_factory=dict)
    fetch: tuple[str, ...] = ()


@dataclass
class RunResult:
    request_id: str
    verdict: Verdict
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    signal: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_kb: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    error: str = ""


class OneShot:
    def __init__(
        self,
        pools: dict[str, Pool],
        specs: dict[str, RuntimeSpec],
        metrics: Metrics,
        margin_s: float,
        fetch_max_bytes: int,
        fresh_sandbox_each: bool = False,
    ) -> None:
        self.pools = pools
        self.specs = specs
        self.metrics = metrics
        self.margin_s = margin_s
        self.fetch_max_bytes = fetch_max_bytes
        self.fresh_sandbox_each = fresh_sandbox_each  # --isolation container

    async def run(self, job: RunJob, owner: str = "") -> RunResult:
        error = ""
        for attempt in (1, 2):
            try:
                result = await self._attempt(job, owner)
                break
            except SandboxFault as exc:
                self.metrics.sandbox_failures.labels(job.language, "run").inc()
                log.warning("sandbox fault (attempt %d): %s", attempt, exc, extra={"request_id": job.request_id})
                error = str(exc)
        else:
            result = RunResult(job.request_id, Verdict.SANDBOX_ERROR, error=f"sandbox failure, retry later: {error}")
        self.metrics.runs.labels(job.language, result.verdict.name).inc()
        return result

    async def _attempt(self, job: RunJob, owner: str) -> RunResult:
        pool = self.pools[job.language]
        as_job = Job(
            request_id=job.request_id,
            language=job.language,
            program=job.code,
            tests=(TestCase(name="run", weight=1.0, spec=StdioSpec(stdin=job.stdin, expected_stdout=b"")),),
            limits=job.limits,
        )
        sandbox = await pool.lease(owner)
        clean = False
        try:
            plan = plan_for(self.specs[job.language], as_job)
            prepared = await plan.prepare(sandbox, 0, self.margin_s)
            if isinstance(prepared, TestOutcome):  # the build failed: the code's COMPILE_ERROR
                result = RunResult(job.request_id, prepared.verdict, error=prepared.message)
            elif prepared is not None:
                raise SandboxFault(f"a run's build was refused: {prepared.reason}")
            else:
                result = await self._run(sandbox, plan.request(0, job.limits.wall_time_limit_s), job)
            clean = await sandbox.reset(self.margin_s)
        finally:
            pool.give_back(sandbox, reusable=clean and not self.fresh_sandbox_each, reason="broken")
        return result

    async def _run(self, sandbox: Sandbox, request: RunRequest, job: RunJob) -> RunResult:
        if not isinstance(request, ScriptRun | ExecRun):
            raise SandboxFault(f"a run planned as {type(request).__name__}")
        request = dataclasses.replace(
            request, files=job.files, fetch=list(job.fetch), fetch_max_bytes=self.fetch_max_bytes
        )
        started = time.monotonic()
        try:
            facts = await sandbox.run(request, job.limits.wall_time_limit_s + self.margin_s)
        except SandboxFault:
            # the only way code can end its container is the OOM killer: its verdict
            if not await asyncio.to_thread(sandbox.oom_killed):
                raise
            facts = OOM_KILLED
        graded = grade_run(facts, job.limits)
        if isinstance(graded, InfraFault):
            raise SandboxFault(graded.reason)
        out = graded.outcome
        cap = job.limits.output_limit_bytes
        p = facts.program
        errors = [out.message] if out.verdict is not Verdict.ACCEPTED and out.message else []
        return RunResult(
            request_id=job.request_id,
            verdict=out.verdict,
            stdout=p.stdout[:cap],
            stderr=p.stderr[:cap],
            exit_code=out.exit_code,
            signal=out.signal,
            wall_s=facts.wall_s or time.monotonic() - started,
            cpu_s=out.cpu_time_s,
            peak_memory_kb=out.peak_memory_kb,
            files=facts.files,
            error="\n".join(errors + facts.file_errors),
        )
