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
)  # fmt: skip

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


def build_filter() -> Any:
    """The filter (a libseccomp ``SyscallFilter``), not yet loaded."""
    import seccomp  # Debian's python3-seccomp: present in the images, not needed on the host

    deny = seccomp.ERRNO(errno.EPERM)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.ERRNO(errno.ENOSYS))
    for name in DENIED:
        f.add_rule(deny, name)
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACE_FLAGS:
        f.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    return f


def install() -> None:
    """Load the filter on this process (inherited by its children); raises if it cannot."""
    build_filter().load()  # sets no_new_privs first (libseccomp's default)
