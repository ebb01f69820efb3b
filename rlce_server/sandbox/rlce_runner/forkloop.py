"""The zygote's loop in C (sandbox_images/spawn/forkloop.c), through ctypes.

Why: after each fork every page the zygote writes is a copy-on-write fault,
and its Python loop wrote ~120 pages per fork (~250 faults per Python test).
The C loop forks and sets up the zygote's own roles, execs through the fork
servers, and reaps and reports every exit without returning to Python; a
forked child goes on in the callable it is given, and the loop returns in the
zygote only for the rare things Python serves there (kill and wipe, a denied
call), one request and one denied call per pass. Loaded with ``PyDLL``: the
loop holds the GIL and forks as ``os.fork`` does.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from . import spawn

LIBRARY = "/usr/lib/rlce/forkloop.so"
SERVE, DENIED = 1, 2  # forkloop.c's kinds


@dataclass
class Served:
    """What the loop returned with: its kind, a request (SERVE) and its descriptors."""

    kind: int
    message: bytes
    fds: list[int]


class ForkLoop:
    def __init__(
        self,
        ctl: int,
        notify: int,
        forkers: tuple[int, int],
        forker_socks: tuple[int, int],
        candidate_uid: int,
        max_msg: int,
        max_fds: int,
        child: Callable[[bytes, str], NoReturn],
    ) -> None:
        lib = ctypes.PyDLL(LIBRARY)
        self._serve = lib.rlce_forkloop_serve
        self._track = lib.rlce_forkloop_track
        # made once, before the zygote's gc.freeze: a call allocates nothing new to touch
        self._buf = ctypes.create_string_buffer(max_msg)
        self._fds = (ctypes.c_int * max_fds)()
        self._nfds = ctypes.c_int(0)
        self._kind = ctypes.c_int(0)
        self._cap = max_msg
        self._child = ctypes.py_object(child)  # child(role, payload)
        lib.rlce_forkloop_init.argtypes = [ctypes.c_int] * 6 + [ctypes.c_longlong, ctypes.c_char_p]
        init = lib.rlce_forkloop_init(ctl, notify, *forkers, *forker_socks, candidate_uid, os.fsencode(spawn.HELPER))
        if init != 0:
            raise OSError("the zygote's loop cannot watch for SIGCHLD (signalfd)")

    def serve(self) -> Served:
        self._nfds.value = 0
        n = self._serve(
            self._buf,
            self._cap,
            self._fds,
            ctypes.byref(self._nfds),
            len(self._fds),
            ctypes.byref(self._kind),
            self._child,
        )
        served = Served(self._kind.value, self._buf.raw[:n], list(self._fds[: self._nfds.value]))
        ctypes.memset(self._buf, 0, n)  # (a later child's copy of this process holds its own request only)
        return served

    def track(self, pid: int, job: str) -> None:
        """Report this process's exit too (one the zygote started in Python)."""
        if self._track(pid, job.encode()) != 0:
            raise OSError(f"the zygote's loop cannot track process {pid}")
