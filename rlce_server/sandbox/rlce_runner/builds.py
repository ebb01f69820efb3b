"""Builds for compiled runtimes, and the sandbox's cache of their outputs.

A build is a list of steps (argv lists from the runtime's spec) run one
after another as the candidate uid in a fresh directory of the scratch
mount, each as its own process with the compile limits. The files a build
declares as outputs are then copied by the runner (root) into
``/c/<key>``: a tmpfs the candidate uid can read and execute but never
write, so a later test or job cannot tamper with a cached artifact. The key
is the host's digest of everything that goes into the build (files, steps,
environment), so the same program is built once per sandbox, whatever
request it comes in.

Copies are made with ``O_NOFOLLOW`` from a directory whose name the
candidate cannot guess, and only regular files are taken: a symlink planted
by an earlier test cannot make the runner copy a file the candidate may not
read.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import shutil
import stat
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

CACHE_DIR = "/c"
RUNTIME_DIR = "/opt/rlce/runtime"
MAX_OUTPUT_FILE = 256 << 20
_KEY = re.compile(r"^[0-9a-f]{16,64}$")
_NAME = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9_.$-]{0,149}$")


class BuildRequestError(ValueError):
    """The host sent a build this runner refuses (a bug of ours, not the program's)."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise BuildRequestError(f"bad build key {key!r}")
    return key


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise BuildRequestError(f"bad file name {name!r}")
    return name


def artifact_dir(key: str) -> str:
    return os.path.join(CACHE_DIR, check_key(key))


class ArtifactCache:
    """Cached build outputs, least recently used evicted past ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.sizes: OrderedDict[str, int] = OrderedDict()

    def has(self, key: str) -> bool:
        if key in self.sizes and os.path.isdir(artifact_dir(key)):
            self.sizes.move_to_end(key)
            return True
        return False

    def store(self, key: str, build_dir: str, outputs: list[str], uid: int) -> None:
        """Copy ``outputs`` (regular files owned by ``uid``) out of ``build_dir``."""
        final = artifact_dir(key)
        tmp = os.path.join(CACHE_DIR, f".tmp-{secrets.token_hex(8)}")
        os.mkdir(tmp, 0o755)
        total = 0
        try:
            with files_as(uid):
                dir_fd = os.open(build_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                for name in outputs:
                    if name.endswith("/"):
                        total += _copy_dir(dir_fd, check_name(name[:-1]), tmp, uid)
                    else:
                        total += _copy_out(dir_fd, check_name(name), tmp, uid)
            finally:
                os.close(dir_fd)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.sizes[key] = total
        self._evict()

    def _evict(self) -> None:
        while sum(self.sizes.values()) > self.budget and len(self.sizes) > 1:
            old, _ = self.sizes.popitem(last=False)
            shutil.rmtree(artifact_dir(old), ignore_errors=True)


def _copy_dir(dir_fd: int, name: str, dest_dir: str, uid: int) -> int:
    """Every file directly in ``name`` (Java's classes, say), nothing below it."""
    try:
        with files_as(uid):
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        raise MissingOutput(f"the build did not produce {name}/: {exc.strerror}") from None
    try:
        dest = os.path.join(dest_dir, name)
        os.mkdir(dest, 0o755)
        entries = sorted(os.listdir(sub))
        if len(entries) > 2000:
            raise MissingOutput(f"{name}/ holds more than 2000 files")
        return sum(_copy_out(sub, check_name(entry), dest, uid) for entry in entries)
    finally:
        os.close(sub)


def _copy_out(dir_fd: int, name: str, dest_dir: str, uid: int) -> int:
    try:
        with files_as(uid):  # the build's files are the candidate's (0700), read as it
            src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        raise MissingOutput(f"the build did not produce {name}: {exc.strerror}") from None
    try:
        st = os.fstat(src)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            raise MissingOutput(f"{name} is not a file the build made")
        if st.st_size > MAX_OUTPUT_FILE:
            raise MissingOutput(f"{name} is larger than {MAX_OUTPUT_FILE >> 20} MiB")
        mode = 0o555 if st.st_mode & 0o100 else 0o444
        dst = os.open(os.path.join(dest_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            copied = 0
            while chunk := os.read(src, 1 << 20):
                os.write(dst, chunk)
                copied += len(chunk)
        finally:
            os.close(dst)
        return copied
    finally:
        os.close(src)


class MissingOutput(RuntimeError):
    """A build step succeeded but its declared output is not there: the program's doing."""


@contextlib.contextmanager
def files_as(uid: int) -> Iterator[None]:
    """Create files as ``uid`` (its filesystem uid), without CAP_CHOWN.

    The runner holds only CAP_SETUID/CAP_SETGID; ``setfsuid`` makes what it
    creates here the candidate's own, and checks permissions as the
    candidate would, while the runner stays root for everything else.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setfsgid(uid)
    libc.setfsuid(uid)
    try:
        if libc.setfsuid(uid) != uid:
            raise PermissionError("setfsuid did not take")
        yield
    finally:
        libc.setfsuid(0)
        libc.setfsgid(0)


def remove_build_dir(path: str, uid: int) -> None:
    with files_as(uid):
        shutil.rmtree(path, ignore_errors=True)


def make_build_dir(root: str, uid: int) -> str:
    """A fresh directory with a name the candidate cannot guess, owned by it."""
    path = os.path.join(root, f".build-{secrets.token_hex(12)}")
    with files_as(uid):
        os.mkdir(path, 0o700)
    return path


def write_inputs(build_dir: str, files: dict[str, Any], uid: int) -> None:
    """Write the build's source files; ``{"runtime": name}`` copies one of the runtime folder's."""
    for name, content in files.items():
        check_name(name)
        if isinstance(content, dict):
            with open(os.path.join(RUNTIME_DIR, check_name(str(content.get("runtime")))), "rb") as fh:
                data = fh.read()
        else:
            data = str(content).encode("utf-8", "surrogateescape")
        with files_as(uid):
            fd = os.open(os.path.join(build_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def expand(argv: list[str], **places: str) -> list[str]:
    """Fill ``{build}``-style place holders in an argv list from the spec."""
    out = []
    for arg in argv:
        for key, value in places.items():
            arg = arg.replace("{" + key + "}", value)
        out.append(arg)
    return out
