"""The trusted runner: PID 1 of each sandbox container.

It takes requests from the host over one persistent unix-socket connection
(no ``docker exec`` per job or test) and answers each with facts (see
``protocol``): it asks the zygote for each test's processes, feeds their
inputs, drains their outputs with byte caps, enforces the wall clock, and
after each job kills every process of the sandbox uids, wipes what they
wrote and checks that nothing is left. It judges nothing: expected outputs
never enter the sandbox, and verdicts are made by the host.

Processes and uids (see docs/SECURITY.md): the runner and zygote are uid 0 of
the container with only CAP_SETUID/CAP_SETGID; the program runs as the
candidate uid; test drivers and compiled tests run as the test uid.
"""

from __future__ import annotations

import dataclasses
import errno
import signal
import socket
import sys
import time
from typing import Any

from . import frames, protocol
from .accounting import Counters
from .artifacts import ArtifactStore, BuildRequestError
from .build_server import BuildServers
from .builder import Builder
from .cleanup import Cleaner
from .driver_process import DriverProcess
from .executors import Parts, executors
from .settings import CHILD_ENV, SandboxSettings, SessionSandboxSettings
from .zygote import PR_SET_DUMPABLE, prctl
from .zygote_client import SandboxBroken, ZygoteClient


def _failed(facts: protocol.RunFacts) -> bool:
    """Certainly not a pass, whatever the output (the host decides the rest)."""
    if facts.outcome is not protocol.Outcome.EXITED or facts.program.signal or facts.program.exit_code:
        return True
    judge = facts.judge
    return judge is not None and (judge.outcome is not protocol.Outcome.EXITED or judge.process.exit_code != 0)


class Runner:
    """One request at a time, dispatched to the builder, an executor or the cleaner."""

    def __init__(self, zygote: ZygoteClient, zygote_pid: int, settings: SandboxSettings, toolchain: str = "") -> None:
        self.toolchain = toolchain
        self.driver = DriverProcess(zygote, settings)
        store = ArtifactStore(settings.artifact_cache_bytes)
        store.prepare()
        self.store = store
        servers = BuildServers(zygote, settings)
        self.cleaner = Cleaner(zygote, settings, self.driver.pid, self.driver.drop, store.leftovers, servers.tasks)
        self.builder = Builder(zygote, settings, self.cleaner, store, servers)
        self.parts = Parts(zygote, settings, self.cleaner, store, self.driver, Counters(zygote_pid))
        self.executors = executors(self.parts)

    def handle(self, request: protocol.Request) -> protocol.Reply:
        if isinstance(request, protocol.Hello):
            return protocol.HelloReply(
                version=protocol.PROTOCOL_VERSION,
                python=sys.version.split()[0],
                toolchain=self.toolchain,
                leftovers=self.cleaner.leftovers(),
            )
        if isinstance(request, protocol.Reset):
            return self.reset()
        if isinstance(request, protocol.Build):
            return self.builder.build(request)
        if isinstance(request, protocol.Fetch):
            return self.store.fetch(request.key)
        if isinstance(request, protocol.Install):
            return self.store.install(request.key, request.artifact)
        if isinstance(request, protocol.JudgeRun):  # a problem's answers checked at registration
            return self.parts.judges.check(request.judge, request.output)
        if isinstance(request, protocol.RunBatch):
            return self.batch(request)
        return self.executors[request.kind].run(request)

    def batch(self, request: protocol.RunBatch) -> protocol.BatchFacts:
        """Runs exactly as if each came alone, back to back (RunBatch says when it stops)."""
        started = time.monotonic()
        done: list[protocol.RunFacts] = []
        for run in request.runs:
            left = request.deadline_s - (time.monotonic() - started)
            if left <= 0:
                break
            if run.limits.wall_s > left:
                run = dataclasses.replace(run, limits=dataclasses.replace(run.limits, wall_s=left))
            facts = self.executors[run.kind].run(run)
            done.append(facts)
            if request.stop_after_failure and _failed(facts):
                break
        return protocol.BatchFacts(done)

    def reset(self) -> protocol.ResetReply:
        """Between jobs. The test driver goes too: nothing a request's tests did in
        it (a patched ``math.isclose``, a cached module) can judge the next request;
        the next job's driver is forked afresh from the clean zygote."""
        self.driver.drop()
        self.store.unstage()
        return self.cleaner.reset()

    def reply(self, data: Any) -> dict[str, Any]:
        """The reply frame for one request frame."""
        try:
            request: protocol.Request = protocol.load(protocol.Request, data, "request")
            return {"ok": True, "result": protocol.dump(self.handle(request))}
        except (protocol.ProtocolError, BuildRequestError) as exc:  # the host's bug: refused, sandbox kept
            return {"ok": False, "error": str(exc)}


def serve_host(runner: Runner, listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        fd = conn.fileno()
        try:
            while True:
                try:
                    data = frames.read_json(fd)
                except frames.ChannelClosed:
                    break
                frames.write_json(fd, runner.reply(data))
        except (SandboxBroken, OSError, RuntimeError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET):
                pass  # the host hung up
            else:
                # the sandbox's state is unknown now: say so, and end (the host replaces it)
                try:
                    frames.write_json(fd, {"ok": False, "broken": repr(exc)[:1000]})
                except frames.ChannelClosed:
                    pass
                raise
        finally:
            conn.close()
        runner.reset()


def toolchain_version(argv: list[str]) -> str:
    """The runtime's own version line (``version_command``), once at start-up."""
    import subprocess

    if not argv:
        return sys.version.split()[0]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60, env=CHILD_ENV, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
    return lines[0][:200] if lines else "unknown"


def main(preload: list[str], version_command: list[str] | None = None) -> None:
    import os

    prctl(PR_SET_DUMPABLE, 0)
    settings = SandboxSettings.from_env()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sessions = SessionSandboxSettings.from_env()
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        parent.close()
        from .zygote import main as zygote_main

        zygote_main(
            child,
            preload,
            seccomp=settings.seccomp,
            env=CHILD_ENV,
            sessions=sessions is not None,
            candidate_uid=settings.candidate_uid,
        )
    child.close()
    # Only now: ``subprocess`` imports ``threading``, whose after-fork hook a
    # zygote forked after it would run in every child it makes (~55 more
    # copy-on-write faults per process, docs/PERFORMANCE.md).
    toolchain = toolchain_version(version_command or [])
    zygote = ZygoteClient(parent)
    zygote.wait_ready()
    runner = Runner(zygote, pid, settings, toolchain) if sessions is None else None
    try:
        os.unlink(protocol.SOCKET_PATH)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(protocol.SOCKET_PATH)
    os.chmod(protocol.SOCKET_PATH, 0o600)
    listener.listen(1)
    if runner is not None:
        serve_host(runner, listener)
    else:
        assert sessions is not None
        from .sessions import main as serve_sessions  # a session sandbox (docs/SESSIONS.md)

        serve_sessions(zygote, pid, sessions, toolchain, listener)
