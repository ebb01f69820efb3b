"""A server in this process for one-off jobs (``rlce eval`` without
``--target``, ``rlce demo``): build the images if needed, start, yield the
target, stop and remove every container."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rich.console import Console

from .config import Settings


@asynccontextmanager
async def local_server(console: Console, runtimes: list[str], **overrides: Any) -> AsyncIterator[str]:
    from .app import App
    from .images import build

    settings = Settings(port=0, metrics_port=0, runtimes=runtimes, **overrides)
    with console.status("building the sandbox images (cached after the first run)"):
        await asyncio.to_thread(build, settings, runtimes)
    app = App(settings)
    try:
        with console.status(f"warming {settings.workers} sandboxes and running the self-test"):
            await app.start()
        yield f"{settings.host}:{app.port}"
    finally:
        await app.stop(grace_s=1)
