"""Everything a sandbox container may do, in one place.

A reviewer reads this file to know the container's shape:

* no network (``network_mode=none``), read-only root filesystem
* scratch only on small tmpfs mounts (``/w``, ``/tmp``, ``/dev/shm``; sticky,
  world-writable like /tmp), all ``nosuid,nodev`` with byte and inode caps
* every capability dropped except CAP_SETUID/CAP_SETGID, which the runner
  needs to drop each test process to its own uid; ``no-new-privileges``
* pids, memory (swap disabled: memswap == memory) and CPU limits
* container logs disabled (the runner's channel is a unix socket)
* an allow-listed environment; IPC namespace private
* optional: another OCI runtime (gVisor's ``runsc``) and a seccomp profile

Inside, the runner (uid 0, 2 capabilities) runs programs and test drivers
under two uids of their own (the candidate's, the tests'), random per container (so per-uid limits such as
RLIMIT_NPROC are per sandbox); see docs/SECURITY.md.

A *session sandbox* (``session_container_kwargs``, docs/SESSIONS.md) has the
same hardening and holds many live sessions: each session tree gets a slot,
a uid of its own from a block random per container (apart from every
scoring uid) and a tmpfs of its own (``/s/<k>``: 0700, that uid's, capped in
bytes and inodes by the kernel). Nothing else is writable by a slot uid
(/tmp and /w are not mounted: the read-only image's; /dev/shm is root's),
and its IPC namespace has no room for SysV objects or POSIX message queues,
so sessions share no place to leave anything for each other.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from ..config import Settings
from ..runtimes import RuntimeSpec
from .rlce_runner import protocol

ALLOWED_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


UID_BASE = 100_000
UID_SPAN = 1 << 24
SESSION_UID_BASE = UID_BASE + UID_SPAN  # session slots' uids: never a scoring sandbox's
# No SysV shared memory, queues or semaphores and no POSIX message queues in a session
# sandbox's IPC namespace: sessions of different trees must share no object.
SESSION_SYSCTLS = {
    "kernel.shmmax": "0",
    "kernel.shmall": "0",
    "kernel.msgmni": "0",
    "kernel.sem": "0 0 0 0",
    "fs.mqueue.queues_max": "0",
}


def sandbox_uid() -> int:
    """A uid (a multiple of 8) in a large range no host account uses: the
    candidate's; +1 is the tests', +2 the judges' (checkers, interactors), +3
    and +4 the build servers' of the program and of the test side."""
    return UID_BASE + 8 * secrets.randbelow(UID_SPAN // 8)


def session_uids(slots: int) -> int:
    """The first of ``slots`` consecutive uids, a block at random in the session range."""
    return SESSION_UID_BASE + slots * secrets.randbelow(UID_SPAN // slots)


def _hardened(
    settings: Settings, image: str, control_dir: Path, labels: dict[str, str], name: str, cpu: int | None
) -> dict[str, Any]:
    """What every sandbox container shares: no network, read-only root, no capabilities
    but SETUID/SETGID, no new privileges, private IPC, no logs, an allow-listed environment."""
    security_opt = ["no-new-privileges:true"]
    if settings.seccomp_profile is not None:
        security_opt.append(f"seccomp={settings.seccomp_profile.read_text()}")
    kwargs: dict[str, Any] = {
        "image": image,
        "name": name,
        "labels": labels,
        "detach": True,
        "user": "0:0",
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "cap_add": ["SETUID", "SETGID"],
        "security_opt": security_opt,
        "nano_cpus": int(settings.sandbox_cpus * 1e9),
        "ipc_mode": "private",
        "volumes": {str(control_dir): {"bind": protocol.CONTROL_DIR, "mode": "rw"}},
        "hostname": "sandbox",
        "log_config": {"type": "none", "config": {}},
        "stdin_open": False,
        "tty": False,
        "ulimits": [{"name": "core", "soft": 0, "hard": 0}],
    }
    if settings.container_runtime:
        kwargs["runtime"] = settings.container_runtime
    if cpu is not None:
        kwargs["cpuset_cpus"] = str(cpu)
    return kwargs


def container_kwargs(
    settings: Settings,
    spec: RuntimeSpec,
    image: str,
    control_dir: Path,
    labels: dict[str, str],
    name: str,
    cpu: int | None = None,
) -> dict[str, Any]:
    """Keyword arguments for docker-py ``containers.create``.

    ``cpu`` pins the sandbox to one host CPU. A test is two processes talking
    over a socket (program and test driver); on one CPU each call is a local
    context switch, across CPUs a cross-CPU wake-up, which measured 2.3x the
    CPU per call where it was measured (docs/PERFORMANCE.md).
    """
    candidate_uid = sandbox_uid()
    shape = spec.sandbox
    memory_mb = settings.limits.max_memory_limit_mb + settings.sandbox_memory_headroom_mb + shape.build_servers_mb
    kwargs = _hardened(settings, image, control_dir, labels, name, cpu)
    kwargs |= {
        "pids_limit": shape.pids,
        "mem_limit": f"{memory_mb}m",
        "memswap_limit": f"{memory_mb}m",
        "shm_size": "16m",
        "tmpfs": {
            # root-owned and sticky, like /tmp: the runner can see that it is empty
            "/w": f"rw,nosuid,nodev,size={shape.work_dir_mb}m,nr_inodes=4096,mode=1777",
            "/tmp": f"rw,nosuid,nodev,noexec,size={shape.tmp_mb}m,nr_inodes=2048,mode=1777",
            # compiled artifacts: written by the runner (root) only, run from per-job staging
            "/c": f"rw,exec,nosuid,nodev,size={shape.artifact_cache_mb}m,nr_inodes=4096,mode=0755",
            # a checker's or interactor's files (the test's answer among them): the judge uid's
            # alone (the runner writes there as that uid); no other uid can even look in
            "/j": (
                f"rw,noexec,nosuid,nodev,size={shape.judge_dir_mb}m,nr_inodes=1024,mode=0700,"
                f"uid={candidate_uid + 2},gid={candidate_uid + 2}"
            ),
        },
        "environment": {
            **ALLOWED_ENV,
            protocol.ENV_SECCOMP: "1" if settings.extra_seccomp else "0",
            # uids of this sandbox's program and its tests: random, unique per container
            protocol.ENV_CANDIDATE_UID: str(candidate_uid),
            protocol.ENV_TEST_UID: str(candidate_uid + 1),
            protocol.ENV_JUDGE_UID: str(candidate_uid + 2),
            protocol.ENV_BUILD_SERVER_UIDS: f"{candidate_uid + 3},{candidate_uid + 4}",
            protocol.ENV_NPROC: str(max(8, shape.pids // 2)),
            # room for one more build's outputs above the cache's budget
            protocol.ENV_ARTIFACT_CACHE_MB: str(max(1, shape.artifact_cache_mb * 3 // 4)),
        },
    }
    return kwargs


def session_container_kwargs(
    settings: Settings,
    image: str,
    control_dir: Path,
    labels: dict[str, str],
    name: str,
    cpu: int | None = None,
) -> dict[str, Any]:
    """A session sandbox: the same hardening, one slot (uid + tmpfs) per session tree."""
    sessions = settings.sessions
    slots = sessions.slots_per_sandbox
    first = session_uids(slots)
    kwargs = _hardened(settings, image, control_dir, labels, name, cpu)
    tmpfs = {
        # root's: POSIX shared memory and semaphores would be a place shared by every tree
        "/dev/shm": "rw,nosuid,nodev,noexec,size=64k,nr_inodes=16,mode=0755",
    }
    for k in range(slots):
        tmpfs[f"{protocol.SESSION_ROOT}/{k}"] = (
            f"rw,nosuid,nodev,size={sessions.tree_files_mb}m,nr_inodes={sessions.tree_inodes},"
            f"mode=0700,uid={first + k},gid={first + k}"
        )
    kwargs |= {
        "pids_limit": slots * sessions.tree_tasks + 64,
        "mem_limit": f"{sessions.sandbox_memory_mb}m",
        "memswap_limit": f"{sessions.sandbox_memory_mb}m",
        "tmpfs": tmpfs,
        "sysctls": dict(SESSION_SYSCTLS),
        "environment": {
            **ALLOWED_ENV,
            protocol.ENV_SECCOMP: "1" if settings.extra_seccomp else "0",
            protocol.ENV_SESSION_UIDS: f"{first},{slots}",
            protocol.ENV_SESSION_NPROC: str(sessions.tree_tasks),
            protocol.ENV_SESSION_MEMORY_MB: str(settings.limits.max_memory_limit_mb),
        },
    }
    return kwargs
