"""A client made for RL batches.

One call scores N (program, tests) samples: they go over ``ScoreStream``
with a bounded number in flight, results come back in input order, a test
set shared by several samples (a GRPO group) is registered once and sent by
reference, and failures that are ours -- ``SANDBOX_ERROR`` answers, a server
that is ``UNAVAILABLE`` -- are retried with exponential back-off. A sample
that still has no answer is ``None``: *no reward*, never 0, so the policy is
not trained on infrastructure noise. Deadlines and cancellation pass through
(``timeout_s`` is the whole batch's deadline; cancelling the awaiting task
cancels the streams).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import grpc

from ..client import Access, AsyncClient, pb

log = logging.getLogger("rlce.rl")
_batches = itertools.count(1)
_RETRY_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INTERNAL}


@dataclass
class Sample:
    """One program to score. ``tests`` or ``tests_ref``; limits/policy optional; ``checker``:
    the problem's judge (registered with its tests when the set is shared)."""

    program: str
    tests: Sequence[pb.TestCase] = ()
    language: str = "python"
    limits: pb.Limits | None = None
    policy: pb.ScoringPolicy | None = None
    tests_ref: str = ""
    checker: pb.JudgeProgram | None = None
    interactor: pb.JudgeProgram | None = None


@dataclass
class BatchStats:
    sent: int = 0
    retried: int = 0
    unscored: int = 0
    registered: int = 0
    errors: list[str] = field(default_factory=list)


def _code(exc: grpc.RpcError) -> grpc.StatusCode | None:
    """The status of a failed call (aio errors are not ``grpc.Call``)."""
    code = getattr(exc, "code", None)
    return code() if callable(code) else None


def _tests_key(
    tests: Sequence[pb.TestCase], checker: pb.JudgeProgram | None = None, interactor: pb.JudgeProgram | None = None
) -> str:
    h = hashlib.sha256()
    for t in tests:
        data = t.SerializeToString(deterministic=True)
        h.update(len(data).to_bytes(8, "big") + data)
    for role, judge in ((b"checker", checker), (b"interactor", interactor)):
        if judge is not None:  # the same tests under another judge are another problem
            data = judge.SerializeToString(deterministic=True)
            h.update(role + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


class BatchScorer:
    """Score batches against one server, several (a list), or ``dns:///name:port``;
    ``token``/``tls_*`` as for :class:`rlce_server.client.Client`."""

    def __init__(
        self,
        target: str | Sequence[str] = "127.0.0.1:50051",
        *,
        max_inflight: int = 128,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        register_min_group: int = 2,
        **access: Unpack[Access],
    ) -> None:
        self.target = target
        self.access = access
        self.max_inflight = max_inflight
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.register_min_group = register_min_group
        self.last_stats = BatchStats()
        # A list of servers: one channel each, so that a batch is split over
        # all of them (one stream per server, tests registered on each); a
        # single target or dns:/// is one channel (gRPC round robin per call).
        self._addresses = [target] if isinstance(target, str) else list(target)
        self._clients: list[AsyncClient] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._partial: list[pb.ScoreResponse | None] = []
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        self._sync_lock = threading.Lock()
        self._on_answer: Callable[[int, pb.ScoreResponse], None] | None = None

    def _clients_for_loop(self) -> list[AsyncClient]:
        loop = asyncio.get_running_loop()
        if not self._clients or self._loop is not loop:
            self._clients = [AsyncClient(address, **self.access) for address in self._addresses]
            self._loop = loop
        return self._clients

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        self._clients = []

    # -- the batch -----------------------------------------------------------
    async def score(
        self,
        samples: Sequence[Sample],
        *,
        timeout_s: float | None = None,
        on_answer: Callable[[int, pb.ScoreResponse], None] | None = None,
    ) -> list[pb.ScoreResponse | None]:
        """Responses in input order; ``None`` where no answer could be had.
        ``on_answer(index, response)`` is called as each final answer arrives (progress bars)."""
        self._on_answer = on_answer
        try:
            async with asyncio.timeout(timeout_s):
                return await self._score(samples)
        except TimeoutError:
            log.warning("batch deadline of %ss reached; unanswered samples get no reward", timeout_s)
            return self._partial

    async def _score(self, samples: Sequence[Sample]) -> list[pb.ScoreResponse | None]:
        clients = self._clients_for_loop()
        stats = self.last_stats = BatchStats()
        results: list[pb.ScoreResponse | None] = [None] * len(samples)
        self._partial = results
        refs = await asyncio.gather(*(self._register(c, samples, stats) for c in clients))
        batch = next(_batches)
        pending = list(range(len(samples)))
        down: set[int] = set()  # servers whose stream failed as UNAVAILABLE in this batch
        for attempt in range(self.retries + 1):
            if not pending:
                break
            if attempt:
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)) * (0.5 + random.random())
                stats.retried += len(pending)
                await asyncio.sleep(delay)
            # spread over the servers that answered; a retry goes to the next one
            live = [k for k in range(len(clients)) if k not in down] or list(range(len(clients)))
            shares: dict[int, list[int]] = {k: [] for k in live}
            for n, i in enumerate(pending):
                shares[live[(n + attempt) % len(live)]].append(i)
            outcomes = await asyncio.gather(
                *(
                    self._stream(clients[k], samples, refs[k], share, results, f"{batch}-{attempt}-{k}", stats)
                    for k, share in shares.items()
                    if share
                )
            )
            for k, (_, reachable) in zip([k for k, share in shares.items() if share], outcomes, strict=True):
                if not reachable:
                    down.add(k)
            pending = sorted(i for failed, _ in outcomes for i in failed)
        stats.unscored = sum(1 for r in results if r is None)
        return results

    async def _register(self, client: AsyncClient, samples: Sequence[Sample], stats: BatchStats) -> dict[int, str]:
        """Register each test set shared by several samples; {sample index: ref}."""
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(samples):
            if s.tests and not s.tests_ref:
                groups.setdefault(_tests_key(s.tests, s.checker, s.interactor), []).append(i)
        refs: dict[int, str] = {}
        for members in groups.values():
            if len(members) < self.register_min_group:
                continue
            try:
                first = samples[members[0]]
                ref = await client.register_tests(first.tests, checker=first.checker, interactor=first.interactor)
            except grpc.RpcError as exc:  # not fatal: the tests go inline (and this server may be down)
                code = _code(exc)
                stats.errors.append(f"RegisterTests: {code.name if code else exc}")
                break
            stats.registered += 1
            for i in members:
                refs[i] = ref
        return refs

    def _request(self, sample: Sample, ref: str, rid: str) -> pb.ScoreRequest:
        req = pb.ScoreRequest(request_id=rid, language=sample.language, program=sample.program)
        if ref or sample.tests_ref:
            req.tests_ref = ref or sample.tests_ref
        else:
            req.tests.extend(sample.tests)
            if sample.checker is not None:
                req.checker.CopyFrom(sample.checker)
            if sample.interactor is not None:
                req.interactor.CopyFrom(sample.interactor)
        if sample.limits is not None:
            req.limits.CopyFrom(sample.limits)
        if sample.policy is not None:
            req.policy.CopyFrom(sample.policy)
        return req

    async def _stream(
        self,
        client: AsyncClient,
        samples: Sequence[Sample],
        refs: dict[int, str],
        pending: list[int],
        results: list[pb.ScoreResponse | None],
        tag: str,
        stats: BatchStats,
    ) -> tuple[list[int], bool]:
        """One ScoreStream over ``pending``: the indices to retry, and whether
        the server was reachable."""
        ids = {f"{tag}-{i}": i for i in pending}
        reachable = True
        answered: set[int] = set()
        retry: list[int] = []
        slots = asyncio.Semaphore(self.max_inflight)

        async def requests() -> Any:
            for rid, i in ids.items():
                await slots.acquire()
                stats.sent += 1
                yield self._request(samples[i], refs.get(i, ""), rid)

        try:
            async for resp in client.score_stream(requests()):
                i = ids.get(resp.request_id)
                if i is None:
                    continue
                slots.release()
                answered.add(i)
                if resp.verdict == pb.SANDBOX_ERROR:
                    retry.append(i)
                elif resp.verdict == pb.INVALID_REQUEST and refs.get(i) and "tests_ref" in resp.error:
                    refs.pop(i)  # a server that does not know the set (restarted, or another replica)
                    retry.append(i)
                else:
                    results[i] = resp
                    if self._on_answer is not None:
                        self._on_answer(i, resp)
        except grpc.RpcError as exc:
            code = _code(exc)
            stats.errors.append(f"ScoreStream: {code.name if code else exc}")
            if code not in _RETRY_CODES:
                raise
            reachable = code is not grpc.StatusCode.UNAVAILABLE
            log.warning("ScoreStream failed (%s); %d samples to retry", code, len(ids) - len(answered))
        retry += [i for i in ids.values() if i not in answered]
        return retry, reachable

    # -- blocking use (trainers call reward functions synchronously) --------
    def score_sync(self, samples: Sequence[Sample], *, timeout_s: float | None = None) -> list[pb.ScoreResponse | None]:
        """``score`` from synchronous code, also where an event loop is running.

        Trainers call reward functions from synchronous code that may itself
        sit inside a running event loop (Jupyter, Ray actors); a private loop
        thread per scorer works in both cases and keeps its gRPC channels
        alive between calls.
        """
        with self._sync_lock:
            if self._sync_loop is None:
                self._sync_loop = asyncio.new_event_loop()
                threading.Thread(target=self._sync_loop.run_forever, name="rlce-batch", daemon=True).start()
        future = asyncio.run_coroutine_threadsafe(self.score(samples, timeout_s=timeout_s), self._sync_loop)
        return future.result()
