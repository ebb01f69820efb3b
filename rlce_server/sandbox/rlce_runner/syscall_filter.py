"""An extra seccomp filter for sandboxed processes, stacked on Docker's own.

Docker's default profile still allows, among others, ``ptrace``,
``process_vm_readv``/``writev`` (reading another process's memory where uids
allow), ``personality``, ``io_uring`` and ``userfaultfd`` (common kernel
exploit primitives), ``perf_event_open``, and system calls of another ABI.
A candidate needs none of them; nor ``tee``, which would let a process copy
a pipe without emptying it. The zygote installs this filter once, before its
first fork, so every sandboxed process inherits it; filters stack, so the
result is always at least as tight as Docker's profile (or whatever profile
the operator set).

Denied calls fail with EPERM (ENOSYS for ``clone3``, so that libc falls back
to ``clone``, whose namespace flags are checked here); a call of another
ABI (i386, x32) fails with ENOSYS. The BPF program is made by libseccomp
(Debian's ``python3-seccomp``, installed in every image), not by hand.

Where the kernel allows it, denied calls go to the zygote as seccomp user
notifications, which it answers with EPERM and counts: the count reaches
the host as telemetry (a program probing the sandbox shows in the trainer's
dashboard). Where it does not (another OCI runtime, say), they fail with
EPERM straight from the filter, uncounted.

In a session sandbox (many session trees, each its own uid, in one network
namespace) ``socket()`` is refused for every address family but AF_UNIX:
there is no network in a sandbox, and loopback TCP/UDP, netlink and packet
sockets would be a channel between trees and a way to squat another tree's
ports (docs/SECURITY.md "Sessions"). ``socketpair()`` stays (asyncio and
multiprocessing use it); AF_UNIX ``socket()`` stays too: its abstract names
cannot be filtered here, each tree's Landlock domain keeps them apart
(``session_process.own_domain``). ``memfd_create`` is refused there too (see
``SESSION_DENIED``).
"""

from __future__ import annotations

import errno
from typing import Any

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "personality", "unshare", "setns", "mount", "umount2",
    "pivot_root", "chroot", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "kcmp", "kexec_load", "init_module",
    "finit_module", "delete_module", "acct", "swapon", "swapoff", "reboot", "syslog", "open_by_handle_at",
    "name_to_handle_at", "move_pages", "migrate_pages", "quotactl", "fanotify_init", "sethostname",
    "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "vhangup", "fsopen",
    "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "pidfd_getfd",
    "process_madvise", "tee",
    # POSIX message queues live in the container's IPC namespace, not in any process or scratch
    # mount: a queue would outlast its job (red team: a channel to the next job, and the uid's
    # queue quota used up for it). SysV objects are wiped after each job; these are refused.
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
)  # fmt: skip

# In a session sandbox only: memory a session could hold that no figure of its own shows. Its
# memory is read per process from /proc (RSS, its tree's files, its sockets' queues), and an
# unmapped memfd is in none of them (a scoring sandbox counts its cgroup, where memfds show).
SESSION_DENIED = ("memfd_create", "memfd_secret")

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


AF_UNIX = 1


def build_filter(notify: bool = False, sessions: bool = False) -> Any:
    """The filter (a libseccomp ``SyscallFilter``), not yet loaded; ``sessions``: a session sandbox's."""
    import seccomp  # Debian's python3-seccomp: present in the images, not needed on the host

    deny = seccomp.NOTIFY if notify else seccomp.ERRNO(errno.EPERM)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.ERRNO(errno.ENOSYS))
    for name in DENIED:
        f.add_rule(deny, name)
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACE_FLAGS:
        f.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    if sessions:
        f.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, AF_UNIX))
        for name in SESSION_DENIED:
            f.add_rule(deny, name)
    return f


class Installed:
    """The loaded filter and, when denied calls are notified, its listener."""

    def __init__(self, flt: Any, notify_fd: int | None) -> None:
        self.filter = flt
        self.notify_fd = notify_fd

    def answer(self) -> str | None:
        """Refuse one notified call with EPERM; its system call's name (None if it vanished)."""
        import seccomp

        try:
            notice = self.filter.receive_notify()
        except Exception:  # the caller vanished before it was read
            return None
        try:
            self.filter.respond_notify(seccomp.NotificationResponse(notice, 0, -errno.EPERM, 0))
        except Exception:
            pass  # the caller is gone (killed meanwhile)
        try:  # only native calls are notified (another ABI is refused by the filter itself)
            name = seccomp.resolve_syscall(seccomp.Arch.NATIVE, int(notice.syscall))
            return name.decode() if isinstance(name, bytes) else str(name)
        except Exception:
            return f"syscall {notice.syscall}"


def install(sessions: bool = False) -> Installed:
    """Load the filter on this process (inherited by its children); raises if it cannot."""
    try:
        flt = build_filter(notify=True, sessions=sessions)
        flt.load()  # sets no_new_privs first (libseccomp's default)
        return Installed(flt, int(flt.get_notify_fd()))
    except (OSError, RuntimeError, ValueError):
        flt = build_filter(notify=False, sessions=sessions)  # no user notifications here: deny without counting
        flt.load()
        return Installed(flt, None)
