"""The real backend: warm Docker containers driven over a unix socket.

Docker API calls (create, start, remove) happen only when a sandbox is made
or destroyed, in a worker thread, never per job or per test. Each container
gets a private control directory on the host, bind-mounted at /rlce/ctl,
where its runner listens; the host keeps one connection per container.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import docker
import docker.errors
import requests

from ..config import Settings
from ..errors import EngineUnavailable, SandboxFault
from ..runtimes import RuntimeSpec
from .hardening import container_kwargs, session_container_kwargs
from .rlce_runner import protocol
from .rlce_runner.protocol import FRAME_HEADER

if TYPE_CHECKING:
    from .session_sandbox import SessionSandbox

# What the docker SDK raises when the engine is unreachable is not always a
# DockerException (requests' ConnectionError leaks through): all are engine faults.
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)
LABEL_SERVER = "rlce.server"
LABEL_RUNTIME = "rlce.runtime"
LABEL_OWNER = "rlce.owner"  # "<hostname>:<pid>" of the server process


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(owner: str) -> bool:
    """True when the labelled server process is known to be gone.

    Containers of a server on another host (a shared engine) are never ours
    to judge, so they are left alone.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


R = TypeVar("R")
# Replies larger than this are decoded in a worker thread, not on the event loop.
DECODE_INLINE_BYTES = 256 * 1024


class DockerSandbox:
    """One warm container and the open connection to its runner."""

    def __init__(self, runtime: str, container: Any, control_dir: Path, reply_cap: int) -> None:
        self.id = container.name
        self.reply_cap = reply_cap  # protocol.reply_cap of the limits this server admits
        self.runtime = runtime
        self.container = container
        self.control_dir = control_dir
        self.jobs_run = 0
        self.version = ""
        self.last_removed: dict[str, int] = {}
        self.last_reply_bytes = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self, timeout_s: float) -> None:
        await self.open_connection(timeout_s)
        hello = await self._call(protocol.Hello(), protocol.HelloReply, timeout_s)
        if hello.version != protocol.PROTOCOL_VERSION:
            raise SandboxFault(f"runner in {self.id} speaks protocol {hello.version}; rebuild the images")
        if hello.leftovers:
            raise SandboxFault(f"runner in {self.id} is not clean: {hello.leftovers}")
        self.version = hello.toolchain or hello.python

    async def open_connection(self, timeout_s: float) -> None:
        """Connect to the runner's socket once it listens (a container that dies first is a fault)."""
        sock_path = self.control_dir / protocol.SOCKET_NAME
        deadline = time.monotonic() + timeout_s
        next_check = time.monotonic() + 0.5
        while True:
            try:
                self._reader, self._writer = await asyncio.open_unix_connection(str(sock_path), limit=1 << 20)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                now = time.monotonic()
                if now > deadline:
                    raise SandboxFault(f"runner in {self.id} did not start within {timeout_s}s") from None
                if now > next_check:  # a container that died while starting is not waited for
                    next_check = now + 0.5
                    status = await asyncio.to_thread(self._status)
                    if status not in ("created", "running"):
                        raise SandboxFault(f"container {self.id} is {status} before its runner started") from None
                await asyncio.sleep(0.02)

    def _status(self) -> str:
        try:
            self.container.reload()
            return str(self.container.status)
        except ENGINE_ERRORS as exc:
            return f"unknown ({exc})"

    async def _call(self, msg: protocol.Request, reply_type: type[R], timeout_s: float) -> R:
        """One request frame out, one typed reply in; every failure is a SandboxFault."""
        if self._writer is None or self._reader is None:
            raise SandboxFault(f"sandbox {self.id} is not connected")
        payload = json.dumps(protocol.dump(msg), separators=(",", ":")).encode("utf-8", "surrogatepass")
        try:
            self._writer.write(FRAME_HEADER.pack(len(payload)) + payload)
            async with asyncio.timeout(timeout_s):
                await self._writer.drain()
                (size,) = FRAME_HEADER.unpack(await self._reader.readexactly(FRAME_HEADER.size))
                if size > self.reply_cap:
                    raise SandboxFault(f"runner reply of {size} bytes is too large")
                raw = await self._reader.readexactly(size)
                self.last_reply_bytes = size
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise SandboxFault(f"lost the runner of {self.id}: {exc!r}") from None
        except TimeoutError:
            raise SandboxFault(f"runner of {self.id} did not answer within {timeout_s:.1f}s") from None
        if size > DECODE_INLINE_BYTES:
            return await asyncio.to_thread(self._decode, raw, reply_type)
        return self._decode(raw, reply_type)

    def _decode(self, raw: bytes, reply_type: type[R]) -> R:
        try:
            reply = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise SandboxFault(f"malformed reply from the runner of {self.id}: {exc}") from None
        if not isinstance(reply, dict) or not reply.get("ok"):
            what = reply.get("broken") or reply.get("error") if isinstance(reply, dict) else reply
            raise SandboxFault(f"runner of {self.id} failed: {str(what)[:500]}")
        try:
            return protocol.load(reply_type, reply.get("result"), reply_type.__name__)
        except protocol.ProtocolError as exc:
            raise SandboxFault(f"malformed reply from the runner of {self.id}: {exc}") from None

    async def run(self, request: protocol.RunRequest, timeout_s: float) -> protocol.RunFacts:
        return await self._call(request, protocol.RunFacts, timeout_s)

    async def run_batch(self, request: protocol.RunBatch, timeout_s: float) -> protocol.BatchFacts:
        return await self._call(request, protocol.BatchFacts, timeout_s)

    async def build(self, request: protocol.Build, timeout_s: float) -> protocol.BuildFacts:
        return await self._call(request, protocol.BuildFacts, timeout_s)

    async def fetch(self, request: protocol.Fetch, timeout_s: float) -> protocol.Artifact:
        return await self._call(request, protocol.Artifact, timeout_s)

    async def install(self, request: protocol.Install, timeout_s: float) -> protocol.BuildFacts:
        return await self._call(request, protocol.BuildFacts, timeout_s)

    async def judge(self, request: protocol.JudgeRun, timeout_s: float) -> protocol.JudgeFacts:
        return await self._call(request, protocol.JudgeFacts, timeout_s)

    async def reset(self, timeout_s: float) -> bool:
        self.jobs_run += 1
        try:
            reply = await self._call(protocol.Reset(), protocol.ResetReply, timeout_s)
        except SandboxFault:
            return False
        self.last_removed = {
            "processes": reply.removed.processes,
            "files": reply.removed.files,
            "ipc": reply.removed.ipc,
        }
        return reply.clean

    def oom_killed(self) -> bool:
        """Did the kernel's OOM killer end this container (a candidate's doing)?"""
        try:
            self.container.reload()
            return bool(self.container.attrs.get("State", {}).get("OOMKilled"))
        except ENGINE_ERRORS:
            return False

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class DockerBackend:
    def __init__(self, settings: Settings, specs: dict[str, RuntimeSpec], client: Any = None) -> None:
        self.settings = settings
        self.specs = specs
        self._client = client
        self._digests: dict[str, str] = {}
        self.run_dir = settings.run_dir / settings.instance_id
        self._cpu_lock = threading.Lock()
        self._cpu_of: dict[str, int] = {}  # sandbox name -> the host CPU it is pinned to
        self._engine_cpus: int | None = None

    def _pick_cpu(self, name: str) -> int | None:
        """Pin each sandbox to the engine host's least used CPU (so one each
        while there are CPUs to spare; replacements fill the gap left)."""
        if not self.settings.pin_sandbox_cpus or self.settings.sandbox_cpus > 1:
            return None
        with self._cpu_lock:
            if self._engine_cpus is None:
                self._engine_cpus = int(self.client.info().get("NCPU") or 0)
            if self._engine_cpus <= 1:
                return None
            used = [0] * self._engine_cpus
            for cpu in self._cpu_of.values():
                used[cpu] += 1
            cpu = min(range(self._engine_cpus), key=used.__getitem__)  # the lowest of the least used
            self._cpu_of[name] = cpu
            return cpu

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=60)
            except docker.errors.DockerException as exc:
                raise EngineUnavailable(f"cannot reach the Docker engine: {exc}") from None
        return self._client

    def image_digest(self, runtime: str) -> str:
        if runtime not in self._digests:
            image = self.client.images.get(self.settings.image_name(runtime))
            self._digests[runtime] = image.id
        return self._digests[runtime]

    def _create_sync(self, runtime: str, sessions: bool = False) -> DockerSandbox:
        spec = self.specs[runtime]
        name = f"rlce-{self.settings.instance_id}-{runtime}{'-sessions' if sessions else ''}-{uuid.uuid4().hex[:8]}"
        control_dir = self.run_dir / name
        control_dir.mkdir(parents=True, mode=0o700)
        labels = {LABEL_SERVER: self.settings.instance_id, LABEL_RUNTIME: runtime, LABEL_OWNER: _owner()}
        # Session sandboxes are not pinned: a cell hands off runner -> state -> cell -> runner a few
        # times, never ping-pongs, and on a busy host waits less when any CPU may take it
        # (Exec p50 5 ms unpinned against 7.5 ms pinned, docs/PERFORMANCE.md); the quota still holds.
        image, cpu = self.image_digest(runtime), None if sessions else self._pick_cpu(name)
        if sessions:
            kwargs = session_container_kwargs(self.settings, image, control_dir, labels, name, cpu=cpu)
        else:
            kwargs = container_kwargs(self.settings, spec, image, control_dir, labels, name, cpu=cpu)
        try:
            container = self.client.containers.create(**kwargs)
            container.start()
        except ENGINE_ERRORS as exc:
            shutil.rmtree(control_dir, ignore_errors=True)
            with self._cpu_lock:
                self._cpu_of.pop(name, None)
            raise EngineUnavailable(f"cannot start a {runtime} sandbox: {exc}") from None
        cap = protocol.reply_cap(self.settings.limits.max_output_limit_bytes, self.settings.fetch_max_bytes)
        if sessions:
            from .session_sandbox import SessionSandbox as Sessions

            return Sessions(runtime, container, control_dir, cap)
        return DockerSandbox(runtime, container, control_dir, cap)

    async def create(self, runtime: str, sessions: bool = False) -> DockerSandbox:
        sandbox = await asyncio.to_thread(self._create_sync, runtime, sessions)
        try:
            await sandbox.connect(timeout_s=30.0)
        except BaseException:
            await self.destroy(sandbox)
            raise
        return sandbox

    async def create_sessions(self, runtime: str) -> SessionSandbox:
        """A session sandbox of ``runtime`` (docs/SESSIONS.md), connected and checked."""
        from .session_sandbox import SessionSandbox as Sessions

        sandbox = await self.create(runtime, sessions=True)
        assert isinstance(sandbox, Sessions)
        return sandbox

    def _destroy_sync(self, sandbox: DockerSandbox) -> None:
        with self._cpu_lock:
            self._cpu_of.pop(sandbox.id, None)
        try:
            sandbox.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except ENGINE_ERRORS:
            pass  # swept up by remove_leftovers at the next start or stop
        shutil.rmtree(sandbox.control_dir, ignore_errors=True)

    async def destroy(self, sandbox: Any) -> None:
        sandbox.close()
        await asyncio.to_thread(self._destroy_sync, sandbox)

    def _remove_leftovers_sync(self, own: bool) -> int:
        removed = 0
        # ignore_removed: another server (or the engine) may remove one of its containers between
        # the listing and the SDK's inspect of each; that one is no leftover of ours to remove
        containers = self.client.containers.list(all=True, filters={"label": LABEL_SERVER}, ignore_removed=True)
        for c in containers:
            mine = c.labels.get(LABEL_SERVER) == self.settings.instance_id
            if own != mine or (not own and not _owner_is_dead(c.labels.get(LABEL_OWNER, ""))):
                continue
            try:
                c.remove(force=True)
                removed += 1
            except ENGINE_ERRORS:
                pass
            instance = c.labels.get(LABEL_SERVER, "")
            if instance and "/" not in instance and instance not in (".", ".."):
                shutil.rmtree(self.settings.run_dir / instance, ignore_errors=True)
        if own:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return removed

    async def remove_leftovers(self, *, own: bool) -> int:
        """Remove containers of earlier, dead server processes, or our own at stop."""
        return await asyncio.to_thread(self._remove_leftovers_sync, own)

    def ping(self) -> None:
        try:
            self.client.ping()
        except ENGINE_ERRORS as exc:
            raise EngineUnavailable(f"the Docker engine does not answer: {exc}") from None
