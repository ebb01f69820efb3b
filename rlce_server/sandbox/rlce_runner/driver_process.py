"""The runner's handle on the Python test driver (see ``test_driver.py``).

The driver runs under the test uid, forked from the zygote, and takes tests
over a SOCK_SEQPACKET control socket: three descriptors per test (payload,
value channel, record pipe). It is replaced whenever it is in doubt.
"""

from __future__ import annotations

import os
import socket

from .settings import DRIVER_MAX_TESTS, DRIVER_MEMORY_BYTES, KILL_WAIT_S, TEST_FILE_SIZE_BYTES, SandboxSettings
from .zygote_client import SandboxBroken, ZygoteClient


class DriverProcess:
    def __init__(self, zygote: ZygoteClient, settings: SandboxSettings) -> None:
        self.zygote = zygote
        self.settings = settings
        self._current: tuple[str, socket.socket] | None = None
        self.tests = 0

    def pid(self) -> int | None:
        return self.zygote.pids.get(self._current[0]) if self._current is not None else None

    def control(self) -> socket.socket:
        """The driver's control socket, forking a driver first if there is none."""
        if self._current is not None and self._current[0] in self.zygote.exited:
            self.drop()  # it ended between tests: its exit is already known
        if self._current is None:
            self._current = self._fork()
            self.tests = 0
        return self._current[1]

    def _fork(self) -> tuple[str, socket.socket]:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
        boot_r, boot_w = os.pipe2(os.O_CLOEXEC)
        os.close(boot_w)
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        try:
            limits = {
                "nproc": self.settings.nproc,
                "address_space_bytes": DRIVER_MEMORY_BYTES,
                "file_size_bytes": TEST_FILE_SIZE_BYTES,
            }
            fds = [null, null, null, boot_r, ready_w, theirs.fileno()]
            pid_id = self.zygote.spawn("driver", self.settings.test_uid, fds, cwd="/", limits=limits)
        finally:
            for fd in (null, boot_r, ready_w):
                os.close(fd)
            theirs.close()
        ready = os.read(ready_r, 1)  # the driver's set-up finished (or it died: b"")
        os.close(ready_r)
        if ready != b"R":
            mine.close()
            raise SandboxBroken("the test driver failed to start")
        return pid_id, mine

    def tested(self, retire: bool) -> None:
        """One more test done; a driver that asked to retire, or reached its budget, goes."""
        self.tests += 1
        if retire or self.tests >= DRIVER_MAX_TESTS:
            self.drop()

    def drop(self) -> None:
        """End the driver (a fresh one is forked for the next test)."""
        if self._current is None:
            return
        pid_id, sock = self._current
        self._current = None
        sock.close()  # a driver between tests sees end-of-file and exits
        try:
            self.zygote.wait(pid_id, 0.5)
        except SandboxBroken:
            self.zygote.kill_uid(self.settings.test_uid)
            self.zygote.wait(pid_id, KILL_WAIT_S)
