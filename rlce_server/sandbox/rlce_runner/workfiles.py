"""Files into and out of a working directory that sandboxed code owns.

``Run`` and sessions take files from the caller (written before the code
runs) and hand files back (``fetch``, read after). The directory belongs to
a sandbox uid and its code may have had the last word in it, so:

* every access is made *as that uid* (``files_as``): the runner can never
  reach through it what the uid itself could not;
* names are relative paths of plain components (no ``..``, no absolute
  paths, no empty or ``.`` parts), checked here again whatever the host
  checked;
* each component is opened relative to its parent with ``O_NOFOLLOW``: a
  symlink the code planted is refused, never followed;
* only regular files are read back, and at most ``max_bytes`` in all;
* every open is ``O_NONBLOCK`` and checked with fstat after it (a FIFO the
  code made never blocks the runner), and a file written is made anew
  (unlinked, then ``O_CREAT | O_EXCL``), never opened where it is;
* ``root`` may be a descriptor the runner opened (a session's directory):
  then no path is resolved again above the names given.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from .artifacts import files_as
from .treefiles import create_file, write_all

MAX_NAME_BYTES = 1024
MAX_PART_BYTES = 255
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class FileRefused(ValueError):
    """A name this runner will not use (the host should have refused it first)."""


def parts(name: str) -> list[str]:
    """The components of a relative file name, or FileRefused saying why not."""
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise FileRefused(f"{name[:80]!r}: a name of 1 to {MAX_NAME_BYTES} bytes is required")
    if name.startswith("/") or "\x00" in name or "\\" in name:
        raise FileRefused(f"{name[:80]!r}: a relative path without NUL or backslash is required")
    found = name.split("/")
    for part in found:
        if part in ("", ".", "..") or len(part.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES:
            raise FileRefused(f"{name[:80]!r}: each part must be a plain name (no '', '.', '..')")
    return found


@contextmanager
def _parent(root: str | int, name: str, create: bool) -> Iterator[tuple[int, str]]:
    """An open descriptor of ``name``'s directory under ``root`` (no symlink followed) and its last part."""
    *dirs, leaf = parts(name)
    fd = os.dup(root) if isinstance(root, int) else os.open(root, DIR_FLAGS)
    try:
        for part in dirs:
            if create:
                try:
                    os.mkdir(part, 0o700, dir_fd=fd)
                except FileExistsError:
                    pass
            nxt = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise OSError(errno.ENOTDIR, "not a directory")
        yield fd, leaf
    finally:
        os.close(fd)


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link (not followed)"
    if exc.errno == errno.ENOTDIR:
        return "a part of its path is not a directory"
    return exc.strerror or str(exc)


def write_files(root: str | int, files: dict[str, bytes], uid: int) -> list[str]:
    """Write ``files`` under ``root`` as ``uid`` (replacing what is there); the errors, one line each."""
    errors = []
    with files_as(uid):
        for name, data in files.items():
            try:
                with _parent(root, name, create=True) as (dir_fd, leaf):
                    fd = create_file(leaf, dir_fd)  # (what had the name -- a FIFO, say -- is replaced)
                    try:
                        write_all(fd, data)
                    finally:
                        os.close(fd)
            except FileRefused as exc:
                errors.append(f"files: {exc}")
            except OSError as exc:
                errors.append(f"files[{name[:80]!r}]: cannot write it: {_why(exc)}")
    return errors


def read_files(root: str | int, names: list[str], uid: int, max_bytes: int) -> tuple[dict[str, bytes], list[str]]:
    """Regular files ``names`` under ``root``, read as ``uid``, at most ``max_bytes`` together; and the errors."""
    found: dict[str, bytes] = {}
    errors = []
    left = max_bytes
    with files_as(uid):
        for name in names:
            try:
                with _parent(root, name, create=False) as (dir_fd, leaf):
                    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                    fd = os.open(leaf, flags, dir_fd=dir_fd)
                    try:
                        st = os.fstat(fd)
                        if not stat.S_ISREG(st.st_mode):
                            raise OSError(errno.EINVAL, "not a regular file")
                        if st.st_size > left:
                            errors.append(f"fetch[{name[:80]!r}]: {st.st_size} bytes, over the {max_bytes} allowed")
                            continue
                        chunks, size = [], 0
                        while size <= left and (chunk := os.read(fd, min(1 << 20, left + 1 - size))):
                            chunks.append(chunk)
                            size += len(chunk)
                    finally:
                        os.close(fd)
            except FileRefused as exc:
                errors.append(f"fetch: {exc}")
                continue
            except OSError as exc:
                why = "no such file" if exc.errno == errno.ENOENT else _why(exc)
                errors.append(f"fetch[{name[:80]!r}]: {why}")
                continue
            if size > left:  # it grew while read
                errors.append(f"fetch[{name[:80]!r}]: over the {max_bytes} bytes allowed")
                continue
            found[name] = b"".join(chunks)
            left -= size
    return found, errors
