"""A session sandbox on the host side: one container, many requests in flight.

The session runner answers frames ``{"id": n, "request": ...}`` in the order
they finish (``rlce_runner/sessions.py``), so one connection carries every
session of the container: a reader task hands each reply to the call that
waits for it. A lost connection, a malformed reply or a call past its
deadline means the runner's state is unknown: the sandbox is *broken*, every
call in flight fails with SandboxFault, and its sessions are gone.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, TypeVar

from ..errors import SandboxFault
from .docker_backend import DockerSandbox
from .rlce_runner import protocol
from .rlce_runner.protocol import FRAME_HEADER

R = TypeVar("R")


class SessionSandbox(DockerSandbox):
    """A container whose runner serves sessions; ``slots`` trees fit in it."""

    def __init__(self, runtime: str, container: Any, control_dir: Any, reply_cap: int) -> None:
        super().__init__(runtime, container, control_dir, reply_cap)
        self.slots = 0
        self.trees = 0  # slots in use (the host's count; the runner has the last word: "full")
        self.broken = ""
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self, timeout_s: float) -> None:
        await self.open_connection(timeout_s)
        self._reader_task = asyncio.get_running_loop().create_task(self._read())
        hello = await self.call(protocol.Hello(), protocol.HelloReply, timeout_s)
        if hello.version != protocol.PROTOCOL_VERSION or hello.mode != "sessions":
            raise SandboxFault(f"runner in {self.id} does not serve sessions; rebuild the images")
        if hello.leftovers:
            raise SandboxFault(f"runner in {self.id} is not clean: {hello.leftovers}")
        self.version = hello.toolchain or hello.python
        self.slots = hello.slots

    async def call(self, msg: Any, reply_type: type[R], timeout_s: float) -> R:
        """One request; its reply whenever it comes. SandboxFault if the sandbox breaks meanwhile."""
        if self.broken or self._writer is None:
            raise SandboxFault(f"session sandbox {self.id} is broken: {self.broken or 'not connected'}")
        rid = next(self._ids)
        payload = json.dumps({"id": rid, "request": protocol.dump(msg)}, separators=(",", ":"))
        data = payload.encode("utf-8", "surrogatepass")
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        try:
            self._writer.write(FRAME_HEADER.pack(len(data)) + data)
            async with asyncio.timeout(timeout_s):
                await self._writer.drain()
                reply = await fut
        except TimeoutError:
            self.fail(f"no answer within {timeout_s:.1f}s")
            raise SandboxFault(f"runner of {self.id} did not answer within {timeout_s:.1f}s") from None
        except OSError as exc:
            self.fail(repr(exc))
            raise SandboxFault(f"lost the runner of {self.id}: {exc!r}") from None
        finally:
            self._waiting.pop(rid, None)
        if not reply.get("ok"):
            raise SandboxFault(f"runner of {self.id} refused a request: {str(reply.get('error'))[:500]}")
        try:
            return protocol.load(reply_type, reply.get("result"), reply_type.__name__)
        except protocol.ProtocolError as exc:
            self.fail(str(exc))
            raise SandboxFault(f"malformed reply from the runner of {self.id}: {exc}") from None

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while True:
                (size,) = FRAME_HEADER.unpack(await self._reader.readexactly(FRAME_HEADER.size))
                if size > self.reply_cap:
                    raise SandboxFault(f"runner reply of {size} bytes is too large")
                raw = await self._reader.readexactly(size)
                reply = await asyncio.to_thread(json.loads, raw) if size > (256 << 10) else json.loads(raw)
                rid = reply.get("id") if isinstance(reply, dict) else None
                if rid is None:  # {"ok": false, "broken": ...}: the runner is ending
                    raise SandboxFault(
                        str(reply.get("broken") or reply.get("error") if isinstance(reply, dict) else reply)
                    )
                fut = self._waiting.get(rid)
                if fut is not None and not fut.done():
                    fut.set_result(reply)
        except (OSError, asyncio.IncompleteReadError, ValueError, RecursionError, SandboxFault) as exc:
            self.fail(str(exc)[:500] or repr(exc))

    def fail(self, why: str) -> None:
        """The runner's state is unknown from now on: every waiting call fails."""
        if not self.broken:
            self.broken = why or "broken"
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(SandboxFault(f"session sandbox {self.id} broke: {self.broken}"))
        self._waiting.clear()

    def close(self) -> None:
        self.fail("closed")
        if self._reader_task is not None:
            self._reader_task.cancel()
            self._reader_task = None
        super().close()
