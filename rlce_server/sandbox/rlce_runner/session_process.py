"""What a live session's processes run (docs/SESSIONS.md).

A session's *state* is one process holding the interpreter: its names, its
modules, its working directory. It waits on its control socket; the runner
stops it (SIGSTOP) between commands, so an idle session uses no CPU.

* ``cell``: the state forks; the child runs the cell (stdin, stdout and
  stderr its own pipes) and writes one record -- the repr of a final
  expression, or the traceback -- then waits on a control socket of its own.
  If the cell ended within its limits the runner kills the old state and the
  child *is* the session from then on; if not, the runner kills the child and
  the old state goes on as if the cell had never run.
* ``fork``: the state forks; the child, in a working directory of its own
  (the runner's copy of the parent's), is a new session that shares the
  parent's past and nothing after.

Once candidate code has run in a process, everything in its memory is the
candidate's, this module's code included: the runner trusts none of it. The
record is the cell's own output and goes back as such; the limits, the
verdict and which process is the state are decided by the runner from what
the kernel says.
"""

from __future__ import annotations

import ast
import ctypes
import json
import linecache
import os
import socket
import struct
import sys
import traceback
import types
from typing import Any, NoReturn

from .frames import read_all, write_all

PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
# Landlock (Linux >= 6.12, ABI 6): the same numbers on every architecture
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 0x1
LANDLOCK_SCOPE_SIGNAL = 0x2
LANDLOCK_SCOPED_ABI = 6
RESULT_MAX_CHARS = 64 * 1024  # a final expression's repr, cut to this
ERROR_MAX_CHARS = 64 * 1024  # a traceback, its end kept
CONTROL_BYTES = 65536
_HERE = __file__.rsplit(".", 1)[0]


def _subreaper() -> None:
    """Orphans of this process's children stay below it, where the runner counts them."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def own_domain() -> bool:
    """Put this tree in a Landlock domain of its own, scoped: no connecting to an abstract unix
    socket, and no signal to a process, made outside the domain (another tree, the runner).

    Trees of a session sandbox share one network namespace, where seccomp cannot tell one
    abstract socket name from another (the address is behind a pointer); Landlock's scopes
    decide by who *made* the socket, so two trees cannot talk, pass descriptors or learn each
    other's uid through one, whatever names they agree on. A fork of the session (the same
    tree) inherits the domain. False where the kernel has no scopes (docs/SECURITY.md).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < LANDLOCK_SCOPED_ABI:
        return False
    # struct landlock_ruleset_attr {u64 handled_access_fs, handled_access_net, scoped}
    attr = ctypes.create_string_buffer(
        struct.pack("=QQQ", 0, 0, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL), 24
    )
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, 24, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # (set already with the seccomp filter)
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(fd)
    return True


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _cut(text: str, cap: int, keep_end: bool) -> str:
    if len(text) <= cap:
        return text
    return "...\n" + text[-cap:] if keep_end else text[:cap] + "..."


def _traceback(exc: BaseException) -> str:
    """The exception as Python prints it, without this module's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.rsplit(".", 1)[0] == _HERE:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return _cut(text, ERROR_MAX_CHARS, keep_end=True)


def run_cell(code: str, namespace: dict[str, Any], filename: str) -> dict[str, Any]:
    """Run a cell as a notebook does: its statements, then the repr of a final expression."""
    try:
        tree = ast.parse(code, filename, "exec")
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte in the source
        return {"status": "error", "error": _cut("".join(traceback.format_exception_only(exc)), ERROR_MAX_CHARS, True)}
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)  # tracebacks show the source
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        final = tree.body.pop()
        assert isinstance(final, ast.Expr)
        last = ast.Expression(final.value)
    try:
        exec(compile(tree, filename, "exec"), namespace)
        value = eval(compile(last, filename, "eval"), namespace) if last is not None else None
        result = "" if value is None else _cut(repr(value), RESULT_MAX_CHARS, keep_end=False)
    except SystemExit as exc:
        status = exc.code
        code_ = status if isinstance(status, int) else (0 if status is None else 1)
        error = "" if code_ == 0 else f"SystemExit: {status!r}"
        return {"status": "exit", "exit_code": code_ & 0xFF, "error": error}
    except BaseException as exc:
        return {"status": "error", "error": _traceback(exc)}
    return {"status": "ok", "result": result}


def _fresh_stdio() -> None:
    """Standard streams of this cell's own pipes (nothing an earlier cell buffered or replaced)."""
    sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115


def _detach_stdio() -> None:
    """The cell is over: its pipes close (the runner reads them to their end), fds 0-2 stay valid."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


class _State:
    def __init__(self, sock: socket.socket, namespace: dict[str, Any]) -> None:
        self.sock = sock
        self.namespace = namespace
        self.cells = 0

    def serve(self) -> NoReturn:
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self.sock, CONTROL_BYTES, 8)
            except OSError:
                os._exit(0)
            if not msg:
                os._exit(0)  # the runner let go of this session
            # Dead children are reaped when the next command comes, not before: a cell that ended
            # at once stays a zombie until the runner, which reads the kernel's word on the pid it
            # was told, has named it (it sends the next command only after that).
            _reap()
            try:
                command = json.loads(msg)
                op = command["op"]
            except (ValueError, KeyError, TypeError):
                op = None
            if op == "cell" and len(fds) == 6:
                self._cell(fds)
            elif op == "fork" and len(fds) == 1:
                self._fork(fds[0], str(command.get("cwd", "")))
            else:
                for fd in fds:
                    os.close(fd)

    def _tell(self, pid: int, error: str = "") -> None:
        """Which process took the command (the runner checks it is this one's child), or why none did."""
        try:
            self.sock.send(json.dumps({"pid": pid, "error": error} if error else {"pid": pid}).encode())
        except OSError:
            os._exit(0)

    def _spawn(self, fds: list[int]) -> int:
        """fork(); -1 when the tree is at its process limit (told to the runner, the state goes on)."""
        try:
            return os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self._tell(0, f"fork failed: {exc.strerror} (the session's processes are at their limit)")
            return -1

    def _become(self, ctl: int) -> None:
        """The forked child takes its own control socket and its own session of processes."""
        self.sock.detach()
        self.sock = socket.socket(fileno=ctl)
        os.setsid()
        _subreaper()

    def _fork(self, ctl: int, cwd: str) -> None:
        pid = self._spawn([ctl])
        if pid < 0:
            return
        if pid:
            os.close(ctl)
            self._tell(pid)
            return
        old = self.sock.fileno()
        self._become(ctl)
        os.close(old)
        try:
            os.chdir(cwd)
            os.environ["HOME"] = cwd
        except OSError:
            pass  # the runner sees the same: its copy failed, and it refused the fork

    def _cell(self, fds: list[int]) -> None:
        stdin, stdout, stderr, code_fd, result_fd, ctl = fds
        pid = self._spawn(fds)
        if pid < 0:
            return
        if pid:
            for fd in fds:
                os.close(fd)
            self._tell(pid)
            return
        old = self.sock.fileno()
        self._become(ctl)
        os.close(old)
        for src, dst in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(src, dst)
            os.close(src)
        _fresh_stdio()
        code = read_all(code_fd).decode("utf-8", "surrogateescape")
        os.close(code_fd)
        self.cells += 1
        me = os.getpid()
        record = run_cell(code, self.namespace, f"<cell {self.cells}>")
        if os.getpid() != me:  # a process the cell forked came back here: it is not the session
            os._exit(0)
        _detach_stdio()
        try:
            write_all(result_fd, json.dumps(record).encode())
        except OSError:
            pass
        os.close(result_fd)


def warm_up() -> None:
    """Run a cell once in the zygote, so that every session's first cell starts as warm as its later
    ones (a state inherits what the cells before it warmed: the compiler's and linecache's paths)."""
    run_cell("x = [1]\nx + [2]", {"__builtins__": __builtins__}, "<warm>")
    run_cell("1 / 0", {"__builtins__": __builtins__}, "<warm>")
    linecache.cache.pop("<warm>", None)


def serve(payload: str, ctl: int) -> NoReturn:
    """A new session's first state: an empty ``__main__``, in its working directory."""
    boot = json.loads(payload)
    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = module
    sys.argv = [""]
    os.environ["HOME"] = str(boot["cwd"])
    os.environ["TMPDIR"] = str(boot["tmp"])
    _subreaper()  # (the zygote made it a session leader already)
    own_domain()  # before any candidate code; a kernel refusing it here is ours, and the state dies
    _State(socket.socket(fileno=ctl), module.__dict__).serve()
