"""How an exec'd sandbox process starts: its payload's format, its limits, the spawn helper.

A compiled program, a build step or a compiled judge is an "exec" process:
set up (descriptors, limits, uid, working directory) and then exec'd. The
zygote starts one as a ``posix_spawn`` of the static helper ``spawn.c``
(sandbox_images/spawn, copied to ``HELPER`` in every image), which does that set-up in C: a
fork of the Python zygote and its set-up in Python cost ~3 ms and ~370
copy-on-write faults per process, most of a C++ stdio test. Where an image
has fork servers (``PREFORK``), the same C code runs in a child of a resident
server instead, without the helper's own exec. Where an image
has no helper, the zygote forks and the child does the same steps
(``zygote.child_main``). Both read the payload (fd 3) in this format and
take their limits from ``rlimits``, so they cannot drift apart.
"""

from __future__ import annotations

import os
import resource
from typing import Any

HELPER = "/usr/lib/rlce/spawn"
# An image's resident fork server (sandbox_images/spawn/forkserver.c, in every image
# rlce builds; in the JavaScript image its node, javascript/prefork.c): the helper's
# set-up in a child it forks, then the exec, so that a process costs one exec, not
# the helper's and the program's (and a node none: it starts in the forked child).
PREFORK = "/usr/lib/rlce/prefork"
# The names ``rlimits`` gives (spawn.c's table spells the same), as the forked path sets them.
RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
    "nproc": resource.RLIMIT_NPROC,
    "stack": resource.RLIMIT_STACK,
    "msgqueue": resource.RLIMIT_MSGQUEUE,
}


def encode(argv: list[str], env: dict[str, str]) -> bytes:
    """``"<argc>\\0"``, argc strings, then ``"KEY=VALUE"`` strings, each NUL-terminated."""
    parts = [str(len(argv)), *argv, *(f"{k}={v}" for k, v in env.items())]
    if any("\0" in s for s in parts) or any("=" in k or not k for k in env):
        raise ValueError("an exec payload holds no NUL, and env names neither '=' nor empty")
    return b"".join(s.encode("utf-8", "surrogateescape") + b"\0" for s in parts)


def decode(payload: bytes) -> tuple[list[str], dict[str, str]]:
    if not payload.endswith(b"\0"):
        raise ValueError("malformed exec payload")
    strings = [s.decode("utf-8", "surrogateescape") for s in payload[:-1].split(b"\0")]
    argc = int(strings[0])
    if not 1 <= argc <= len(strings) - 1:
        raise ValueError("malformed exec payload")
    env = dict(s.split("=", 1) for s in strings[1 + argc :])
    return strings[1 : 1 + argc], env


def rlimits(limits: dict[str, Any]) -> list[tuple[str, int]]:
    """Every rlimit of a sandboxed process but its address space, as (helper name, value)."""
    out = []
    cpu = limits.get("cpu_s")
    if cpu:
        out.append(("cpu", int(cpu) + 1))
    out.append(("fsize", int(limits.get("file_size_bytes", 16 << 20))))
    out.append(("nofile", int(limits.get("open_files", 256))))
    out.append(("core", 0))
    if limits.get("nproc"):
        out.append(("nproc", int(limits["nproc"])))
    if limits.get("stack_bytes"):
        out.append(("stack", int(limits["stack_bytes"])))
    if limits.get("msgqueue_bytes") is not None:  # 0 for sessions: no POSIX message queues to share
        out.append(("msgqueue", int(limits["msgqueue_bytes"])))
    return out


def helper_available() -> bool:
    return os.access(HELPER, os.X_OK)


def prefork_available() -> bool:
    return os.access(PREFORK, os.X_OK)


def prefork_request(argv: list[str]) -> bytes:
    """The fork server's request: the helper's argv, each string NUL-terminated (its
    descriptors travel beside it, SCM_RIGHTS)."""
    return b"".join(os.fsencode(a) + b"\0" for a in argv)


def setup_args(req: dict[str, Any]) -> list[str]:
    """``<uid> <gid> <cwd> [<limit>=<value>]... [subreaper=1]``: spawn.c's set-up after the
    descriptors (the helper's argv, and the first line of a request to the zygote's C loop)."""
    limits = req.get("limits", {})
    cwd = req.get("cwd", "/")
    if not cwd or any(c.isspace() for c in cwd):  # (the runner's own directories: never)
        raise ValueError(f"a working directory with white space: {cwd!r}")
    args = [str(int(req["uid"])), str(int(req["gid"])), cwd]
    args += [f"{name}={value}" for name, value in rlimits(limits)]
    if limits.get("address_space_bytes"):  # an exec'd program starts from nothing (zygote._limit_address_space)
        args.append(f"as={int(limits['address_space_bytes'])}")
    if req.get("subreaper"):  # a judge (zygote.child_main does the same on the fork path)
        args.append("subreaper=1")
    return args


def helper_argv(req: dict[str, Any], fds: list[int]) -> list[str]:
    """``spawn <n> <fd>... <uid> <gid> <cwd> [<limit>=<value>]... [subreaper=1]`` (spawn.c)."""
    return [HELPER, str(len(fds)), *map(str, fds), *setup_args(req)]
