"""A stand-in backend for unit tests of the scheduler, graders and rewards.

``FakeSandbox.run`` answers from a script (a function of the runner message)
instead of running anything; it can also raise SandboxFault to test the
retry-once rule. Never used outside tests.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

from ..errors import SandboxFault

Script = Callable[[dict[str, Any]], dict[str, Any]]
_ids = itertools.count(1)


def facts(stdout: bytes = b"", **kw: Any) -> dict[str, Any]:
    """Raw runner facts for a clean exit, overridable field by field."""
    base: dict[str, Any] = {
        "outcome": "exited",
        "exit_code": 0,
        "signal": 0,
        "wall_s": 0.001,
        "cpu_s": 0.001,
        "maxrss_kb": 100,
        "oom_killed": False,
        "setup_failed": False,
        "stdout": base64.b64encode(stdout).decode(),
        "stderr": "",
    }
    base.update(kw)
    return base


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

    async def run(self, msg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        self.runs += 1
        if self.faults and self.faults.pop(0):
            raise SandboxFault(f"{self.id}: injected fault")
        return self.script(msg)

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

    async def remove_leftovers(self, *, own: bool) -> int:
        return 0

    def image_digest(self, runtime: str) -> str:
        return "sha256:fake"

    def ping(self) -> None:
        return None
