"""A real rlce server on loopback, run in a thread of the test process."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from rlce_server.app import App
from rlce_server.config import Settings


class ServerThread:
    def __init__(self, **overrides: Any) -> None:
        overrides.setdefault("port", 0)
        overrides.setdefault("metrics_port", 0)
        overrides.setdefault("workers", 2)
        self.settings = Settings(**overrides)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.app: App | None = None

    def _call(self, coro: Any, timeout: float = 300) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> ServerThread:
        self.thread.start()

        async def make() -> App:
            return App(self.settings)

        self.app = self._call(make())
        self._call(self.app.start())
        return self

    def sandbox(self, engine: Any, runtime: str) -> Any:
        """This server's one sandbox container of ``runtime`` (a server of one worker)."""
        labels = [f"rlce.server={self.settings.instance_id}", f"rlce.runtime={runtime}"]
        [box] = engine.containers.list(filters={"label": labels}, ignore_removed=True)
        return box

    @property
    def target(self) -> str:
        assert self.app is not None
        return f"{self.settings.host}:{self.app.port}"

    def stop(self) -> None:
        if self.app is not None:
            self._call(self.app.stop(grace_s=2))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
