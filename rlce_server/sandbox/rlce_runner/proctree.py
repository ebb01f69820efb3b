"""Processes as the kernel sees them: who a process's children are, what it used, signals by uid.

Session sandboxes run many sessions at once, so the container's cgroup
counters (``accounting``) cannot say whose a CPU second or a page is. What a
cell used is read from ``/proc`` over the cell's own process tree instead:
the cell's process and every descendant (``children`` of each of its
threads), which a child subreaper (the cell's process) keeps together.
Nothing a sandboxed process says enters these figures: they are the kernel's.

``kill_as`` signals processes of a sandbox uid (never -1: with the runner's
real uid 0, kill(-1) would reach root's processes too). The runner has no
CAP_KILL (only SETUID/SETGID), so it takes that uid as its *effective* uid
for the ``kill`` calls alone: its real and saved uids stay 0, so no process
of that uid may signal the runner meanwhile, and the session runner is
single-threaded, so nothing else runs with that identity. A pid that was
reused by another uid's process is out of reach (EPERM), never hit.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the runner reads."""

    state: str  # R, S, D, T (stopped), Z (zombie), ...: the thread-group leader's alone
    ppid: int
    cpu_ticks: int  # utime + stime + cutime + cstime: its own and its reaped descendants'
    reaped_ticks: int  # cutime + cstime: its reaped descendants' alone
    rss_pages: int
    exit_code: int  # a zombie's wait status (0 while alive)
    threads: int = 1

    @property
    def gone(self) -> bool:
        """Dead, waiting to be reaped. Not a leader that reads "Z" because its own thread ended
        (pthread_exit in main, a raw SYS_exit) while its other threads run on (red team:
        taken for a zombie, such a process was never signalled)."""
        return self.state in ("Z", "X") and self.threads <= 1


def stat(pid: int, tid: int | None = None) -> ProcStat | None:
    """A process's state and counters (one thread's: ``tid``); None once it is reaped."""
    try:
        with open(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat", "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    # the command name (field 2) may hold anything, spaces and ')' included: split after the last ')'
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return ProcStat(
            state=fields[0].decode(),
            ppid=int(fields[1]),
            cpu_ticks=int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14]),
            reaped_ticks=int(fields[13]) + int(fields[14]),
            rss_pages=max(0, int(fields[21])),
            exit_code=int(fields[49]) if len(fields) > 49 else 0,
            threads=int(fields[17]),
        )
    except (IndexError, ValueError):
        return None


def children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (zombies included); [] once it is gone."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                found += [int(x) for x in fh.read().split()]
        except (OSError, ValueError):
            continue
    return found


def still(pid: int) -> tuple[bool, int]:
    """Whether every thread of ``pid`` is stopped (or dead), and their time on a CPU (ns) summed:
    a stopped process whose time has not grown has not run. (False, 0) once it is gone."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False, 0
    stopped, ran = True, 0
    for tid in tids:
        st = stat(pid, int(tid))
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as fh:
                ran += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # (a thread that ended meanwhile)
        stopped = stopped and (st is None or st.state in ("T", "t", "Z", "X"))
    return stopped, ran


def descendants(pid: int, stop_at: set[int] | frozenset[int] = frozenset(), limit: int = 4096) -> list[int]:
    """``pid`` and every process below it, parents first (at most ``limit``), leaving out
    the processes of ``stop_at`` and everything below them."""
    found = [pid]
    seen = {pid}
    i = 0
    while i < len(found) and len(found) < limit:
        for child in children(found[i]):
            if child not in seen and child not in stop_at:
                seen.add(child)
                found.append(child)
        i += 1
    return found


def real_uid(pid: int) -> int | None:
    """The real uid of a process (its ``Uid:`` line); None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def of_uid(uid: int) -> list[int]:
    """Every process whose effective uid is ``uid``, zombies included.

    ``/proc/<pid>`` itself is owned by the process's effective uid, dumpable
    or not (the files in it are root's for a non-dumpable process): one stat
    per process. A sandboxed process cannot take another uid (no capability,
    no setuid program under no-new-privileges).
    """
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat(follow_symlinks=False).st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_as(uid: int, targets: list[int], sig: int = signal.SIGKILL) -> int:
    """Send ``sig`` to ``targets`` with ``uid`` as the effective uid; how many were reached."""
    if uid <= 0 or any(pid <= 1 for pid in targets):
        raise ValueError("kill_as needs a sandbox uid and pids of its processes")
    reached = 0
    os.setresuid(-1, uid, -1)
    try:
        for pid in targets:
            try:
                os.kill(pid, sig)
                reached += 1
            except (ProcessLookupError, PermissionError):
                pass
    finally:
        os.setresuid(-1, 0, -1)
    if os.geteuid() != 0:  # cannot happen (the saved uid is 0); never go on as the sandbox uid
        os._exit(70)
    return reached


NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
_NLM_F_DUMP_REQUEST = 0x1 | 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_UDIAG_SHOW_MEMINFO, _UDIAG_SHOW_UID = 0x20, 0x40
_UNIX_DIAG_MEMINFO, _UNIX_DIAG_UID = 5, 7


def unix_socket_bytes() -> dict[int, int]:
    """What the AF_UNIX sockets of this network namespace hold queued, by the uid that made each.

    Data queued in a unix socket (sent, not yet read) is kernel memory: no
    process's RSS, no file; it is charged to the sending socket (its
    ``wmem_alloc``). The kernel says it per socket through sock_diag, with the
    socket's owner uid. {} if the kernel will not say (the caller counts nothing).
    """
    import socket
    import struct

    found: dict[int, int] = {}
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_SOCK_DIAG)
    except OSError:
        return found
    try:
        show = _UDIAG_SHOW_MEMINFO | _UDIAG_SHOW_UID
        body = struct.pack("=BBHIIIII", socket.AF_UNIX, 0, 0, 0xFFFFFFFF, 0, show, 0xFFFFFFFF, 0xFFFFFFFF)
        sock.send(struct.pack("=IHHII", 16 + len(body), SOCK_DIAG_BY_FAMILY, _NLM_F_DUMP_REQUEST, 1, 0) + body)
        sock.settimeout(1.0)
        while True:
            data = sock.recv(1 << 16)
            if not data:
                return found
            off = 0
            while off + 16 <= len(data):
                size, kind = struct.unpack_from("=IH", data, off)
                if kind in (_NLMSG_DONE, _NLMSG_ERROR) or size < 16:
                    return found
                msg = data[off + 16 : off + size]
                at, uid, queued = 16, -1, 0  # (struct unix_diag_msg, then its attributes)
                while at + 4 <= len(msg):
                    alen, atype = struct.unpack_from("=HH", msg, at)
                    if alen < 4:
                        break
                    payload = msg[at + 4 : at + alen]
                    if atype == _UNIX_DIAG_UID and len(payload) >= 4:
                        uid = struct.unpack_from("=I", payload)[0]
                    elif atype == _UNIX_DIAG_MEMINFO and len(payload) >= 12:
                        rmem, _, wmem = struct.unpack_from("=III", payload)
                        queued = rmem + wmem
                    at += (alen + 3) & ~3
                if uid >= 0:
                    found[uid] = found.get(uid, 0) + queued
                off += (size + 3) & ~3
    except OSError:
        return found
    finally:
        sock.close()
