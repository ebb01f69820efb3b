"""The small interface the scheduler needs from a sandbox backend.

A Sandbox runs one test at a time and is reset between jobs; a Backend makes
and destroys sandboxes. The Docker backend is the real one; ``fake`` holds a
stand-in for unit tests of the scheduler, graders and rewards.
"""

from __future__ import annotations

from typing import Protocol

from .rlce_runner.protocol import (
    Artifact,
    Build,
    BuildFacts,
    Fetch,
    Install,
    JudgeFacts,
    JudgeRun,
    RunFacts,
    RunRequest,
)


class Sandbox(Protocol):
    id: str
    runtime: str
    jobs_run: int
    version: str
    last_reply_bytes: int  # the size of the last reply: large ones are graded off the event loop

    async def run(self, request: RunRequest, timeout_s: float) -> RunFacts:
        """Run one test; return the runner's raw facts. Raises SandboxFault."""
        ...

    async def build(self, request: Build, timeout_s: float) -> BuildFacts:
        """Build (or find cached) one build's outputs. Raises SandboxFault."""
        ...

    async def fetch(self, request: Fetch, timeout_s: float) -> Artifact:
        """A stored build's files (a judge, to run in another runtime's sandbox)."""
        ...

    async def install(self, request: Install, timeout_s: float) -> BuildFacts:
        """Store files brought from elsewhere (that judge)."""
        ...

    async def judge(self, request: JudgeRun, timeout_s: float) -> JudgeFacts:
        """Run a judge alone (a problem's answers checked)."""
        ...

    async def reset(self, timeout_s: float) -> bool:
        """Kill, wipe and verify; False means destroy this sandbox."""
        ...

    @property
    def last_removed(self) -> dict[str, int]:
        """What the last reset found and removed: processes, files, ipc."""
        ...

    def oom_killed(self) -> bool:
        """Whether the container itself was ended by the OOM killer."""
        ...


class Backend(Protocol):
    async def create(self, runtime: str) -> Sandbox: ...

    async def destroy(self, sandbox: Sandbox) -> None: ...

    async def remove_leftovers(self, *, own: bool) -> int: ...

    def image_digest(self, runtime: str) -> str: ...

    def ping(self) -> None:
        """Raise EngineUnavailable when the engine does not answer."""
        ...
