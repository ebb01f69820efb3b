"""A warm pool per runtime: lease, use, reset; destroy what fails to reset.

Sandboxes are made ahead of need; a sandbox that breaks, fails its reset or
reaches ``recycle_after_jobs`` is destroyed and replaced in the background,
so the pool refills itself (with back-off while the engine is down).

Leases are fair between owners (a stream, or a client connection for unary
calls) in sandbox time: a freed sandbox goes to the waiter whose owner has
the fewest jobs running and, among equals, has held sandboxes for the
fewest seconds lately (an exponentially decayed sum, half-life ~7 s), then
the oldest request. One trainer that keeps 64 long requests in flight on its
stream therefore cannot make another trainer's short requests wait behind
all of them; FIFO still holds within one owner.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections import Counter, deque
from typing import Any

from ..errors import SandboxFault
from ..metrics import Metrics
from ..sandbox.backend import Backend, Sandbox

log = logging.getLogger("rlce.pool")
USAGE_DECAY_S = 10.0  # time constant of the decayed sandbox-seconds per owner
STARVED_AFTER_FAILURES = 10  # ~30 s of back-off: a real outage, not a container killed while starting


class Pool:
    def __init__(self, backend: Backend, runtime: str, size: int, recycle_after_jobs: int, metrics: Metrics) -> None:
        self.backend = backend
        self.runtime = runtime
        self.size = size
        self.recycle_after_jobs = recycle_after_jobs
        self.metrics = metrics
        self.idle: deque[Sandbox] = deque()
        self.waiters: dict[int, tuple[str, asyncio.Future[Sandbox]]] = {}
        self.running: Counter[str] = Counter()
        self._leases: dict[int, tuple[str, float]] = {}  # id(sandbox) -> (owner, when lent)
        self._usage: dict[str, tuple[float, float]] = {}  # owner -> (decayed sandbox-seconds, as of when)
        self._seq = itertools.count()
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
        self._hand_out(sandbox)

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
    def busy(self) -> int:
        return len(self._leases)

    @property
    def starved(self) -> bool:
        """No sandbox exists and none can be made now: the engine is down, or
        creating one failed several times in a row."""
        return self.live <= 0 and (self.engine_down or self.failures >= STARVED_AFTER_FAILURES)

    def _hand_out(self, sandbox: Sandbox) -> None:
        """Give a free sandbox to the fairest waiter, or keep it idle."""
        now = time.monotonic()
        live = [
            (self.running[owner], self._usage_now(owner, now), seq)
            for seq, (owner, fut) in self.waiters.items()
            if not fut.done()
        ]
        if not live:
            self.idle.append(sandbox)
            return
        *_, seq = min(live)
        owner, fut = self.waiters.pop(seq)
        self._lent(sandbox, owner)
        fut.set_result(sandbox)

    def _usage_now(self, owner: str, now: float) -> float:
        value, when = self._usage.get(owner, (0.0, now))
        return value * math.exp(-(now - when) / USAGE_DECAY_S)

    def _charge(self, owner: str, seconds: float) -> None:
        now = time.monotonic()
        self._usage[owner] = (self._usage_now(owner, now) + seconds, now)
        if len(self._usage) > 10_000:  # forget owners idle for long (their usage has decayed away)
            for old in sorted(self._usage, key=lambda o: self._usage[o][1])[:5_000]:
                del self._usage[old]

    def _lent(self, sandbox: Sandbox, owner: str) -> None:
        self._leases[id(sandbox)] = (owner, time.monotonic())
        self.running[owner] += 1

    async def lease(self, owner: str = "") -> Sandbox:
        """A sandbox for ``owner``; fails fast (SandboxFault) while the pool is
        starved, so that requests get SANDBOX_ERROR instead of hanging."""
        if self.idle and not self.waiters:
            sandbox = self.idle.popleft()
            self._lent(sandbox, owner)
            return sandbox
        seq = next(self._seq)
        fut: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
        self.waiters[seq] = (owner, fut)
        if self.idle:
            self._hand_out(self.idle.popleft())
        try:
            while True:
                if self.starved and not self.idle and not fut.done():
                    raise SandboxFault(f"no {self.runtime} sandbox can be started: {self.last_error}")
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), timeout=0.5)
                except TimeoutError:
                    continue
        except BaseException:
            self.waiters.pop(seq, None)
            if fut.done() and not fut.cancelled():
                # handed to us as we were cancelled: pass it on
                self.give_back(fut.result(), reusable=True)
            else:
                fut.cancel()
            raise

    async def _destroy(self, sandbox: Sandbox) -> None:
        self.live -= 1
        try:
            await self.backend.destroy(sandbox)
        except Exception as exc:
            log.warning("destroying %s failed: %s", sandbox.id, exc)

    async def _replace(self, sandbox: Sandbox) -> None:
        await self._destroy(sandbox)
        await self._refill()

    def give_back(self, sandbox: Sandbox, *, reusable: bool, reason: str = "broken") -> None:
        """Return a leased sandbox: to the next waiter, or off to be replaced."""
        owner, lent_at = self._leases.pop(id(sandbox))
        self._charge(owner, time.monotonic() - lent_at)
        self.running[owner] -= 1
        if self.running[owner] <= 0:
            del self.running[owner]
        if reusable and sandbox.jobs_run < self.recycle_after_jobs and not self._closing:
            self._hand_out(sandbox)
            return
        reason = "recycle" if reusable else reason
        self.metrics.sandbox_recycles.labels(self.runtime, reason).inc()
        if reason == "broken":
            self.metrics.runner_restarts.labels(self.runtime).inc()
        self._spawn(self._replace(sandbox))

    def rebuild(self) -> None:
        """Replace every idle sandbox (after the engine came back, the old
        containers are gone); busy ones are replaced when they fail."""
        while self.idle:
            sandbox = self.idle.popleft()
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
        for fut in [fut for _, fut in self.waiters.values()]:
            fut.cancel()
        while self.idle:
            await self._destroy(self.idle.popleft())
