"""Admission: a bounded number of requests in the server, shared fairly between clients.

Every request counts, whether it came alone (``Score``) or on a stream
(``ScoreStream``): a client's share is the capacity divided among the clients
that have requests in, and a client within its share is always let in. Past
the capacity, a unary request beyond its client's share is refused
(RESOURCE_EXHAUSTED) and a stream waits (back-pressure: the server reads no
more of it), so one trainer with many streams cannot crowd out another's
unary calls.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Admission:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.held: Counter[str] = Counter()
        self.total = 0
        self._freed = asyncio.Event()

    def share(self) -> int:
        """One client's fair share of the capacity right now."""
        return max(1, self.capacity // max(1, len(self.held)))

    def try_enter(self, client: str) -> bool:
        held = self.held.get(client, 0)
        if self.total < self.capacity or held < self.capacity // (len(self.held) + (held == 0)):
            self.held[client] += 1
            self.total += 1
            return True
        return False

    async def enter(self, client: str) -> None:
        """Wait until ``client`` may have one more request in."""
        while not self.try_enter(client):
            self._freed.clear()
            await self._freed.wait()

    def leave(self, client: str) -> None:
        self.total -= 1
        self.held[client] -= 1
        if self.held[client] <= 0:
            del self.held[client]
        self._freed.set()

    @asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        await self.enter(client)
        try:
            yield
        finally:
            self.leave(client)
