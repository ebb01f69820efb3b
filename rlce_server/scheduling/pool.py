"""A warm pool per runtime: lease, use, reset; destroy what fails to reset.

Sandboxes are made ahead of need; a sandbox that breaks, fails its reset or
reaches ``recycle_after_jobs`` is destroyed and replaced in the background,
so the pool refills itself (with back-off while the engine is down).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..errors import SandboxFault
from ..sandbox.backend import Backend, Sandbox

log = logging.getLogger("rlce.pool")
STARVED_AFTER_FAILURES = 10  # ~30 s of back-off: a real outage, not a container killed while starting


class Pool:
    def __init__(self, backend: Backend, runtime: str, size: int, recycle_after_jobs: int, metrics: Any) -> None:
        self.backend = backend
        self.runtime = runtime
        self.size = size
        self.recycle_after_jobs = recycle_after_jobs
        self.metrics = metrics
        self.idle: asyncio.Queue[Sandbox] = asyncio.Queue()
        self.busy = 0
        self.live = 0
        self.version = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self.last_error = ""
        self.failures = 0  # consecutive failed creations
        self.engine_down = False  # set by the app's health watcher

    async def start(self) -> None:
        await asyncio.gather(*(self._add() for _ in range(self.size)))

    async def _add(self) -> None:
        sandbox = await self.backend.create(self.runtime)
        self.last_error = ""
        self.failures = 0
        self.metrics.sandbox_starts.labels(self.runtime).inc()
        self.version = self.version or sandbox.version
        self.live += 1
        if self._closing:
            await self._destroy(sandbox)
            return
        self.idle.put_nowait(sandbox)

    async def _refill(self) -> None:
        delay = 0.2
        while not self._closing:
            try:
                await self._add()
                self.last_error = ""
                return
            except Exception as exc:  # engine trouble: keep trying with back-off
                self.last_error = str(exc)
                self.failures += 1
                self.metrics.sandbox_failures.labels(self.runtime, "create").inc()
                log.warning("sandbox create failed, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def starved(self) -> bool:
        """No sandbox exists and none can be made now: the engine is down, or
        creating one failed several times in a row."""
        return self.live <= 0 and (self.engine_down or self.failures >= STARVED_AFTER_FAILURES)

    async def lease(self) -> Sandbox:
        """The next idle sandbox; fails fast (SandboxFault) while the pool is
        starved, so that requests get SANDBOX_ERROR instead of hanging."""
        while True:
            if self.starved and self.idle.empty():
                raise SandboxFault(f"no {self.runtime} sandbox can be started: {self.last_error}")
            try:
                sandbox = await asyncio.wait_for(self.idle.get(), timeout=0.5)
            except TimeoutError:
                continue
            self.busy += 1
            return sandbox

    async def _destroy(self, sandbox: Sandbox) -> None:
        self.live -= 1
        try:
            await self.backend.destroy(sandbox)
        except Exception as exc:
            log.warning("destroying %s failed: %s", sandbox.id, exc)

    async def _replace(self, sandbox: Sandbox) -> None:
        await self._destroy(sandbox)
        await self._refill()

    def give_back(self, sandbox: Sandbox, *, reusable: bool) -> None:
        """Return a leased sandbox: to the idle queue, or off to be replaced."""
        self.busy -= 1
        if reusable and sandbox.jobs_run < self.recycle_after_jobs and not self._closing:
            self.idle.put_nowait(sandbox)
            return
        reason = "recycle" if reusable else "broken"
        self.metrics.sandbox_recycles.labels(self.runtime, reason).inc()
        self._spawn(self._replace(sandbox))

    def rebuild(self) -> None:
        """Replace every idle sandbox (after the engine came back, the old
        containers are gone); busy ones are replaced when they fail."""
        while not self.idle.empty():
            sandbox = self.idle.get_nowait()
            self.metrics.sandbox_recycles.labels(self.runtime, "rebuild").inc()
            self._spawn(self._replace(sandbox))

    async def close(self, timeout_s: float = 60.0) -> None:
        """Destroy every sandbox, waiting for creations under way (they see
        ``_closing`` and destroy what they made), so nothing is left behind."""
        self._closing = True
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
        while not self.idle.empty():
            await self._destroy(self.idle.get_nowait())
