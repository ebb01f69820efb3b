"""Live sessions on the host: ids, caps, budgets, lifetimes (docs/SESSIONS.md).

The runner of a session sandbox runs a session's cells and knows nothing of
clients, budgets or time: this module is where a session is named, where the
server-wide cap and the per-tree cap are kept, where a session's CPU budget
is spent, and where idle sessions are closed. It trusts the runner's facts
(what the kernel said about a cell) and never a session process's word.

A session id is ``<boot>-<random>``: ``boot`` is drawn when this server
process starts, so an id of another server, or of this one before a restart,
can never name a session here (NOT_FOUND, saying so).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TypeVar

from ..config import Settings, default_wall_s
from ..domain import Limits, Verdict
from ..errors import InvalidRequest, SandboxFault, SessionNotFound, SessionsExhausted
from ..graders.run import grade_cell
from ..metrics import Metrics
from ..sandbox.backend import SessionBackend, SessionSandbox
from ..sandbox.rlce_runner import protocol as wire
from .pool import SessionPool

log = logging.getLogger("rlce.sessions")
R = TypeVar("R")
REMEMBERED_ENDS = 10_000  # ended sessions whose fate a NOT_FOUND can still tell
FORK_WAIT_S = 5.0  # the runner gives a state this long to fork (sessions.FORK_WAIT_S)


@dataclass
class Tree:
    """A session opened by a client and its forks: one slot (one uid) of one sandbox."""

    sandbox: SessionSandbox
    sessions: set[str] = field(default_factory=set)


@dataclass
class LiveSession:
    id: str
    language: str
    tree: Tree
    limits: Limits  # time_limit_s and wall_time_limit_s per cell; total_time_limit_s: the CPU budget
    idle_timeout_s: float
    last_used: float
    cpu_used_s: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one command at a time
    ended: bool = False


@dataclass
class CellResult:
    verdict: Verdict
    stdout: bytes = b""
    stderr: bytes = b""
    result: str = ""
    error: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)
    ended: bool = False  # the session is gone now: the next call is NOT_FOUND


class SessionManager:
    def __init__(self, settings: Settings, backend: SessionBackend, runtimes: list[str], metrics: Metrics) -> None:
        self.settings = settings
        self.config = settings.sessions
        self.metrics = metrics
        self.boot = secrets.token_hex(6)
        self.sessions: dict[str, LiveSession] = {}
        self.ended: OrderedDict[str, str] = OrderedDict()
        self.pending = 0  # opens and forks under way (they count against the cap)
        size = self.config.sandboxes
        self.pools = {name: SessionPool(backend, name, size, metrics) for name in runtimes} if size else {}
        for name in self.pools:
            metrics.session_open.labels(name).set_function(lambda n=name: self._count(n))  # type: ignore[misc]
        self._sweeper: asyncio.Task[None] | None = None

    def _count(self, language: str) -> int:
        return sum(1 for s in self.sessions.values() if s.language == language)

    def serves(self, language: str) -> bool:
        return language in self.pools

    async def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        if self.config.prestart:
            await asyncio.gather(*(pool.ensure() for pool in self.pools.values()))

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for s in list(self.sessions.values()):
            self._forget(s, "stopped", "the server stopped")
        for pool in self.pools.values():
            await pool.close()

    # -- naming ---------------------------------------------------------------
    def _new_id(self) -> str:
        return f"{self.boot}-{secrets.token_hex(16)}"

    def get(self, session_id: str) -> LiveSession:
        found = self.sessions.get(session_id)
        if found is not None and not found.ended:
            return found
        if not session_id.startswith(f"{self.boot}-"):
            raise SessionNotFound(
                f"session {session_id[:80]!r} is not one of this server's "
                "(another server's, or this server's before it restarted)"
            )
        why = self.ended.get(session_id)
        raise SessionNotFound(f"session {session_id} has ended: {why}" if why else f"no session {session_id[:80]!r}")

    def _reserve(self) -> None:
        if len(self.sessions) + self.pending >= self.config.max_open:
            raise SessionsExhausted(f"{self.config.max_open} sessions are open (the server's cap); close some first")
        self.pending += 1

    # -- lifecycle ------------------------------------------------------------
    async def open(self, language: str, limits: Limits, idle_timeout_s: float, files: dict[str, bytes]) -> LiveSession:
        started = time.monotonic()
        pool = self.pools[language]
        self._reserve()
        try:
            await pool.ensure()
            session_limits = wire.SessionLimits(
                memory_mb=limits.memory_limit_mb, output_bytes=limits.output_limit_bytes
            )
            for sandbox in pool.with_room():
                sid = self._new_id()
                try:
                    facts = await sandbox.call(
                        wire.SessionOpen(sid, session_limits, files), wire.SessionFacts, self._margin(30)
                    )
                except SandboxFault:
                    if not sandbox.broken:
                        raise
                    self._lost(pool, sandbox)
                    continue
                if facts.full:
                    sandbox.trees = sandbox.slots  # (a slot still being wiped, say): the next one
                    continue
                if facts.refused:
                    raise InvalidRequest("files", facts.error)
                if not facts.ok:
                    raise SandboxFault(f"a session could not be opened: {facts.error}")
                tree = Tree(sandbox, {sid})
                sandbox.trees += 1
                session = LiveSession(sid, language, tree, limits, idle_timeout_s, time.monotonic())
                self.sessions[sid] = session
                self._observe(language, "open", started)
                return session
            raise SessionsExhausted(
                f"every {language} session slot is in use ({pool.slots} trees); close some sessions first"
            )
        finally:
            self.pending -= 1

    async def fork(self, session_id: str) -> LiveSession:
        started = time.monotonic()
        s = self.get(session_id)
        if len(s.tree.sessions) >= self.config.max_per_tree:
            raise SessionsExhausted(f"a session and its forks are at most {self.config.max_per_tree} sessions")
        self._reserve()
        try:
            async with s.lock:
                s = self.get(session_id)
                new_id = self._new_id()
                facts = await self._call(s, wire.SessionFork(s.id, new_id), wire.SessionFacts, self._margin(60))
                if facts.gone:
                    self._forget(s, "gone", f"its process is gone ({facts.gone})")
                    raise SessionNotFound(f"session {session_id} has ended: its process is gone ({facts.gone})")
                if not facts.ok:
                    raise SessionsExhausted(f"the session could not be forked: {facts.error}")
                new = LiveSession(
                    new_id, s.language, s.tree, s.limits, s.idle_timeout_s, time.monotonic(), s.cpu_used_s
                )
                s.tree.sessions.add(new_id)
                self.sessions[new_id] = new
                s.last_used = time.monotonic()
        finally:
            self.pending -= 1
        self.metrics.session_forks.labels(s.language).inc()
        self._observe(s.language, "fork", started)
        return new

    async def close(self, session_id: str) -> None:
        started = time.monotonic()
        s = self.get(session_id)
        await self._end(s, "closed", "closed")
        self._observe(s.language, "close", started)

    async def exec(
        self,
        session_id: str,
        code: str,
        stdin: bytes = b"",
        files: dict[str, bytes] | None = None,
        fetch: list[str] | None = None,
        time_limit_s: float = 0.0,
    ) -> CellResult:
        started = time.monotonic()
        s = self.get(session_id)
        async with s.lock:
            s = self.get(session_id)
            result = await self._exec(s, code, stdin, files or {}, fetch or [], time_limit_s)
            s.last_used = time.monotonic()
        self.metrics.session_cells.labels(s.language, result.verdict.name).inc()
        self._observe(s.language, "exec", started)
        return result

    async def _exec(
        self, s: LiveSession, code: str, stdin: bytes, files: dict[str, bytes], fetch: list[str], time_limit_s: float
    ) -> CellResult:
        budget = s.limits.total_time_limit_s
        left = budget - s.cpu_used_s
        wanted = time_limit_s or s.limits.time_limit_s
        if time_limit_s:
            wall = min(default_wall_s(time_limit_s), self.settings.limits.max_wall_time_limit_s)
        else:
            wall = s.limits.wall_time_limit_s
        cpu = min(wanted, left)
        if cpu <= 0:
            await self._end(s, "budget", f"its CPU budget of {budget:g}s is spent")
            return CellResult(
                Verdict.TIME_LIMIT_EXCEEDED, error=f"the session's CPU budget of {budget:g}s is spent", ended=True
            )
        request = wire.SessionExec(
            s.id,
            code,
            wire.CellLimits(wall_s=wall, cpu_s=cpu),
            stdin=stdin,
            files=files,
            fetch=fetch,
            fetch_max_bytes=self.settings.fetch_max_bytes,
        )
        try:
            facts = await self._call(s, request, wire.CellFacts, self._margin(wall + FORK_WAIT_S))
        except SandboxFault as exc:
            if not s.ended:
                raise
            return CellResult(
                Verdict.SANDBOX_ERROR, error=f"the session's sandbox failed, retry in a new session: {exc}", ended=True
            )
        if facts.outcome is wire.Outcome.ABORTED:
            raise SessionNotFound(f"session {s.id} was closed while its cell ran")
        s.cpu_used_s += facts.cpu_s
        limits = Limits(
            time_limit_s=cpu,
            wall_time_limit_s=wall,
            memory_limit_mb=s.limits.memory_limit_mb,
            output_limit_bytes=s.limits.output_limit_bytes,
            total_time_limit_s=budget,
        )
        graded = grade_cell(facts, limits)
        ended = False
        if facts.gone:
            self._forget(s, "gone", f"its process is gone ({facts.gone})")
            graded.error = f"{graded.error}; the session has ended: {facts.gone}".lstrip("; ")
            ended = True
        elif s.cpu_used_s >= budget:
            await self._end(s, "budget", f"its CPU budget of {budget:g}s is spent")
            graded.error = f"{graded.error}; the session's CPU budget of {budget:g}s is spent: it has ended".lstrip(
                "; "
            )
            ended = True
        if graded.verdict is Verdict.TIME_LIMIT_EXCEEDED and cpu < wanted:
            graded.error += f" (what was left of the session's CPU budget of {budget:g}s)"
        if facts.file_errors:
            graded.error = "\n".join([graded.error, *facts.file_errors]).strip()
        if graded.verdict in (
            Verdict.TIME_LIMIT_EXCEEDED,
            Verdict.MEMORY_LIMIT_EXCEEDED,
            Verdict.OUTPUT_LIMIT_EXCEEDED,
        ):
            self.metrics.limit_hits.labels(s.language, graded.verdict.name.split("_")[0].lower()).inc()
        return CellResult(
            verdict=graded.verdict,
            stdout=facts.stdout,
            stderr=facts.stderr,
            result=graded.result,
            error=graded.error,
            wall_s=facts.wall_s,
            cpu_s=facts.cpu_s,
            files=facts.files,
            ended=ended,
        )

    # -- the runner, and what happens when it breaks ------------------------------
    def _margin(self, seconds: float) -> float:
        return seconds + self.settings.runner_reply_margin_s

    async def _call(self, s: LiveSession, msg: object, reply_type: type[R], timeout_s: float) -> R:
        sandbox = s.tree.sandbox
        try:
            return await sandbox.call(msg, reply_type, timeout_s)
        except SandboxFault:
            if sandbox.broken:
                self._lost(self.pools[s.language], sandbox)
            raise

    def _lost(self, pool: SessionPool, sandbox: SessionSandbox) -> None:
        """A sandbox broke: its sessions are gone (their next call is NOT_FOUND), it is replaced."""
        log.warning("session sandbox %s broke: %s", sandbox.id, sandbox.broken)
        for s in [s for s in self.sessions.values() if s.tree.sandbox is sandbox]:
            self._forget(s, "lost", f"its sandbox failed ({sandbox.broken[:200]})")
        pool.retire(sandbox)

    def _forget(self, s: LiveSession, reason: str, why: str) -> None:
        """The session is gone from here on (the runner has ended it, or will); ``reason`` labels the metric."""
        if s.ended:
            return
        s.ended = True
        self.sessions.pop(s.id, None)
        self.ended[s.id] = why
        while len(self.ended) > REMEMBERED_ENDS:
            self.ended.popitem(last=False)
        s.tree.sessions.discard(s.id)
        if not s.tree.sessions:
            s.tree.sandbox.trees = max(0, s.tree.sandbox.trees - 1)
        self.metrics.session_ended.labels(s.language, reason).inc()

    async def _end(self, s: LiveSession, reason: str, why: str) -> None:
        """Close a session in its sandbox: its processes and files go, its slot is wiped once its tree is empty."""
        if s.ended:
            return
        self._forget(s, reason, why)
        try:
            await s.tree.sandbox.call(wire.SessionClose(s.id), wire.SessionClosed, self._margin(30))
        except SandboxFault as exc:
            if s.tree.sandbox.broken and s.language in self.pools:
                self._lost(self.pools[s.language], s.tree.sandbox)
            log.warning("closing session %s failed: %s", s.id, exc)

    async def _sweep(self) -> None:
        """Close the sessions unused for longer than their idle timeout."""
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            now = time.monotonic()
            for s in list(self.sessions.values()):
                if not s.lock.locked() and now - s.last_used > s.idle_timeout_s:
                    await self._end(s, "expired", f"it expired (unused for {s.idle_timeout_s:g}s)")

    def _observe(self, language: str, op: str, started: float) -> None:
        self.metrics.session_latency.labels(language, op).observe(time.monotonic() - started)
