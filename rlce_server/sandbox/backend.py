"""The small interface the scheduler needs from a sandbox backend.

A Sandbox runs one test at a time and is reset between jobs; a Backend makes
and destroys sandboxes. The Docker backend is the real one; ``fake`` holds a
stand-in for unit tests of the scheduler, graders and rewards.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from .rlce_runner.protocol import (
    Artifact,
    BatchFacts,
    Build,
    BuildFacts,
    Fetch,
    Install,
    JudgeFacts,
    JudgeRun,
    RunBatch,
    RunFacts,
    RunRequest,
)

R = TypeVar("R")


class Sandbox(Protocol):
    id: str
    runtime: str
    jobs_run: int
    version: str
    last_reply_bytes: int  # the size of the last reply: large ones are graded off the event loop

    async def run(self, request: RunRequest, timeout_s: float) -> RunFacts:
        """Run one test; return the runner's raw facts. Raises SandboxFault."""
        ...

    async def run_batch(self, request: RunBatch, timeout_s: float) -> BatchFacts:
        """Run stdio tests back to back; their facts, fewer when it stopped early."""
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


class SessionSandbox(Protocol):
    """A sandbox of live sessions (docs/SESSIONS.md): many requests in flight, answered as each ends."""

    id: str
    runtime: str
    slots: int  # session trees it holds at once
    trees: int  # slots in use, as the host counts them
    broken: str  # why its runner can no longer be trusted ("" while it can)

    async def call(self, msg: Any, reply_type: type[R], timeout_s: float) -> R:
        """One request and its reply; SandboxFault when the sandbox breaks (its sessions are then gone)."""
        ...


class SessionBackend(Protocol):
    async def create_sessions(self, runtime: str) -> SessionSandbox: ...

    async def destroy(self, sandbox: Any) -> None: ...


class Backend(Protocol):
    async def create(self, runtime: str) -> Sandbox: ...

    async def create_sessions(self, runtime: str) -> SessionSandbox: ...

    async def destroy(self, sandbox: Sandbox) -> None: ...

    async def remove_leftovers(self, *, own: bool) -> int: ...

    def image_digest(self, runtime: str) -> str: ...

    def ping(self) -> None:
        """Raise EngineUnavailable when the engine does not answer."""
        ...
