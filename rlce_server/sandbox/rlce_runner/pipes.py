"""Pipes of one spawned process, and the loop that moves their bytes.

The runner feeds each process its inputs and drains its outputs with byte
caps, all non-blocking in one ``select`` loop that also listens to the
zygote (whose ``exited`` messages end a test). Output beyond a cap is counted
but not kept, so a program cannot make the runner hold more than the cap. A
trusted test's output, read only for its message, keeps just its tail (see
``settings.MESSAGE_KEEP_BYTES``).
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable
from typing import Any

from .protocol import Outcome, ProcessFacts
from .zygote_client import SandboxBroken, ZygoteClient, poll_ms


class Stream:
    """One output pipe the runner reads, all of it counted: its first ``cap`` + 1 bytes kept,
    or with ``tail``, its last ``cap`` bytes."""

    def __init__(self, fd: int, cap: int, tail: bool = False) -> None:
        self.fd = fd
        self.cap = cap
        self.tail = tail
        self.data = bytearray()
        self.total = 0
        self.open = True

    def read_some(self) -> bool:
        """Read what is there; False at end of file."""
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return True
        return self._take(chunk)

    def _take(self, chunk: bytes) -> bool:
        if not chunk:
            self.open = False
            return False
        self.total += len(chunk)
        if self.tail:
            self.data += chunk[-self.cap :]
            del self.data[: -self.cap]
            return True
        room = self.cap + 1 - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return True

    def drain_now(self) -> None:
        """Read what the pipe holds now, without waiting for a writer that may live on."""
        while self.open:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            if not self._take(chunk):
                return

    def drain(self) -> None:
        """Every writer is dead (killed by uid): read to end of file."""
        if self.open:
            os.set_blocking(self.fd, True)
            while self.read_some():
                pass

    @property
    def bytes(self) -> bytes:
        return bytes(self.data)


def _pipe() -> tuple[int, int]:
    return os.pipe2(os.O_CLOEXEC)


class Pipes:
    """The pipes of one test's processes: bytes the runner feeds, streams it reads back."""

    def __init__(self) -> None:
        self.writers: dict[int, bytes] = {}
        self.streams: dict[str, Stream] = {}
        self.child_ends: list[int] = []  # closed here once the children have them

    def to_child(self, data: bytes) -> int:
        """A pipe whose read end a child gets; ``data`` is written to it, then it is closed."""
        return self.to_child_ends(data)[0]

    def to_child_ends(self, data: bytes) -> tuple[int, int]:
        """``to_child``, and the runner's end too (for a caller that feeds it later than the rest)."""
        r, w = _pipe()
        self.child_ends.append(r)
        os.set_blocking(w, False)
        self.writers[w] = data
        return r, w

    def from_child(self, name: str, cap: int, tail: bool = False) -> int:
        """A pipe whose write end a child gets; read back as stream ``name`` (see ``Stream``)."""
        r, w = _pipe()
        self.child_ends.append(w)
        os.set_blocking(r, False)
        self.streams[name] = Stream(r, cap, tail)
        return w

    def adopt(self, fd: int) -> int:
        """A descriptor made elsewhere (a socket end) that a child gets and the runner closes."""
        self.child_ends.append(fd)
        return fd

    def close_child_ends(self) -> None:
        for fd in self.child_ends:
            os.close(fd)
        self.child_ends.clear()

    def drain(self) -> None:
        for s in self.streams.values():
            s.drain()

    def close(self) -> None:
        self.close_child_ends()
        for w in self.writers:
            os.close(w)
        self.writers.clear()
        for st in self.streams.values():
            os.close(st.fd)
        self.streams.clear()

    def write_some(self, fd: int) -> bool:
        """Feed a child's input pipe what it takes now; True once all is written (or it hung up)."""
        data = self.writers[fd]
        try:
            n = os.write(fd, data[: 1 << 16])
        except BlockingIOError:
            return False
        except BrokenPipeError:
            n = len(data)
        self.writers[fd] = data[n:]
        return not self.writers[fd]

    def pump(
        self,
        zygote: ZygoteClient,
        deadline: float | Callable[[], float],
        finished: Callable[[], bool],
        capped: set[str],
        watch: Callable[[], Outcome | None] | None = None,
        every_s: float = 0.01,
    ) -> Outcome:
        """Move bytes until ``finished()``, the deadline, a capped stream overflows,
        or ``watch()`` (called every ``every_s``) names a limit. A callable ``deadline`` is
        asked again each round (one that moves with what a judge has used)."""
        deadline_now = deadline if callable(deadline) else (lambda: deadline)
        # poll(2), not a selector: registering is bookkeeping in this process and each wait
        # is one system call (epoll would take a descriptor and a call per registration per
        # test). Hang-up and error come whether asked for or not: a reader then reads its
        # end of file, a writer its broken pipe.
        poller = select.poll()
        writers = self.writers
        by_fd: dict[int, tuple[str, Any]] = {}
        for fd in writers:
            poller.register(fd, select.POLLOUT)
            by_fd[fd] = ("w", fd)
        for name, s in self.streams.items():
            if s.open:
                poller.register(s.fd, select.POLLIN)
                by_fd[s.fd] = ("r", name)
        zfd = zygote.sock.fileno()
        poller.register(zfd, select.POLLIN)
        by_fd[zfd] = ("z", None)
        next_watch = time.monotonic() + every_s
        while True:
            if finished():
                return Outcome.EXITED
            now = time.monotonic()
            left = deadline_now() - now
            if left <= 0:
                return Outcome.TIMEOUT
            if watch is not None:
                if now >= next_watch:
                    hit = watch()
                    if hit is not None:
                        return hit
                    next_watch = now + every_s
                left = min(left, max(next_watch - now, 0.0))
            for fd, events in poller.poll(poll_ms(left)):
                if events & select.POLLNVAL:  # closed while watched: our bug, never waited out
                    raise SandboxBroken(f"descriptor {fd} closed while the pump watched it")
                kind, ref = by_fd[fd]
                if kind == "z":
                    zygote.pump(0)
                elif kind == "w":
                    if self.write_some(ref):
                        poller.unregister(ref)
                        os.close(ref)
                        del writers[ref]
                else:
                    s = self.streams[ref]
                    if not s.read_some():
                        poller.unregister(s.fd)
                    elif ref in capped and s.total > s.cap:
                        return Outcome.OUTPUT_LIMIT

    def process_facts(self, status: int, rusage: dict[str, float], out: str | None, err: str) -> ProcessFacts:
        """A process's end and the streams it wrote (its cap + 1 kept, to tell overflow);
        ``out`` None: its stdout went elsewhere (to an interactor)."""
        o, e = (self.streams[out] if out is not None else None), self.streams[err]
        return ProcessFacts(
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
            stdout=o.bytes if o is not None else b"",
            stderr=e.bytes,
            stdout_bytes=o.total if o is not None else 0,
            stderr_bytes=e.total,
            cpu_s=float(rusage.get("cpu_s", 0.0)),
            maxrss_kb=int(rusage.get("maxrss_kb", 0)),
        )
