"""The session sandboxes of one runtime (docs/SESSIONS.md).

Sessions never share a sandbox with scoring jobs: a runtime that serves
sessions gets sandboxes of their own, made at the first session (or when
the server starts, ``sessions.prestart``), each holding up to ``slots``
session trees. A new tree goes to the sandbox with the fewest; a sandbox
that breaks is retired (its sessions are gone) and replaced at the next
session that needs room.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..errors import SandboxFault
from ..metrics import Metrics
from ..sandbox.backend import SessionBackend, SessionSandbox

log = logging.getLogger("rlce.sessions")


class SessionPool:
    def __init__(self, backend: SessionBackend, runtime: str, size: int, metrics: Metrics) -> None:
        self.backend = backend
        self.runtime = runtime
        self.size = size
        self.metrics = metrics
        self.sandboxes: list[SessionSandbox] = []
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        metrics.session_sandboxes.labels(runtime).set_function(lambda: len(self.sandboxes))

    async def ensure(self) -> None:
        """Start the missing sandboxes (all of them in parallel); SandboxFault if none can run."""
        if len(self.sandboxes) >= self.size:
            return
        async with self._lock:
            missing = self.size - len(self.sandboxes)
            if missing <= 0 or self._closing:
                return
            made = await asyncio.gather(
                *(self.backend.create_sessions(self.runtime) for _ in range(missing)), return_exceptions=True
            )
            errors = [m for m in made if isinstance(m, BaseException)]
            for m in made:
                if not isinstance(m, BaseException):
                    self.sandboxes.append(m)
                    self.metrics.sandbox_starts.labels(f"{self.runtime}-sessions").inc()
            for exc in errors:
                self.metrics.sandbox_failures.labels(f"{self.runtime}-sessions", "create").inc()
                log.warning("session sandbox create failed: %s", exc)
            if not self.sandboxes and errors:
                raise SandboxFault(f"no {self.runtime} session sandbox can be started: {errors[0]}")

    def with_room(self) -> list[SessionSandbox]:
        """Sandboxes that may take another tree, emptiest first."""
        live = [s for s in self.sandboxes if not s.broken and s.trees < s.slots]
        return sorted(live, key=lambda s: s.trees)

    @property
    def slots(self) -> int:
        return sum(s.slots for s in self.sandboxes if not s.broken)

    def retire(self, sandbox: SessionSandbox) -> None:
        """A broken sandbox goes (its sessions with it); the next session that needs room makes a new one."""
        if sandbox in self.sandboxes:
            self.sandboxes.remove(sandbox)
            self.metrics.sandbox_recycles.labels(f"{self.runtime}-sessions", "broken").inc()
            self._spawn(self._destroy(sandbox))

    async def _destroy(self, sandbox: SessionSandbox) -> None:
        try:
            await self.backend.destroy(sandbox)
        except Exception as exc:
            log.warning("destroying %s failed: %s", sandbox.id, exc)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closing = True
        async with self._lock:
            for sandbox in self.sandboxes:
                await self._destroy(sandbox)
            self.sandboxes.clear()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=60)
