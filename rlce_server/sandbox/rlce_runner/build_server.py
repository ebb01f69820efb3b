"""A runtime's resident build server: its compiler kept warm between builds.

A Java build step is a JVM start and a cold javac (~0.4 s of CPU) for what a
warm javac compiles in ~50 ms. A runtime may therefore name a build server
(``server`` in a build kind of runtime.toml): one long-lived process per trust
side (program builds, test builds), each under a uid of its own that is none
of the candidate's, the tests' or the judges', so that clearing those uids
after each step never ends it and neither side can signal, trace or read the
other. The runner writes the build's files as the server's uid into a fresh
private directory, sends the step's argv on the server's stdin and reads the
exit code and what the step printed on its stdout (the server's own messages
go to stderr, kept for a failure's report); the step's outputs are then
stored exactly as a step process's would be.

Between builds the server is stopped (SIGSTOP through a helper of its uid):
it runs only while one of its builds runs, and the runner checks after each
build that no file or IPC object appeared outside its build directory (the
scratch directories are empty while a job builds), so a compromised compiler
could not hand anything to a later job's program. Each build gets a fresh
javac task, on a fresh thread with a fixed stack. A build past its wall-clock
deadline or its CPU limit is the program's TIME, a server that dies under a
build the program's KILLED (as a step process's would be); either way, and
after an Error inside the server, the server is gone and the next build
starts a fresh one (after ``MAX_BUILDS`` builds too, as defence in depth). A
server that answers out of protocol is our fault: SandboxBroken.
"""

from __future__ import annotations

import os
import select
import signal
import struct
import time
from dataclasses import dataclass

from . import spawn
from .accounting import tree_use
from .cleanup import kill_until_gone, sandbox_processes
from .pipes import Pipes
from .protocol import Build, BuildFailure, BuildRole
from .settings import BUILD_FILE_SIZE_BYTES, KILL_WAIT_S, SandboxSettings
from .zygote_client import SandboxBroken, ZygoteClient

MAX_BUILDS = 2000
# Every server keeps a build's output to its last 64 KiB (RlceBuild.SERVED_OUTPUT, split.js's
# SERVED_OUTPUT, testgen.py's OUTPUT_KEEP), whatever the program makes its compiler say.
ANSWER_MAX_BYTES = 1 << 20
STDERR_KEEP = 4096


class OutOfProtocol(Exception):
    """The server's answer is not a frame of the protocol: our machinery failed, not the program."""


@dataclass(frozen=True)
class StepFacts:
    """What one build step did, run as a process of its own or served."""

    failure: BuildFailure
    exit_code: int
    output: bytes
    wall_s: float
    cpu_s: float
    signal: int = 0


class BuildServer:
    """One resident build process, started on its first build and again after it ended."""

    def __init__(self, zygote: ZygoteClient, argv: list[str], uid: int, limits: dict[str, int]) -> None:
        self.zygote = zygote
        self.argv = argv
        self.uid = uid
        self.limits = limits
        self.pid_id = ""
        self.pid = 0
        self.to_fd = -1
        self.from_fd = -1
        self.err_fd = -1  # what the server's JVM says itself (its last STDERR_KEEP bytes kept)
        self.said = b""
        self.builds = 0

    @property
    def alive(self) -> bool:
        """Started and not ended: its end may not have been reported by the zygote yet, so its
        /proc entry is read too (a dead server must never be charged to the next build)."""
        if not self.pid_id or self.pid_id in self.zygote.exited:
            return False
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in (b"Z", b"X")

    def tasks(self) -> int:
        """Its threads (all stopped between builds): tasks the pids cgroup holds for it, a zombie's
        one included (read on every test's clean-up: one directory listing, no more)."""
        if not self.pid_id or self.pid_id in self.zygote.exited:
            return 0
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except OSError:
            return 0

    def start(self) -> bool:
        """Start the server; False if it could not (our fault: the build raises SandboxBroken)."""
        pipes = Pipes()
        req_r, req_w = os.pipe2(os.O_CLOEXEC)
        ans_r, ans_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(err_r, False)  # drained while a build runs; the server's end stays blocking
        try:
            fds = [
                pipes.adopt(req_r),
                pipes.adopt(ans_w),
                pipes.adopt(err_w),
                pipes.to_child(spawn.encode(self.argv, {})),
                pipes.from_child("ready", 16),
            ]
            try:
                pid_id = self.zygote.spawn("exec", self.uid, fds, cwd="/", limits=self.limits)
            finally:
                pipes.close_child_ends()
            pipes.pump(
                self.zygote,
                time.monotonic() + KILL_WAIT_S,
                lambda: bool(pipes.streams["ready"].data) or pid_id in self.zygote.exited,
                set(),
            )
            ready = bool(pipes.streams["ready"].data)
        finally:
            pipes.close()
        self.pid_id, self.pid = pid_id, self.zygote.pids.get(pid_id, 0)
        self.to_fd, self.from_fd, self.err_fd, self.builds = req_w, ans_r, err_r, 0
        self.said = b""
        if not ready or not self.pid:
            self.stop()
            return False
        return True

    def stop(self) -> None:
        """Kill it (its uid's every process) and forget it."""
        for fd in (self.to_fd, self.from_fd, self.err_fd):
            if fd >= 0:
                os.close(fd)
        self.to_fd = self.from_fd = self.err_fd = -1
        if self.pid_id:
            self.zygote.kill_uid(self.uid)
            if self.pid_id in self.zygote.pids or self.pid_id in self.zygote.exited:
                self.zygote.wait(self.pid_id, KILL_WAIT_S)
            self.pid_id, self.pid = "", 0
            self._reap_uid()

    def _reap_uid(self) -> None:
        """Wait until no process of the server's uid is left: a server ended mid-build (past its
        deadline, say) may have had compilers running, whose orphans the zygote reaps a moment
        later; the next served step must not count them as the server's leftovers."""
        kill_until_gone(self.zygote, lambda: sandbox_processes((self.uid,)), self.zygote.kill_uid)

    def _cpu_ns(self) -> int | None:
        """The server's CPU and its compilers' (its children, running or reaped)."""
        use = tree_use(self.pid)
        return use[0] if use is not None else None

    def build(self, build_dir: str, argv: list[str], deadline: float, cpu_s: float) -> StepFacts | None:
        """Serve one step in ``build_dir``; None if no server could be started."""
        if self.alive and self.builds >= MAX_BUILDS:
            self.stop()
        msg = _request([build_dir, *argv])
        for _ in range(2):  # a server killed from outside since the check is started afresh, once
            if not self._running():
                return None
            self.builds += 1
            started = time.monotonic()
            cpu0 = self._cpu_ns() or 0
            try:
                answer = self._exchange(msg, deadline)
            except OutOfProtocol as exc:  # our server misbehaving is our fault, never the program's verdict
                self.stop()
                raise SandboxBroken(f"the build server answered out of protocol: {exc}") from None
            if answer is not None:  # None: not sent
                break
            self.stop()
        else:
            return None
        wall = time.monotonic() - started
        cpu = max(0, (self._cpu_ns() or cpu0) - cpu0) / 1e9
        if isinstance(answer, BuildFailure) or cpu > cpu_s:
            self.stop()
            said, self.said = self.said, b""
            if cpu > cpu_s or answer is BuildFailure.TIME:
                return StepFacts(BuildFailure.TIME, 0, b"", wall, cpu)
            return StepFacts(BuildFailure.KILLED, 0, said, wall, cpu, signal=signal.SIGKILL)
        code, ending, output = answer
        if ending:  # it says its state is not to be trusted (an Error inside it): gone before any next build
            self.stop()
        else:
            self.zygote.kill_uid(self.uid, signal.SIGSTOP)
        return StepFacts(BuildFailure.NONE if code == 0 else BuildFailure.EXIT, code, output, wall, cpu)

    def _running(self) -> bool:
        """Continue it, or start it if it has ended; False if it cannot start."""
        if self.alive:
            self.zygote.kill_uid(self.uid, signal.SIGCONT)
            return True
        self.stop()
        return self.start()

    def _drain_stderr(self) -> None:
        try:
            while chunk := os.read(self.err_fd, 1 << 16):
                self.said = (self.said + chunk)[-STDERR_KEEP:]
        except BlockingIOError:
            pass

    def _exchange(self, msg: bytes, deadline: float) -> tuple[int, bool, bytes] | BuildFailure | None:
        """Send a request, read its answer: (exit code, whether the server ends, output), why there
        is none, or None if unsent."""
        try:
            os.write(self.to_fd, msg)
        except OSError:
            return None
        buf = bytearray()
        need = 12
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0:
                return BuildFailure.TIME
            zsock = self.zygote.sock.fileno()
            ready, _, _ = select.select([self.from_fd, zsock, self.err_fd], [], [], left)
            if zsock in ready:
                self.zygote.pump(0)
            if self.err_fd in ready:
                self._drain_stderr()
            if self.from_fd in ready:
                chunk = os.read(self.from_fd, 1 << 16)
                if not chunk:
                    return BuildFailure.KILLED
                buf += chunk
                if len(buf) >= 12 and need == 12:
                    length = struct.unpack(">i", buf[8:12])[0]
                    if not 0 <= length <= ANSWER_MAX_BYTES:
                        raise OutOfProtocol(f"an answer of {length} bytes")
                    need = 12 + length
            elif not self.alive:
                return BuildFailure.KILLED
        self._drain_stderr()
        if len(buf) != need:
            raise OutOfProtocol("more than one answer")
        code, ending = struct.unpack(">ii", buf[:8])
        return code, ending != 0, bytes(buf[12:])


def _request(parts: list[str]) -> bytes:
    """[count][each: int32 length, UTF-8 bytes]: what a server reads on its stdin."""
    data = [p.encode("utf-8", "surrogateescape") for p in parts]
    return struct.pack(">i", len(data)) + b"".join(struct.pack(">i", len(b)) + b for b in data)


def step_limits(settings: SandboxSettings, req: Build) -> dict[str, int]:
    """A build process's limits but CPU: a step's (which adds ``cpu_s``) and a server's (whose CPU
    limit is checked per build instead: an rlimit would add up over its builds)."""
    return {
        "nproc": settings.nproc,
        "address_space_bytes": req.limits.memory_mb << 20,
        "file_size_bytes": BUILD_FILE_SIZE_BYTES,
    }


class BuildServers:
    """A sandbox's build servers, one per side and runtime server argv, made on first use."""

    def __init__(self, zygote: ZygoteClient, settings: SandboxSettings) -> None:
        self.zygote = zygote
        self.settings = settings
        self.servers: dict[tuple[BuildRole, tuple[str, ...]], BuildServer] = {}

    def tasks(self) -> int:
        """Tasks (threads) the build servers hold: trusted, in the cleaner's count."""
        return sum(s.tasks() for s in self.servers.values())

    def for_build(self, req: Build) -> BuildServer | None:
        """The server of this build's side, if its runtime has one (never for a judge)."""
        if not req.server or req.role is BuildRole.JUDGE:
            return None
        key = (req.role, tuple(req.server))
        if key not in self.servers:
            program_side, test_side = self.settings.build_server_uids
            uid = program_side if req.role is BuildRole.PROGRAM else test_side
            self.servers[key] = BuildServer(self.zygote, list(req.server), uid, step_limits(self.settings, req))
        return self.servers[key]
