"""Build directories, and the sandbox's store of built artifacts.

A build runs as the uid that will run its output (the candidate for the
program, the test uid for a compiled test) in a fresh directory of the
scratch mount that only that uid can read, with a name it cannot guess.
The files a build declares as outputs are then copied by the runner (root,
with only CAP_SETUID/CAP_SETGID, so it reads them *as* that uid) into
``/c/store/<key>``, which only the runner can reach. The key is the host's
digest of everything that goes into the build, so the same program is built
once per sandbox, whatever request it comes in.

Jobs never see each other's artifacts: a job runs only what is *staged* for
it -- hard links, made when a test of the job needs them, in a directory
under ``/c/run`` with a name nobody can guess, readable by the group of the
one uid that runs it (the program's by the candidate, a compiled test's by
the test uid) and by nobody else; ``/c/run`` cannot be listed. Staging is
removed between jobs, so a later job (the same candidate uid) finds no path
to an earlier job's program or test binary, and an artifact is only ever run
under the key it was built for.

Copies are made with ``O_NOFOLLOW`` and only regular files the build's uid
made are taken: a symlink planted by an earlier test cannot make the runner
copy a file the build's uid may not read.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
import stat
from collections import OrderedDict
from collections.abc import Iterator

from .protocol import Artifact, BuildFacts, FileSource
from .settings import BUILD_FILE_SIZE_BYTES, RUNTIME_DIR, STAGE_DIR, STORE_DIR

_KEY = re.compile(r"^[0-9a-f]{16,64}$")
MAX_FETCH_BYTES = 32 << 20  # a judge's binary, fetched from one sandbox for another
_NAME = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9_.$-]{0,149}$")


class BuildRequestError(ValueError):
    """The host sent a build this runner refuses (a bug of ours, not the program's)."""


class MissingOutput(RuntimeError):
    """A build step succeeded but its declared output is not there: the program's doing."""


class NoRoom(RuntimeError):
    """A build's outputs do not fit the artifact space even with the cache emptied:
    the program's doing (a 40 MB initialised array, say), never a reason to fail."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise BuildRequestError(f"bad build key {key!r}")
    return key


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise BuildRequestError(f"bad file name {name!r}")
    return name


@contextlib.contextmanager
def files_as(uid: int) -> Iterator[None]:
    """Create and open files as ``uid`` (its filesystem uid), without CAP_CHOWN.

    The runner holds only CAP_SETUID/CAP_SETGID; ``setfsuid`` makes what it
    creates here that uid's own, and checks permissions as that uid would,
    while the runner stays root for everything else.
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


def make_private_dir(root: str, uid: int, prefix: str = ".build-") -> str:
    """A fresh directory under ``root`` owned by ``uid``, mode 0700, with a name nobody can guess."""
    path = os.path.join(root, f"{prefix}{secrets.token_hex(12)}")
    with files_as(uid):
        os.mkdir(path, 0o700)
    return path


def remove_tree_as(path: str, uid: int) -> None:
    with files_as(uid):
        shutil.rmtree(path, ignore_errors=True)


def write_inputs(build_dir: str, files: dict[str, FileSource], uid: int) -> None:
    """Write a build's input files (literal text, or a file of the runtime folder) as ``uid``."""
    for name, source in files.items():
        check_name(name)
        if source.runtime_file is not None:
            with open(os.path.join(RUNTIME_DIR, check_name(source.runtime_file)), "rb") as fh:
                data = fh.read()
        else:
            data = (source.text or "").encode("utf-8", "surrogateescape")
        with files_as(uid):
            fd = os.open(os.path.join(build_dir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)


def read_report(build_dir: str, name: str, uid: int, limit: int) -> str | None:
    """A build's small report file, read as its uid; None if it is missing or too large."""
    try:
        with files_as(uid):
            fd = os.open(os.path.join(build_dir, check_name(name)), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid or st.st_size > limit:
            return None
        return os.read(fd, limit + 1)[:limit].decode("utf-8", "replace")
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


class ArtifactStore:
    """Built outputs by key, least recently used evicted past ``budget`` bytes."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.sizes: OrderedDict[str, int] = OrderedDict()
        self.staged: dict[tuple[str, int], str] = {}

    @staticmethod
    def path(key: str) -> str:
        return os.path.join(STORE_DIR, check_key(key))

    def prepare(self) -> None:
        """The store (runner only) and the staging root (no listing), once at start."""
        os.makedirs(STORE_DIR, 0o700, exist_ok=True)
        os.makedirs(STAGE_DIR, 0o711, exist_ok=True)
        os.chmod(STORE_DIR, 0o700)
        os.chmod(STAGE_DIR, 0o711)

    def stage(self, key: str, gid: int) -> str:
        """Where this job runs artifact ``key`` from, readable by group ``gid`` only."""
        found = self.staged.get((key, gid))
        if found is not None:
            return found
        src = self.path(key)
        dest = os.path.join(STAGE_DIR, secrets.token_hex(16))
        _link_tree(src, dest, gid)
        self.staged[(key, gid)] = dest
        return dest

    def unstage(self) -> None:
        """Between jobs: no path to any artifact is left."""
        for dest in self.staged.values():
            shutil.rmtree(dest, ignore_errors=True)
        self.staged.clear()
        for name in os.listdir(STAGE_DIR):  # anything a crashed job left
            shutil.rmtree(os.path.join(STAGE_DIR, name), ignore_errors=True)

    def leftovers(self) -> list[str]:
        return [f"staged artifact {name}" for name in os.listdir(STAGE_DIR)]

    def fetch(self, key: str) -> Artifact:
        """A stored build's files, for the host to install in another runtime's sandbox
        (a judge compiled where its compiler is, run where the program is)."""
        if not self.has(key):
            raise BuildRequestError(f"no artifact {key}")
        files, executable = {}, []
        for entry in os.scandir(self.path(key)):
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            with open(entry.path, "rb") as fh:
                files[entry.name] = fh.read(MAX_FETCH_BYTES + 1)
            if len(files[entry.name]) > MAX_FETCH_BYTES:
                raise BuildRequestError(f"artifact {key} holds a file larger than {MAX_FETCH_BYTES >> 20} MiB")
            if os.stat(entry.path).st_mode & 0o100:
                executable.append(entry.name)
        return Artifact(files=files, executable=sorted(executable))

    def install(self, key: str, artifact: Artifact) -> BuildFacts:
        """Store files the host brings under ``key`` (read-only, as a build's outputs are)."""
        if self.has(check_key(key)):
            return BuildFacts(ok=True, cached=True)
        tmp = os.path.join(STORE_DIR, f".tmp-{secrets.token_hex(8)}")
        os.mkdir(tmp, 0o755)
        try:
            for name, data in artifact.files.items():
                mode = 0o555 if name in artifact.executable else 0o444
                fd = os.open(os.path.join(tmp, check_name(name)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
            os.rename(tmp, self.path(key))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.sizes[key] = sum(len(d) for d in artifact.files.values())
        self._evict()
        return BuildFacts(ok=True)

    def has(self, key: str) -> bool:
        if key in self.sizes and os.path.isdir(self.path(key)):
            self.sizes.move_to_end(key)
            return True
        return False

    def store(self, key: str, build_dir: str, outputs: list[str], uid: int) -> None:
        """Copy ``outputs`` (regular files owned by ``uid``) out of ``build_dir``;
        when the space is full, the cache is emptied and the copy tried once more."""
        try:
            self._store(key, build_dir, outputs, uid)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                raise
            while self.sizes:
                old, _ = self.sizes.popitem(last=False)
                shutil.rmtree(self.path(old), ignore_errors=True)
            try:
                self._store(key, build_dir, outputs, uid)
            except OSError as again:
                if again.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                    raise
                raise NoRoom(f"the build's outputs do not fit the sandbox's artifact space: {again.strerror}") from None

    def _store(self, key: str, build_dir: str, outputs: list[str], uid: int) -> None:
        final = self.path(key)
        tmp = os.path.join(STORE_DIR, f".tmp-{secrets.token_hex(8)}")
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
            shutil.rmtree(self.path(old), ignore_errors=True)


@contextlib.contextmanager
def _group(gid: int) -> Iterator[None]:
    """What the runner creates here belongs to group ``gid`` (setfsgid: no CAP_CHOWN needed)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setfsgid(gid)
    try:
        if libc.setfsgid(gid) != gid:
            raise PermissionError("setfsgid did not take")
        yield
    finally:
        libc.setfsgid(0)


def _link_tree(src: str, dest: str, gid: int) -> None:
    """Hard links to a stored artifact's files (one directory level, as stored), in
    directories of group ``gid`` that only that group may enter."""
    with _group(gid):
        os.mkdir(dest, 0o750)
        os.chmod(dest, 0o750)  # the umask may have taken bits off
        for entry in os.scandir(src):
            if entry.name.startswith("."):  # the build's report: the host's, not the program's
                continue
            target = os.path.join(dest, entry.name)
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(target, 0o750)
                os.chmod(target, 0o750)
                for inner in os.scandir(entry.path):
                    os.link(inner.path, os.path.join(target, inner.name), follow_symlinks=False)
            else:
                os.link(entry.path, target, follow_symlinks=False)


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
        with files_as(uid):  # the build's files are its uid's own (0700), read as it
            src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError as exc:
        raise MissingOutput(f"the build did not produce {name}: {exc.strerror}") from None
    try:
        st = os.fstat(src)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != uid:
            raise MissingOutput(f"{name} is not a file the build made")
        if st.st_size > BUILD_FILE_SIZE_BYTES:
            raise MissingOutput(f"{name} is larger than {BUILD_FILE_SIZE_BYTES >> 20} MiB")
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
