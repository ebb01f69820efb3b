"""The runner's settings inside one container, read once from its environment.

The host chooses them per container (see ``rlce_server/sandbox/hardening.py``):
random uids, so that per-uid accounting such as RLIMIT_NPROC is per sandbox
even though containers share the host's user namespace; the process cap per
uid; the artifact cache's budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from . import protocol

WORK_DIR = "/w"  # the program's working directory (tmpfs)
JUDGE_DIR = "/j"  # checkers' and interactors' files (tmpfs): the judge uid's alone
SCRATCH_DIRS = ("/w", "/tmp", "/dev/shm", "/j")  # everything a sandbox uid can write
CACHE_DIR = "/c"  # built artifacts (a tmpfs): written by the runner only
STORE_DIR = "/c/store"  # artifacts by key: the runner's alone
STAGE_DIR = "/c/run"  # what the current job may run: per-job links, cannot be listed
RUNTIME_DIR = "/opt/rlce/runtime"  # the runtime folder, baked into the image
# The environment every sandboxed process starts with (never the host's).
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp"}

KILL_WAIT_S = 5.0  # a SIGKILLed process is gone within this
DRIVER_SETTLE_S = 1.0  # the test driver hands in its record within this of the program's death
DRIVER_MAX_TESTS = 500  # then a fresh test driver: bounds whatever tests leave in it
DRIVER_MEMORY_BYTES = 2 << 30
PROGRAM_EXIT_GRACE_S = 0.2  # a program server exits by itself once its channel closes
# What is kept of a trusted test process's stdout and stderr, read only for its message: the
# tail. A reply then carries at most the program's two streams at the request's output cap
# (protocol.reply_cap); the test's output, which a program's value can swell (testify
# printing a 16 MiB difference), is not a third and fourth.
MESSAGE_KEEP_BYTES = 64 * 1024
BUILD_FILE_SIZE_BYTES = 256 << 20
TEST_FILE_SIZE_BYTES = 16 << 20


def _two(raw: str) -> tuple[int, int]:
    first, _, second = raw.partition(",")
    return int(first), int(second)


@dataclass(frozen=True)
class SandboxSettings:
    candidate_uid: int  # the program's processes
    test_uid: int  # the trusted side: the test driver, compiled test processes
    judge_uid: int  # the problem's checker and interactor: neither the program's nor the test's
    nproc: int  # tasks one uid may hold (threads count)
    artifact_cache_bytes: int
    seccomp: bool  # stack rlce's tighter filter on every sandboxed process
    # The build servers' uids, program side and test side: none of the three above, so that
    # clearing those uids after each step never ends a server, and neither side can reach the other.
    build_server_uids: tuple[int, int] = (1700, 1800)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SandboxSettings:
        return cls(
            candidate_uid=int(env.get(protocol.ENV_CANDIDATE_UID, "1600")),
            test_uid=int(env.get(protocol.ENV_TEST_UID, "1500")),
            judge_uid=int(env.get(protocol.ENV_JUDGE_UID, "1400")),
            nproc=int(env.get(protocol.ENV_NPROC, "64")),
            artifact_cache_bytes=int(env.get(protocol.ENV_ARTIFACT_CACHE_MB, "48")) << 20,
            seccomp=env.get(protocol.ENV_SECCOMP, "1") != "0",
            build_server_uids=_two(env.get(protocol.ENV_BUILD_SERVER_UIDS, "1700,1800")),
        )

    @property
    def uids(self) -> tuple[int, int, int]:
        return (self.candidate_uid, self.test_uid, self.judge_uid)


@dataclass(frozen=True)
class SessionSandboxSettings:
    """A session sandbox's slots: slot k is the tmpfs ``/s/<k>``, owned by uid ``first_uid + k``."""

    first_uid: int
    slots: int
    nproc: int  # tasks one session tree may hold
    seccomp: bool
    max_memory_mb: int = 4096  # the most a session may be given: its processes' address-space backstop

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SessionSandboxSettings | None:
        """None in a scoring sandbox (no session uids in its environment)."""
        raw = env.get(protocol.ENV_SESSION_UIDS)
        if not raw:
            return None
        first, _, count = raw.partition(",")
        return cls(
            first_uid=int(first),
            slots=int(count),
            nproc=int(env.get(protocol.ENV_SESSION_NPROC, "32")),
            seccomp=env.get(protocol.ENV_SECCOMP, "1") != "0",
            max_memory_mb=int(env.get(protocol.ENV_SESSION_MEMORY_MB, "4096")),
        )

    def slot_path(self, index: int) -> str:
        return f"{protocol.SESSION_ROOT}/{index}"
