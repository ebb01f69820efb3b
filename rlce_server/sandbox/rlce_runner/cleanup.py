"""Evidence and clean-up: what the sandbox uids left, and removing it.

After each test the processes of the sandbox uids are killed; after each job
the scratch directories and SysV IPC objects they made are wiped, and the
runner checks that nothing is left before the host may reuse the sandbox.
Evidence comes first (a task count, a /proc scan) so that the common case,
nothing left, costs no helper process at all.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

from . import proctree
from .accounting import KeptFile, first_int
from .artifacts import files_as
from .protocol import Removed, ResetReply
from .settings import JUDGE_DIR, KILL_WAIT_S, SCRATCH_DIRS, SandboxSettings
from .zygote_client import SandboxBroken, ZygoteClient


@functools.cache
def _pids_file() -> KeptFile:
    """The pids cgroup's count (v1, else v2), opened on first use and kept (``KeptFile``)."""
    return KeptFile.first_of("/sys/fs/cgroup/pids/pids.current", "/sys/fs/cgroup/pids.current")


def tasks_in_container() -> int | None:
    """Tasks in this container's pids cgroup (one read), None if unknown."""
    return first_int(_pids_file().read())


@functools.cache
def _oom_file() -> KeptFile:
    """The OOM counter file this cgroup version has (v2, else v1): opened once and kept."""
    return KeptFile.first_of("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills() -> int:
    """The container's OOM-kill count (cgroup v2 or v1)."""
    for line in (_oom_file().read() or b"").splitlines():
        key, _, value = line.partition(b" ")
        if key == b"oom_kill":
            return first_int(value) or 0
    return 0


def kill_until_gone(
    zygote: ZygoteClient, live: Callable[[], list[tuple[int, int, str]]], kill: Callable[[int], None]
) -> int:
    """Kill the uids of ``live()``'s processes until it is empty; how many were alive at first.

    A time bound, not a count of rounds: a large process (a JVM of gigabytes) stays a zombie
    until its threads have freed their memory, which may take a good part of a second; zombies
    are reaped by the zygote, never signalled again.
    """
    found = 0
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline:
        procs = live()
        if not procs:
            return found
        found = found or sum(1 for _, _, state in procs if state != "Z")
        for uid in {uid for uid, _, state in procs if state != "Z"}:
            kill(uid)
        zygote.pump(0.002)
    raise SandboxBroken(f"processes survive SIGKILL: {live()}")


def sandbox_processes(uids: tuple[int, ...]) -> list[tuple[int, int, str]]:
    """(uid, pid, state) of every process of the given uids; "Z" only for one that is gone
    (``proctree.ProcStat.gone``). Both reads take bytes: a process names itself (PR_SET_NAME),
    and a name that was not UTF-8 made the old text read raise and the process skipped (red
    team: it outlived its job). The pids cgroup's count backs the scan (``Cleaner``)."""
    found: list[tuple[int, int, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        uid = proctree.real_uid(pid)
        if uid not in uids:
            continue
        st = proctree.stat(pid)
        if st is not None:
            found.append((uid, pid, "Z" if st.gone else "z" if st.state == "Z" else st.state))
    return found


def _scratch_listings(judge_uid: int) -> dict[str, list[str] | str]:
    """Each scratch mount's entries, or why it cannot be read (the judges' one is read as the
    judge uid: only it may look)."""
    found: dict[str, list[str] | str] = {}
    for root in SCRATCH_DIRS:
        try:
            if root == JUDGE_DIR:
                with files_as(judge_uid):
                    found[root] = os.listdir(root)
            else:
                found[root] = os.listdir(root)
        except OSError as exc:
            found[root] = exc.strerror or "unreadable"
    return found


def scratch_entries(judge_uid: int) -> list[str]:
    """What is left in the scratch mounts (a few names per mount)."""
    found = []
    for root, names in _scratch_listings(judge_uid).items():
        if isinstance(names, str):
            found.append(f"{root}: {names}")
        else:
            found += [f"file {root}/{n}" for n in names[:20]]
    return found


def sysv_objects() -> list[str]:
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        found += [f"sysv {kind} object" for _ in rows]
    return found


class Cleaner:
    """Kills and wipes what the sandbox uids leave, and proves nothing is left.

    ``keep`` names the one long-lived trusted process (the test driver) that
    survives between tests; ``drop_keeper`` ends it when a process of its uid
    appears beside it (a test that spawned one takes the driver with it).
    """

    def __init__(
        self,
        zygote: ZygoteClient,
        settings: SandboxSettings,
        keeper_pid: Callable[[], int | None],
        drop_keeper: Callable[[], None],
        more_leftovers: Callable[[], list[str]] = list,
        more_tasks: Callable[[], int] = int,
    ) -> None:
        self.more_leftovers = more_leftovers
        self.more_tasks = more_tasks  # tasks of other trusted processes (the build servers)
        self.zygote = zygote
        self.settings = settings
        self.keeper_pid = keeper_pid
        self.drop_keeper = drop_keeper
        # The runner and the zygote, two single-threaded processes, and the
        # zygote's two fork servers if the image has them (single-threaded,
        # root; the zygote ends with either): with only these tasks in the
        # cgroup no sandbox process (not even a zombie) can exist, and the
        # /proc scan is skipped. Any other count at start (an init process,
        # say) disables the shortcut.
        idle = 2 + zygote.helper_tasks
        self.idle_tasks = idle if tasks_in_container() == idle else None

    def _live(self) -> list[tuple[int, int, str]]:
        keeper = self.keeper_pid()
        return [p for p in sandbox_processes(self.settings.uids) if p[1] != keeper]

    def _trusted_tasks(self, keeper_tasks: int) -> int:
        assert self.idle_tasks is not None
        return self.idle_tasks + keeper_tasks + self.more_tasks()

    def _only_trusted(self) -> bool:
        """The pids cgroup holds the runner, the zygote, the keeper (if any) and the build servers, nothing
        else: no process of a sandbox uid exists, not even a zombie (see ``idle_tasks``). The keeper
        counts as one task here (it is single-threaded but for a test that retires it)."""
        if self.idle_tasks is None:
            return False
        return tasks_in_container() == self._trusted_tasks(self.keeper_pid() is not None)

    def _unseen_tasks(self) -> int:
        """Tasks in the pids cgroup that neither the trusted processes (the keeper with its every
        thread) nor a process the /proc scan shows account for (0 when the count is unknown).
        Read once the scan shows nothing: the count is the kernel's, so a process the scan
        cannot read is still counted here."""
        total = tasks_in_container()
        if self.idle_tasks is None or total is None:
            return 0
        keeper = self.keeper_pid()
        st = proctree.stat(keeper) if keeper is not None else None
        return total - self._trusted_tasks(st.threads if st is not None else 0)

    def _unseen(self) -> list[tuple[int, int, str]]:
        """Every sandbox uid, for ``kill_until_gone``, while the count shows tasks nobody accounts for."""
        return [(uid, 0, "unseen") for uid in self.settings.uids] if self._unseen_tasks() > 0 else []

    def scratch_state(self) -> tuple[frozenset[str], int]:
        """What the scratch mounts and SysV IPC hold now (every top-level entry, the objects)."""
        found: set[str] = set()
        for root, names in _scratch_listings(self.settings.judge_uid).items():
            found.update([f"{root}: {names}"] if isinstance(names, str) else (f"{root}/{n}" for n in names))
        return frozenset(found), len(sysv_objects())

    def stop_uids(self) -> int:
        """Kill what is left of the sandbox uids (the keeper excepted); how many were alive.

        A process of these uids can only be made by the zygote or by another
        such process, so an empty scan (zombies are reaped by the zygote and
        retried) means nothing is left.
        """
        if self._only_trusted():
            return 0

        def kill(uid: int) -> None:
            # A process of the test uid beside the keeper takes the keeper with it; and the
            # keeper is not the only trusted process of that uid: a compiled test process (or
            # a driver's child) still at work when the test's time is up is ended here too.
            if uid == self.settings.test_uid:
                self.drop_keeper()
            self.zygote.kill_uid(uid)

        found = kill_until_gone(self.zygote, self._live, kill)
        try:  # defence in depth: what the kernel counts and the scan missed
            hidden = kill_until_gone(self.zygote, self._unseen, kill)
        except SandboxBroken:
            raise SandboxBroken(f"{self._unseen_tasks()} tasks that no /proc scan shows survive SIGKILL") from None
        return found or min(hidden, 1)

    def _processes_left(self) -> list[str]:
        # the same evidence as stop_uids: a task count of only the trusted ones, else the /proc scan
        if self._only_trusted():
            return []
        left = [f"process {pid} of uid {uid}" for uid, pid, _ in self._live()]
        if left:
            return left
        unseen = self._unseen_tasks()
        return [f"{unseen} tasks that no /proc scan shows"] if unseen > 0 else []

    def leftovers(self) -> list[str]:
        files = scratch_entries(self.settings.judge_uid)
        return self._processes_left() + files + sysv_objects() + self.more_leftovers()

    def reset(self) -> ResetReply:
        """Between jobs: kill, wipe, verify."""
        killed = self.stop_uids()
        wiped = True
        files = len(scratch_entries(self.settings.judge_uid))
        ipc = len(sysv_objects())
        if files or ipc:
            wiped = all(self.zygote.wipe(uid) for uid in self.settings.uids)
            left = self.leftovers()
        else:
            # Nothing to wipe, and no process of a sandbox uid is left to write
            # anything (stop_uids): the reading just taken stands for the files and
            # IPC objects; the processes are checked again.
            left = self._processes_left() + self.more_leftovers()
        return ResetReply(clean=wiped and not left, leftovers=left, removed=Removed(killed, files, ipc))
