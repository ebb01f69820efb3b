"""What the candidate's processes used, summed over the whole test: CPU and memory.

Per-process limits (RLIMIT_CPU, RLIMIT_AS) are only a backstop: four children
of 100 MB each pass a 64 MB per-process limit, and a child the program never
reaps takes its CPU time with it. The container's cgroup counts every process
in it, reaped or not, and every page charged to it, files in its tmpfs mounts
included. So a test's use is the change of the container's counters over the
test, minus what the trusted side used in the same time: the runner itself,
the zygote, and the test side (the Python test driver, or a compiled test's
process), read from /proc. One sandbox runs one test at a time, so nothing
else is in that difference.

Read-only files, cgroup v2 or v1, kept open: a handful of ``pread`` calls per test.
"""

from __future__ import annotations

import os
import time

from . import proctree
from .zygote_client import SandboxBroken

_PAGE = os.sysconf("SC_PAGE_SIZE")
_V2 = ("/sys/fs/cgroup/cpu.stat", "/sys/fs/cgroup/memory.current")
_V1 = ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "/sys/fs/cgroup/memory/memory.usage_in_bytes")


class KeptFile:
    """A counter file opened once and read again with one ``pread`` at offset 0.

    The kernel makes such a file's text afresh at each read from the start, so a
    reading is one system call, where ``open()`` is six or seven (open, fstat,
    ioctl, lseek, read, read, close) and Python's file objects around them: these
    files are read several times per test. ``read`` gives None if the file cannot
    be opened or read. A file that could not be opened is tried again at the next
    read (as a fresh ``open()`` each time was), unless ``reopen`` is False: a
    ``/proc/<pid>`` file, whose descriptor keeps to the process it was opened for
    (it reads as an error once that process has ended), must never be opened
    again for a later process with the same pid. The runner opens these after it
    forked the zygote, and every child the zygote makes closes what it was not
    given, so no sandbox process holds one.
    """

    def __init__(self, path: str, reopen: bool = True) -> None:
        self.path = path
        self.reopen = reopen
        self.fd = -1
        self._open()

    def _open(self) -> None:
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.fd = -1

    def read(self) -> bytes | None:
        if self.fd < 0 and self.reopen:
            self._open()
        if self.fd < 0:
            return None
        try:
            return os.pread(self.fd, 4096, 0)
        except OSError:
            return None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    @classmethod
    def first_of(cls, *paths: str) -> KeptFile:
        """The first of a counter's places (cgroup v2's, v1's) that opens; else the last, tried
        again at each read."""
        for path in paths[:-1]:
            kept = cls(path)
            if kept.fd >= 0:
                return kept
        return cls(paths[-1])


def first_int(data: bytes | None) -> int | None:
    """The first number of a counter file's text (None if there is none)."""
    try:
        return int(data.split()[0]) if data is not None else None
    except (ValueError, IndexError):
        return None


def _cpu_v2(data: bytes | None) -> int | None:
    """``usage_usec`` of a cgroup v2 ``cpu.stat``, in ns."""
    for line in (data or b"").splitlines():
        key, _, value = line.partition(b" ")
        if key == b"usage_usec":
            try:
                return int(value) * 1000
            except ValueError:
                return None
    return None


class Counters:
    """The container's own CPU (ns) and memory (bytes) counters, cgroup v2 or v1, and the
    zygote's CPU: the files kept open (``KeptFile``)."""

    def __init__(self, zygote_pid: int) -> None:
        cpu, memory = KeptFile(_V2[0]), KeptFile(_V2[1])
        self.v2 = _cpu_v2(cpu.read()) is not None and first_int(memory.read()) is not None
        if not self.v2:
            cpu.close()
            memory.close()
            cpu, memory = KeptFile(_V1[0]), KeptFile(_V1[1])
        self._cpu, self._memory = cpu, memory
        self._zygote = KeptFile(f"/proc/{zygote_pid}/schedstat", reopen=False)

    def cpu_ns(self) -> int:
        data = self._cpu.read()
        found = _cpu_v2(data) if self.v2 else first_int(data)
        if found is None:  # no limit over the job can be kept without it: ours, fail closed
            raise SandboxBroken(f"the container's CPU counter cannot be read ({self._cpu.path})")
        return found

    def memory_bytes(self) -> int:
        found = first_int(self._memory.read())
        if found is None:
            raise SandboxBroken(f"the container's memory counter cannot be read ({self._memory.path})")
        return found

    def zygote_ns(self) -> int | None:
        """The zygote's CPU (it is single-threaded); None once it has ended."""
        return first_int(self._zygote.read())


def thread_cpu_ns(pid: int) -> int | None:
    """CPU time of a single-threaded process (its /proc schedstat, in ns); None once it is gone."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_cpu_ns(pid: int) -> int | None:
    """CPU time of every thread of a process (a JVM's, say), in ns; None once it is gone."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total = 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def tree_use(pid: int) -> tuple[int, int] | None:
    """CPU time (ns) and anonymous resident bytes (``anon_bytes``) of a process and of everything
    below it, in one walk: live processes by every thread's schedstat, reaped ones by their
    parents' cutime + cstime. None once ``pid`` is gone."""
    if process_cpu_ns(pid) is None:
        return None
    cpu = rss = 0
    for p in proctree.descendants(pid):
        st = proctree.stat(p)
        if st is not None:
            cpu += (process_cpu_ns(p) or 0) + st.reaped_ticks * _TICK_NS
            rss += anon_bytes(p) or 0
    return cpu, rss


def anon_bytes(pid: int) -> int | None:
    """Resident bytes of a process that are not a file's (statm: resident - shared).

    What a trusted process adds to the container's memory charge is its private pages; the file
    pages it maps (a JVM's libjvm and modules, Node's binary and snapshot) are the page cache's,
    charged once, when first read, and shared with every later process that maps them. Taking
    its whole RSS growth off the container's counter took ~20-30 MB of file pages off the
    candidate's figure (the red team: 130 MB of a JavaScript program passed a 128 MB limit
    in a split test, and was MEMORY_LIMIT_EXCEEDED as a stdio one)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            fields = fh.read().split()
        return max(0, int(fields[1]) - int(fields[2])) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _use(pid: int, how: str) -> tuple[int | None, int | None]:
    """A trusted process's CPU (ns) and anonymous resident bytes, read as ``how`` says (None: gone)."""
    if how == "tree":
        found = tree_use(pid)
        return found if found is not None else (None, None)
    return (thread_cpu_ns(pid) if how == "thread" else process_cpu_ns(pid)), anon_bytes(pid)


class Meter:
    """One test's use by the candidate: CPU over all its processes, memory summed.

    ``sample()`` is cheap enough to call every few milliseconds while the test
    runs (for the limits) and once at the end (for the report).
    """

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.trusted: dict[int, tuple[int, str]] = {}  # pid -> (its CPU ns when trusted, how it is read)
        self.trusted_last: dict[int, int] = {}  # pid -> its CPU ns when last read (kept once it is gone)
        self.trusted_rss: dict[int, int] = {}
        self.trusted_ended_ns = 0
        self.cpu0 = counters.cpu_ns()
        self.mem0 = counters.memory_bytes()
        self.own0 = time.process_time_ns()
        self.zygote0 = counters.zygote_ns() or 0
        self.cpu_ns = 0
        self.memory = 0
        self.peak = 0

    def trust(self, pid: int, single_thread: bool = False, tree: bool = False) -> None:
        """A test-side process (the driver, a compiled test): its use is not the candidate's.
        ``tree``: nor that of the processes it starts (an interactor's helpers: the caller's code)."""
        how = "tree" if tree else "thread" if single_thread else "process"
        now, rss = _use(pid, how)
        self.trusted[pid] = (now or 0, how)
        self.trusted_last[pid] = now or 0
        self.trusted_rss[pid] = rss or 0

    def trusted_ended(self, pid: int, cpu_s: float) -> None:
        """A trusted process ended; its CPU (from its wait status) counts as the trusted side's --
        or its tree's as last read, if more: children it never reaped are in no wait status (and
        are another process's once it is gone)."""
        known = self.trusted.pop(pid, None)
        self.trusted_rss.pop(pid, None)
        last = self.trusted_last.pop(pid, 0)
        if known is not None:
            self.trusted_ended_ns += max(0, max(int(cpu_s * 1e9), last) - known[0])

    def trusted_cpu_s(self, pid: int) -> float:
        """The CPU a trusted process has used since it was trusted, as last sampled."""
        known = self.trusted.get(pid)
        if known is None:
            return 0.0
        return max(0, self.trusted_last.get(pid, known[0]) - known[0]) / 1e9

    def sample(self) -> None:
        theirs = self.counters.cpu_ns() - self.cpu0
        ours = time.process_time_ns() - self.own0
        ours += (self.counters.zygote_ns() or self.zygote0) - self.zygote0
        ours += self.trusted_ended_ns
        grown = 0
        for pid, (start, how) in self.trusted.items():
            now, rss = _use(pid, how)
            if now is not None:  # gone but not yet reported: its last reading stands
                self.trusted_last[pid] = max(self.trusted_last[pid], now)
            ours += self.trusted_last[pid] - start
            if rss is not None:
                # signed: memory a trusted process frees during the test (the driver letting go
                # of a previous test's values, say) left the container's counter, and is added
                # back, never credited to the candidate
                grown += rss - self.trusted_rss[pid]
        self.cpu_ns = max(self.cpu_ns, theirs - ours)
        self.memory = max(0, self.counters.memory_bytes() - self.mem0 - grown)
        self.peak = max(self.peak, self.memory)

    @property
    def cpu_s(self) -> float:
        return self.cpu_ns / 1e9
