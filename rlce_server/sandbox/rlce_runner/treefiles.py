"""A session tree's files, copied and removed through descriptors (docs/SECURITY.md "Sessions").

A tree's directory is the candidate's: any name in it may be a directory a
few thousand levels deep, a FIFO, a symbolic link, a file of another slot's
uid, or be swapped for any of these while the runner looks at it. So here:

* every walk is iterative (an explicit stack, one open directory per level):
  no depth makes Python recurse;
* every name is opened relative to its parent's descriptor, ``O_NOFOLLOW``
  and ``O_NONBLOCK`` (a FIFO never blocks the runner), and what was opened is
  checked with ``fstat`` before it is used (a directory, a regular file);
* a file is written by creating it anew (``O_CREAT | O_EXCL``), never by
  opening what is there;
* every error of a tree's files is an ``OSError`` for that tree's operation
  to report, never the sandbox's.

The runner holds no CAP_DAC_OVERRIDE: it acts as the owner of each directory
(``files_as``) to change and empty it, so a wipe removes everything below a
slot, whichever slot uid made it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from dataclasses import dataclass, field

from .artifacts import files_as

DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20
SYS_FCHMODAT2 = 452  # (the same number on x86_64 and arm64)
AT_EMPTY_PATH = 0x1000


def open_dir(name: str, dir_fd: int | None = None) -> int:
    """A directory opened without following a link or blocking; OSError if it is anything else."""
    fd = os.open(name, DIR, dir_fd=dir_fd)
    if not stat.S_ISDIR(os.fstat(fd).st_mode):  # (O_DIRECTORY says so already: checked all the same)
        os.close(fd)
        raise OSError(errno.ENOTDIR, "not a directory")
    return fd


def open_regular(name: str, dir_fd: int) -> tuple[int, os.stat_result]:
    fd = os.open(name, FILE, dir_fd=dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return fd, st


def create_file(name: str, dir_fd: int, mode: int = 0o600) -> int:
    """A new regular file in place of whatever had that name (a FIFO, a file another uid holds open)."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise OSError(errno.EISDIR, "a directory has that name") from None
    fd = os.open(name, NEW, mode, dir_fd=dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return fd


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass
class _CopyFrame:
    src: int
    dst: int
    names: list[str]


def copy_tree(src_fd: int, dst_fd: int, max_bytes: int, max_entries: int) -> None:
    """Copy the contents of directory ``src_fd`` into the empty directory ``dst_fd``.

    At most ``max_bytes`` read and ``max_entries`` entries made (the tree's own
    tmpfs, copy and original, holds no more; ENOSPC past either): a tree whose
    other sessions run meanwhile can free what the copy writes (unlink it), or
    grow what is left to read (sparse files read as zeros, new directories
    ahead of the copy), and the runner copies inside its own loop.

    Run with the tree's uid as the filesystem uid (``files_as``). Regular files,
    directories (their owner keeps rwx), symbolic links (as links) and FIFOs
    (made anew, empty) are copied; sockets and devices are left out. Raises
    OSError on the first error (the caller removes the partial copy).
    """
    budget = _Budget(max_bytes, max_entries)
    stack = [_CopyFrame(os.dup(src_fd), os.dup(dst_fd), sorted(os.listdir(src_fd)))]
    try:
        while stack:
            top = stack[-1]
            if not top.names:
                stack.pop()
                os.close(top.src)
                os.close(top.dst)
                continue
            name = top.names.pop()
            budget.entry()
            st = os.stat(name, dir_fd=top.src, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                src = open_dir(name, top.src)
                try:
                    os.mkdir(name, (st.st_mode & 0o777) | 0o700, dir_fd=top.dst)
                    dst = open_dir(name, top.dst)
                except OSError:
                    os.close(src)
                    raise
                stack.append(_CopyFrame(src, dst, []))
                stack[-1].names = sorted(os.listdir(src))
            elif stat.S_ISREG(st.st_mode):
                _copy_file(name, top.src, top.dst, budget)
            elif stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(name, dir_fd=top.src), name, dir_fd=top.dst)
            elif stat.S_ISFIFO(st.st_mode):
                os.mkfifo(name, st.st_mode & 0o777, dir_fd=top.dst)
    finally:
        for frame in stack:
            os.close(frame.src)
            os.close(frame.dst)


@dataclass
class _Budget:
    """What a copy may still read and make."""

    bytes_left: int
    entries_left: int

    def entry(self) -> None:
        self.entries_left -= 1
        if self.entries_left < 0:
            raise OSError(errno.ENOSPC, "more entries than the tree's files may hold")

    def read(self, n: int) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise OSError(errno.ENOSPC, "more bytes than the tree's files may hold")


def _copy_file(name: str, src_dir: int, dst_dir: int, budget: _Budget) -> None:
    src, st = open_regular(name, src_dir)  # (swapped for a FIFO since the stat: refused, not waited on)
    try:
        dst = os.open(name, NEW, st.st_mode & 0o777, dir_fd=dst_dir)
        try:
            while chunk := os.read(src, CHUNK):
                budget.read(len(chunk))
                write_all(dst, chunk)
        finally:
            os.close(dst)
    finally:
        os.close(src)


@dataclass
class _WipeFrame:
    fd: int
    owner: int
    name: str  # in its parent
    names: list[str] = field(default_factory=list)


def _chmod_fd(fd: int, mode: int) -> None:
    """chmod the inode an O_PATH descriptor holds (fchmodat2 with AT_EMPTY_PATH: Linux 6.6+; else
    through its /proc/self/fd link)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_FCHMODAT2, fd, b"", mode, AT_EMPTY_PATH) == 0:
        return
    err = ctypes.get_errno()
    if err not in (errno.ENOSYS, errno.EPERM):  # (older kernels, and seccomp profiles that predate it)
        raise OSError(err, os.strerror(err))
    os.chmod(f"/proc/self/fd/{fd}", mode)  # the magic link names this very inode


def _open_owned_dir(name: str, parent: int, parent_owner: int, owners: range) -> tuple[int, int]:
    """A directory below a slot, opened as its owner after giving that owner rwx (a tree may chmod 000).

    It is looked up as the owner of its parent (who may search that), then changed and opened as its
    own owner through the descriptor of that very inode (no path is resolved again)."""
    with files_as(parent_owner):
        path_fd = os.open(name, PATH, dir_fd=parent)
    try:
        st = os.fstat(path_fd)
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "not a directory")
        if st.st_uid not in owners:
            raise OSError(errno.EPERM, f"owned by uid {st.st_uid}, no slot's")
        with files_as(st.st_uid):
            _chmod_fd(path_fd, 0o700)
            fd = os.open(".", DIR, dir_fd=path_fd)
        again = os.fstat(fd)
        if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISDIR(again.st_mode):
            os.close(fd)
            raise OSError(errno.ESTALE, "not the directory opened")
        return fd, st.st_uid
    finally:
        os.close(path_fd)


def _open_as_owner(path: str) -> tuple[int, int]:
    """A directory (a slot, or the root above the slots) opened as its owner; and that owner."""
    path_fd = os.open(path, PATH | os.O_DIRECTORY)
    try:
        owner = os.fstat(path_fd).st_uid
        with files_as(owner):
            return os.open(".", DIR, dir_fd=path_fd), owner
    finally:
        os.close(path_fd)


def wipe(root: str, owners: range) -> int:
    """Remove everything below ``root`` (kept itself), whichever of ``owners`` made it, without
    recursion; how many entries could not be removed. ``root``'s mode is set to 0700 first, so
    no other uid may add to it meanwhile."""
    failed = 0
    try:
        parent, parent_owner = _open_as_owner(os.path.dirname(root))
    except OSError:
        return 1
    try:
        top_fd, top_owner = _open_owned_dir(os.path.basename(root), parent, parent_owner, owners)
    except OSError:
        return 1
    finally:
        os.close(parent)
    stack = [_WipeFrame(top_fd, top_owner, "")]
    try:
        stack[0].names = os.listdir(top_fd)
    except OSError:
        failed += 1
    while stack:
        top = stack[-1]
        if top.names:
            name = top.names.pop()
            try:
                with files_as(top.owner):
                    st = os.stat(name, dir_fd=top.fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    fd, owner = _open_owned_dir(name, top.fd, top.owner, owners)
                    frame = _WipeFrame(fd, owner, name)
                    stack.append(frame)
                    frame.names = os.listdir(fd)
                else:
                    with files_as(top.owner):
                        os.unlink(name, dir_fd=top.fd)
            except FileNotFoundError:
                pass
            except OSError:
                failed += 1
            continue
        stack.pop()
        os.close(top.fd)
        if stack:
            up = stack[-1]
            try:
                with files_as(up.owner):
                    os.rmdir(top.name, dir_fd=up.fd)
            except FileNotFoundError:
                pass
            except OSError:
                failed += 1
    return failed


def remove_tree(path: str, owners: range) -> int:
    """Remove the directory ``path`` and everything below it (see ``wipe``); how many entries stayed."""
    failed = wipe(path, owners)
    try:
        above, owner = _open_as_owner(os.path.dirname(path))
    except OSError:
        return failed + 1
    try:
        if owner not in owners:
            return failed + 1
        with files_as(owner):
            os.rmdir(os.path.basename(path), dir_fd=above)
    except FileNotFoundError:
        pass
    except OSError:
        failed += 1
    finally:
        os.close(above)
    return failed
