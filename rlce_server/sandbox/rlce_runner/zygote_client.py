"""The runner's side of the zygote's SOCK_SEQPACKET control socket.

The runner asks for processes (a role, a uid, descriptors, limits) and learns
of each one's start (``spawned``) and end (``exited``, with its wait status
and resource usage). Nothing here blocks past a deadline it was given.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import socket
import time
from collections import Counter
from typing import Any

from . import spawn
from .settings import KILL_WAIT_S, SCRATCH_DIRS


def poll_ms(seconds: float) -> int:
    """A wait for poll(2): whole milliseconds, rounded up, and at most what its int holds (a far
    deadline is waited for in parts)."""
    return min(math.ceil(seconds * 1000), 1 << 30)


class SandboxBroken(RuntimeError):
    """Our machinery failed; the host must replace this sandbox."""


class ZygoteClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exited: dict[str, dict[str, Any]] = {}
        self.pids: dict[str, int] = {}
        self.failed: dict[str, str] = {}
        self.denied: Counter[str] = Counter()  # system calls the filter refused, by name, since cleared
        self._seq = 0
        self.helper_tasks = 0  # trusted processes the zygote keeps besides itself (its fork servers)
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)

    def pump(self, timeout: float) -> None:
        """Read at most one message, waiting up to ``timeout`` seconds.

        The wait is clamped to at least a millisecond: a deadline computed a
        moment ago may already have passed. A message already there is read
        at once, in one system call.
        """
        try:
            try:
                msg = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                # nothing yet: wait (the socket itself stays blocking for everyone else,
                # so no timeout is set on it and taken off again around each read)
                if not self._poll.poll(poll_ms(max(timeout, 0.001))):
                    return
                try:
                    msg = self.sock.recv(65536, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    return
        except OSError as exc:  # (a zygote that died with messages unread resets the socket)
            raise SandboxBroken(f"zygote died: {exc}") from None
        if not msg:
            raise SandboxBroken("zygote died")
        obj = json.loads(msg)
        if "exited" in obj:
            self.exited[obj["exited"]] = obj
        elif "spawned" in obj:
            self.pids[obj["spawned"]] = obj["pid"]
        elif "spawn_failed" in obj:
            self.failed[obj["spawn_failed"]] = obj.get("error", "")
        elif "denied" in obj:
            self.denied[str(obj["denied"])[:64]] += 1

    def request(self, role: str, uid: int, fds: list[int], **extra: Any) -> str:
        """Ask for a process and return at once; its ``spawned`` (or ``spawn_failed``) comes with a later pump."""
        self._seq += 1
        pid_id = f"p{self._seq}"
        req = {"id": pid_id, "role": role, "uid": uid, "gid": uid, **extra}
        # "<role> <id> <set-up>" first: what the zygote's C loop reads (forkloop.c)
        head = " ".join([role, pid_id, *spawn.setup_args(req)]).encode() + b"\n"
        socket.send_fds(self.sock, [head + json.dumps(req).encode()], fds)
        return pid_id

    def spawn(self, role: str, uid: int, fds: list[int], **extra: Any) -> str:
        pid_id = ""
        for attempt in range(20):
            pid_id = self.request(role, uid, fds, **extra)
            deadline = time.monotonic() + KILL_WAIT_S
            while pid_id not in self.pids and pid_id not in self.failed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxBroken("zygote did not answer a spawn request")
                self.pump(left)
            if pid_id in self.pids:
                return pid_id
            time.sleep(0.005 * (attempt + 1))  # fork failed (EAGAIN): a moment for pids to free up
        raise SandboxBroken(f"cannot fork a {role} process: {self.failed.get(pid_id)}")

    def wait(self, pid_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while pid_id not in self.exited:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxBroken(f"process {pid_id} did not exit after SIGKILL")
            self.pump(left)
        self.pids.pop(pid_id, None)
        return self.exited.pop(pid_id)

    def wait_quietly(self, pid_id: str, timeout: float) -> None:
        """Give a process up to ``timeout`` to end by itself."""
        deadline = time.monotonic() + timeout
        while pid_id not in self.exited and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())

    def wait_ready(self) -> None:
        """Block until the zygote has finished its start-up (its first message)."""
        self.sock.settimeout(120)
        msg = self.sock.recv(65536)
        self.sock.settimeout(None)
        ready = json.loads(msg or b"{}")
        if ready.get("ready") is not True:
            raise SandboxBroken("zygote failed to start")
        self.helper_tasks = int(ready.get("helper_tasks", 0))

    def kill_uid(self, uid: int, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (SIGKILL, SIGSTOP or SIGCONT) to every process of ``uid``."""
        helper = self.spawn("kill", uid, [], signal=int(sig))
        self.wait(helper, KILL_WAIT_S)

    def wipe(self, uid: int) -> bool:
        helper = self.spawn("wipe", uid, [], paths=list(SCRATCH_DIRS))
        rec = self.wait(helper, 30.0)
        return os.waitstatus_to_exitcode(rec["status"]) == 0

    def forget_exits(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Drop the exits nobody waits for (a session sandbox's states end when it says so)."""
        for pid_id in [p for p in self.exited if p not in keep]:
            self.pids.pop(pid_id, None)
            del self.exited[pid_id]
