"""Result cache: identical requests are scored once.

A GRPO group often holds the same program several times, and evaluation
runs repeat whole sets; running them again only costs the trainer time.
The key is a digest of everything that decides the answer -- every field
of the job (language, program, tests with their inputs, expected values,
match modes and weights, limits, reward mode, stop policy, the problem's
checker and interactor) and the digests of the images it runs in -- and
never the request id. Values are serialised responses (bytes), so one cache can be
local (LRU bounded by bytes) and, optionally, shared between servers on
Redis. Requests that are identical and in flight at the same time are
coalesced: one runs, the others wait for its answer.

What is never cached: SANDBOX_ERROR (ours, not the program's) and anything
when the request sets ``policy.no_cache``. A Redis that fails is a miss,
never a failed request.

The shared tier is signed (``SignedStore``): whoever can write to that Redis
must not be able to write rewards. Each entry carries an HMAC-SHA256, under a
key only the servers hold, of its name and value; an entry that does not
check (unsigned, forged, another key's, moved from another name) is a miss,
counted in ``rlce_cache_shared_rejected_total``. Entry names carry a key id,
so servers with different keys (a key rotation) do not see each other's
entries as forgeries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from ..domain import Job
from ..metrics import Metrics

log = logging.getLogger("rlce.cache")


# Fields of a Job that do not decide its answer. Every other field is in the key,
# by construction: a field added to Job later (as the checker and interactor
# were) is keyed without anyone remembering to add it here.
NOT_KEYED = frozenset({"request_id", "no_cache"})


def cache_key(job: Job, image_digest: str) -> str:
    """Content digest of a job: every field but ``NOT_KEYED``, and the images it runs in.

    ``image_digest`` names every image the job's answer depends on (its own
    runtime's and its judges' runtimes', see ``Servicer``).
    """
    h = hashlib.sha256()
    _feed(h, "rlce-cache-v3")
    _feed(h, image_digest)
    for f in dataclasses.fields(job):
        if f.name not in NOT_KEYED:
            _feed(h, f.name)
            _feed(h, getattr(job, f.name))
    return h.hexdigest()


def _feed(h: Any, value: object) -> None:
    """Hash ``value`` unambiguously (type tag, length prefix): bytes as they are, not their repr --
    this runs on the event loop for every Score, and a C++ checker carries testlib.h (200 KB)."""
    if isinstance(value, (bytes, str)):
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big") + (b"b" if data is value else b"s"))
        h.update(data)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        tag, names = _shape(type(value))
        h.update(tag)
        for name in names:
            _feed(h, getattr(value, name))
    elif isinstance(value, (tuple, list)):
        h.update(len(value).to_bytes(8, "big") + b"t")
        for item in value:
            _feed(h, item)
    else:  # None, bool, numbers, enums: a short, deterministic repr
        _feed(h, repr(value))


@functools.cache
def _shape(cls: Any) -> tuple[bytes, tuple[str, ...]]:
    """A dataclass's tag (its name, length-prefixed) and field names, worked out once per class."""
    name = cls.__name__.encode()
    return len(name).to_bytes(8, "big") + b"d" + name, tuple(f.name for f in dataclasses.fields(cls))


class SharedStore(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...

    async def close(self) -> None: ...


class RedisStore:
    """A cache shared by several rlce servers (``--cache-redis-url``)."""

    def __init__(self, url: str, ttl_s: int, prefix: str = "rlce:result:") -> None:
        import redis.asyncio as aioredis  # optional dependency, imported only when used

        self._redis: Any = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.ttl_s = ttl_s
        self.prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self.prefix + key)
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes) -> None:
        await self._redis.set(self.prefix + key, value, ex=self.ttl_s)

    async def close(self) -> None:
        await self._redis.aclose()


TAG_BYTES = 32


def _tag(key: bytes, name: str, value: bytes) -> bytes:
    return hmac.new(key, b"rlce-cache-entry-v1\0" + name.encode() + b"\0" + value, hashlib.sha256).digest()


def sign(key: bytes, name: str, value: bytes) -> bytes:
    """The entry stored under ``name``: its tag, then the value."""
    return _tag(key, name, value) + value


def verify(key: bytes, name: str, entry: bytes) -> bytes | None:
    """The value of a signed entry read from ``name``, or None if its tag does not check."""
    tag, value = entry[:TAG_BYTES], entry[TAG_BYTES:]
    return value if hmac.compare_digest(tag, _tag(key, name, value)) else None


class SignedStore:
    """A shared store whose entries are signed; an entry that fails the check is a miss."""

    def __init__(self, inner: SharedStore, key: bytes, rejected: Callable[[], None]) -> None:
        self.inner = inner
        self.key = key
        self.rejected = rejected
        self.key_id = hmac.new(key, b"rlce-cache-key-id", hashlib.sha256).hexdigest()[:16]

    def name(self, key: str) -> str:
        return f"{self.key_id}:{key}"

    async def get(self, key: str) -> bytes | None:
        name = self.name(key)
        entry = await self.inner.get(name)
        if entry is None:
            return None
        value = verify(self.key, name, entry)
        if value is None:
            log.warning("shared cache entry %s failed its signature check: ignored", name)
            self.rejected()
        return value

    async def set(self, key: str, value: bytes) -> None:
        name = self.name(key)
        await self.inner.set(name, sign(self.key, name, value))

    async def close(self) -> None:
        await self.inner.close()


class _Flight:
    def __init__(self, task: asyncio.Task[tuple[bytes, bool, bool]]) -> None:
        self.task = task
        self.waiters = 0


Run = Callable[[], Awaitable[tuple[bytes, bool]]]


class ResultCache:
    """LRU by bytes, coalescing, and an optional shared tier."""

    def __init__(self, max_bytes: int, metrics: Metrics, shared: SharedStore | None = None) -> None:
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.shared = shared
        self.bytes = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        metrics.watch_cache(lambda: self.bytes, lambda: len(self._items))

    def _local_get(self, key: str) -> bytes | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def _local_put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= len(old)
        self._items[key] = value
        self.bytes += len(value)
        while self.bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self.bytes -= len(evicted)

    async def _shared_get(self, key: str) -> bytes | None:
        if self.shared is None:
            return None
        try:
            return await self.shared.get(key)
        except Exception as exc:  # a cache outage is a miss
            log.warning("shared cache get failed: %s", exc)
            self.metrics.cache_errors.inc()
            return None

    async def _shared_put(self, key: str, value: bytes) -> None:
        if self.shared is None:
            return
        try:
            await self.shared.set(key, value)
        except Exception as exc:
            log.warning("shared cache set failed: %s", exc)
            self.metrics.cache_errors.inc()

    async def _fill(self, key: str, language: str, run: Run) -> tuple[bytes, bool, bool]:
        """One flight: the shared tier, else a run. (answer, cacheable, from the shared tier)"""
        value = await self._shared_get(key)
        if value is not None:
            self.metrics.cache_hits.labels(language, "shared").inc()
            self._local_put(key, value)
            return value, True, True
        self.metrics.cache_misses.labels(language).inc()
        value, cacheable = await run()
        if cacheable:
            self._local_put(key, value)
            await self._shared_put(key, value)
        return value, cacheable, False

    async def get_or_run(self, key: str, language: str, run: Run) -> tuple[bytes, bool]:
        """The answer for ``key`` and whether it came from the cache (or a
        coalesced run). ``run`` returns the serialised answer and whether it
        may be cached. One flight per key at a time: identical requests that
        arrive meanwhile wait for it (one Redis lookup, one run)."""
        value = self._local_get(key)
        if value is not None:
            self.metrics.cache_hits.labels(language, "local").inc()
            return value, True
        flight = self._flights.get(key)
        if flight is not None:
            self.metrics.cache_hits.labels(language, "coalesced").inc()
            return await self._follow(flight, run), True
        task = asyncio.get_running_loop().create_task(self._fill(key, language, run))
        flight = _Flight(task)
        self._flights[key] = flight
        task.add_done_callback(lambda _: self._flights.pop(key, None) if self._flights.get(key) is flight else None)
        value, _, shared = await self._wait(flight)
        return value, shared

    async def _wait(self, flight: _Flight) -> tuple[bytes, bool, bool]:
        """Wait for a shared run; the last waiter to leave cancels it."""
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            if flight.waiters == 1 and not flight.task.done():
                flight.task.cancel()
            raise
        finally:
            flight.waiters -= 1

    async def _follow(self, flight: _Flight, run: Run) -> bytes:
        try:
            value, cacheable, _ = await self._wait(flight)
        except Exception:  # the leader's own failure (overload, say) is not ours: run
            value, _ = await run()
            return value
        if not cacheable:  # a sandbox failure: not shared with other requests
            value, _ = await run()
        return value

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
