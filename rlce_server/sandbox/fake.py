"""A stand-in backend for unit tests of the scheduler, graders and rewards.

``FakeSandbox.run`` answers from a script (a function of the typed run
request) instead of running anything; it can also raise SandboxFault to test
the retry-once rule. Never used outside tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ..errors import SandboxFault
from .rlce_runner.protocol import (
    Artifact,
    BatchFacts,
    Build,
    BuildFacts,
    Fetch,
    Install,
    JudgeFacts,
    JudgeRun,
    Outcome,
    ProcessFacts,
    RunBatch,
    RunFacts,
    RunRequest,
)

Script = Callable[[RunRequest], RunFacts]
_ids = itertools.count(1)


def facts(stdout: bytes = b"", **kw: Any) -> RunFacts:
    """Runner facts for a clean exit; ``program`` fields and RunFacts fields overridable."""
    process: dict[str, Any] = {"stdout": stdout, "stdout_bytes": len(stdout), "cpu_s": 0.001, "maxrss_kb": 100}
    process.update({k: kw.pop(k) for k in list(kw) if k in ProcessFacts.__dataclass_fields__})
    base: dict[str, Any] = {"outcome": Outcome.EXITED, "wall_s": 0.001, "program": ProcessFacts(**process)}
    base.update(kw)
    return RunFacts(**base)


class FakeSandbox:
    def __init__(self, runtime: str, script: Script, faults: list[bool]) -> None:
        self.id = f"fake-{next(_ids)}"
        self.runtime = runtime
        self.jobs_run = 0
        self.version = "fake"
        self.script = script
        self.faults = faults
        self.runs = 0
        self.destroyed = False
        self.last_reply_bytes = 0

    async def run(self, request: RunRequest, timeout_s: float) -> RunFacts:
        self.runs += 1
        if self.faults and self.faults.pop(0):
            raise SandboxFault(f"{self.id}: injected fault")
        return self.script(request)

    async def run_batch(self, request: RunBatch, timeout_s: float) -> BatchFacts:
        """As the runner does: each run as if alone, stopping after a certain failure when asked."""
        self.runs += 1
        if self.faults and self.faults.pop(0):
            raise SandboxFault(f"{self.id}: injected fault")
        done: list[RunFacts] = []
        for run in request.runs:
            if sum(f.wall_s for f in done) >= request.deadline_s:  # the job's time is up
                break
            facts = self.script(run)
            done.append(facts)
            failed = facts.outcome is not Outcome.EXITED or facts.program.exit_code or facts.program.signal
            if request.stop_after_failure and failed:
                break
        return BatchFacts(done)

    async def build(self, request: Build, timeout_s: float) -> BuildFacts:
        return BuildFacts(ok=True)

    async def fetch(self, request: Fetch, timeout_s: float) -> Artifact:
        return Artifact(files={}, executable=[])

    async def install(self, request: Install, timeout_s: float) -> BuildFacts:
        return BuildFacts(ok=True)

    async def judge(self, request: JudgeRun, timeout_s: float) -> JudgeFacts:
        return JudgeFacts(Outcome.EXITED, ProcessFacts())

    async def reset(self, timeout_s: float) -> bool:
        self.jobs_run += 1
        return True

    @property
    def last_removed(self) -> dict[str, int]:
        return {}

    def oom_killed(self) -> bool:
        return False


class FakeBackend:
    def __init__(self, script: Script, faults: list[bool] | None = None) -> None:
        self.script = script
        self.faults = faults if faults is not None else []
        self.created: list[FakeSandbox] = []

    async def create(self, runtime: str) -> FakeSandbox:
        sandbox = FakeSandbox(runtime, self.script, self.faults)
        self.created.append(sandbox)
        return sandbox

    async def destroy(self, sandbox: Any) -> None:
        sandbox.destroyed = True

    async def create_sessions(self, runtime: str) -> Any:
        raise SandboxFault("the fake backend has no session sandboxes")

    async def remove_leftovers(self, *, own: bool) -> int:
        return 0

    def image_digest(self, runtime: str) -> str:
        return "sha256:fake"

    def ping(self) -> None:
        return None
