"""An extra seccomp filter for sandboxed processes, stacked on Docker's own.

Docker's default profile still allows, among others, ``ptrace``,
``process_vm_readv``/``writev`` (reading another process's memory where uids
allow), ``personality``, ``io_uring`` and ``userfaultfd`` (common kernel
exploit primitives), ``perf_event_open``, and 32-bit system calls on x86_64.
A candidate needs none of them; nor ``tee``, which would let a compiled
program copy the harness's nonce pipe without emptying it. Every test process installs this filter
before it drops its privileges; filters stack, so the result is always at
least as tight as Docker's profile (or whatever profile the operator set).

Denied calls fail with EPERM (ENOSYS for ``clone3``, so that libc falls back
to ``clone``, whose namespace flags are checked here). System calls of
another ABI (i386, x32) are refused outright.

stdlib only (ctypes): this module runs inside the sandbox image.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

# BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06

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

_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "personality": 135, "unshare": 272,
    "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "keyctl": 250, "add_key": 248,
    "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "kcmp": 312, "kexec_load": 246, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "acct": 163, "swapon": 167, "swapoff": 168, "reboot": 169,
    "syslog": 103, "open_by_handle_at": 304, "name_to_handle_at": 303, "move_pages": 279, "migrate_pages": 256,
    "quotactl": 179, "fanotify_init": 300, "sethostname": 170, "setdomainname": 171, "settimeofday": 164,
    "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "vhangup": 153, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "pidfd_getfd": 438,
    "process_madvise": 440, "tee": 276, "clone": 56, "clone3": 435,
}  # fmt: skip
_AARCH64 = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "personality": 92, "unshare": 97,
    "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "keyctl": 219, "add_key": 217,
    "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "kcmp": 272, "kexec_load": 104, "init_module": 105,
    "finit_module": 273, "delete_module": 106, "acct": 89, "swapon": 224, "swapoff": 225, "reboot": 142,
    "syslog": 116, "open_by_handle_at": 265, "name_to_handle_at": 264, "move_pages": 239, "migrate_pages": 238,
    "quotactl": 60, "fanotify_init": 262, "sethostname": 161, "setdomainname": 162, "settimeofday": 170,
    "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "vhangup": 58, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "pidfd_getfd": 438,
    "process_madvise": 440, "tee": 77, "clone": 220, "clone3": 435,
}  # fmt: skip
_ARCHES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64)}

# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
X32_SYSCALL_BIT = 0x40000000


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def build_filter(machine: str | None = None) -> bytes | None:
    """The BPF program for this machine, or None on an architecture we do not know."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, table = arch
    deny = RET_ERRNO | errno.EPERM
    prog: list[bytes] = [
        _insn(LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        _insn(JEQ_K, 1, 0, audit_arch),
        _insn(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS),  # another ABI: refuse
        _insn(LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if audit_arch == 0xC000003E:
        prog += [_insn(JGE_K, 0, 1, X32_SYSCALL_BIT), _insn(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS)]
    prog += [_insn(JEQ_K, 0, 1, table["clone3"]), _insn(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS)]
    for name in DENIED:
        prog += [_insn(JEQ_K, 0, 1, table[name]), _insn(RET_K, 0, 0, deny)]
    # clone: refuse namespace flags (args[0], low word, at offset 16)
    prog += [
        _insn(JEQ_K, 0, 4, table["clone"]),
        _insn(LD_W_ABS, 0, 0, 16),
        _insn(JSET_K, 0, 1, CLONE_NAMESPACE_FLAGS),
        _insn(RET_K, 0, 0, deny),
        _insn(RET_K, 0, 0, RET_ALLOW),
        _insn(RET_K, 0, 0, RET_ALLOW),
    ]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Installer:
    """Built once in the zygote (ctypes, libc and the BPF program ready), so
    that each forked test process pays two prctl calls, not an import."""

    def __init__(self) -> None:
        self.prog = build_filter()
        self.libc = ctypes.CDLL(None, use_errno=True)

    def __call__(self) -> bool:
        return install(self.prog, self.libc)


def install(prog: bytes | None = None, libc: ctypes.CDLL | None = None) -> bool:
    """Install the filter on this process (inherited by its children).

    Returns False where the architecture is unknown (the filter is then not
    applied and Docker's profile alone holds); raises OSError on failure.
    """
    prog = prog if prog is not None else build_filter()
    if prog is None:
        return False
    libc = libc or ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "installing the seccomp filter failed")
    return True
