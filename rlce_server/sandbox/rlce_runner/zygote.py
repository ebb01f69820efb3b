"""The zygote: a clean, pre-initialised interpreter that forks per process.

It is forked from the runner at start-up, *before* any job arrives, and never
receives a program, a test or an input: the runner writes those straight into
each child's own pipe. So a child forked from here inherits warm imports and
nothing secret. Starting a test process is one ``fork()`` (well under a
millisecond) instead of a new interpreter (~20 ms).

The zygote stays root (uid 0 of the container with only CAP_SETUID and
CAP_SETGID) because each child must drop to its own uid; it is a child
subreaper, so every orphan of a test lands here and is reaped.

Requests arrive on a SOCK_SEQPACKET socket with the child's descriptors
attached; replies are ``spawned`` and, for each child, ``exited`` with its
wait status and resource usage.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import shutil
import signal
import socket
import stat as stat_mod
import sys
from typing import Any, NoReturn

from . import forkloop, spawn
from .frames import read_all

# Plain ints for a child's signal reset: ``signal.signal`` wraps every call in
# enum conversions that touch dozens of the zygote's pages (copy-on-write
# faults) in each child; ``_signal.signal`` is the same call without them.
_signal: Any = importlib.import_module("_signal")  # (no type stubs)
_RESET_SIGNALS = (int(signal.SIGCHLD), int(signal.SIGTERM), int(signal.SIGINT))
_SIG_DFL = int(signal.SIG_DFL)
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
MAX_MSG = 65536
MAX_FDS = 8


def prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _arrange_fds(fds: list[int]) -> None:
    """Move the passed descriptors to 0..n-1 and close every other one."""
    high = [os.dup(fd) for fd in fds]
    for target, fd in enumerate(high):
        os.dup2(fd, target, inheritable=True)
    os.closerange(len(fds), 1 << 20)  # one close_range(2) call


def _setlim(which: int, value: int | None) -> None:
    if value is not None:
        resource.setrlimit(which, (value, value))


def _apply_limits(limits: dict[str, Any]) -> None:
    """Every limit but the address space (see _limit_address_space); the spawn helper's too."""
    for name, value in spawn.rlimits(limits):
        _setlim(spawn.RLIMITS[name], value)


def _limit_address_space(budget: int, forked: bool) -> None:
    """The per-process address-space backstop (-1: none), set last, once set-up is done.

    A process that goes on from the zygote's image (a forked script, program
    server or driver) already maps the warm interpreter, so its budget comes on
    top of what it maps now; an exec'd program starts from nothing. Either way
    set-up itself can never fail for want of address space, however small the
    request's memory limit: that would look like our fault.
    """
    if budget <= 0:
        return
    base = 0
    if forked:  # a raw read: a file object costs the child a few dozen page faults
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            base = int(os.read(fd, 256).split()[0]) * resource.getpagesize()
        finally:
            os.close(fd)
    _setlim(resource.RLIMIT_AS, base + budget)


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        os._exit(125)


def _flush_std_streams() -> None:
    """The zygote's own standard streams serve every child unchanged.

    They are fd-based, so once a child has ``dup2``-ed its pipes onto fds 0-2
    they read and write the test's pipes; building new ones would cost a
    millisecond of copy-on-write faults per process. The zygote never reads
    or writes them, so their buffers are empty when a child is forked: this
    check keeps it that way (a child of a zygote that printed would emit the
    zygote's text as the program's output), by flushing them before the
    first fork.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()


def _exit_flushing(code: int) -> NoReturn:
    """End like ``python3 main.py`` ends, then leave without the slow teardown.

    The order follows Py_FinalizeEx: wait for non-daemon threads, run atexit
    handlers, flush the standard streams, drop ``__main__`` from sys.modules
    and collect garbage while its globals are still intact (fast-I/O
    templates flush their buffers in ``IOBase.__del__`` and need them), then
    clear what is left and flush once more.
    """
    import gc
    import weakref

    main = sys.modules.pop("__main__", None)
    ref = weakref.ref(main) if main is not None else None
    del main

    def clear_left() -> None:
        left = ref() if ref is not None else None
        if left is not None:
            left.__dict__.clear()

    def flush_all() -> None:
        # the program may have replaced sys.stdout; the originals are flushed too
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except BaseException:
                pass

    def join_threads() -> None:
        threading = sys.modules.get("threading")  # only a program that imported it can have threads
        if threading is not None:
            threading._shutdown()

    for step in (
        join_threads,
        __import__("atexit")._run_exitfuncs,
        flush_all,
        gc.collect,
        clear_left,
        gc.collect,
        flush_all,
    ):
        try:
            step()
        except BaseException:
            pass
    os._exit(code)


def _exec_main(program: str) -> int:
    """Run the program as ``__main__``; return the exit status python3 would."""
    import traceback
    import types

    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = "main.py"
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = module
    sys.argv = ["main.py"]
    try:
        exec(compile(program, "main.py", "exec"), module.__dict__)
    except SystemExit as exc:
        status = exc.code
        if status is None:
            return 0
        if isinstance(status, int):
            return status & 0xFF
        try:
            sys.stderr.write(f"{status}\n")
        except BaseException:
            pass
        return 1
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        return 1
    return 0


def _run_script(program: str) -> NoReturn:
    """Run the program as ``python3 main.py`` would, inside this process."""
    status = _exec_main(program)  # its frame, and with it the program's globals, is gone now
    _exit_flushing(status)


def _kill_uid(sig: int = signal.SIGKILL) -> NoReturn:
    """Signal every process of this child's uid (this child excluded) and exit.

    kill(-1) from an unprivileged uid reaches exactly that uid's processes,
    daemons that double-forked and called setsid included. Besides SIGKILL,
    SIGSTOP and SIGCONT: a build server is stopped between its builds (the
    runner, without CAP_KILL, cannot signal another uid itself).
    """
    if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCONT):
        os._exit(2)
    try:
        os.kill(-1, sig)
    except ProcessLookupError:
        pass
    os._exit(0)


def _remove_sysv(uid: int) -> int:
    """Remove the SysV IPC objects (shm, queues, semaphores) ``uid`` owns."""
    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    failed = 0
    for kind, id_column in (("shm", "shmid"), ("msg", "msqid"), ("sem", "semid")):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header = fh.readline().split()
                rows = [dict(zip(header, line.split())) for line in fh]
        except OSError:
            continue
        for row in rows:
            if int(row.get("uid", -1)) != uid:
                continue
            ident = int(row[id_column])
            if kind == "shm":
                rc = libc.shmctl(ident, ipc_rmid, None)
            elif kind == "msg":
                rc = libc.msgctl(ident, ipc_rmid, None)
            else:
                rc = libc.semctl(ident, 0, ipc_rmid)
            failed += int(rc != 0)
    return failed


def _wipe(paths: list[str]) -> NoReturn:
    """Remove everything this uid owns below ``paths`` (run as that uid)."""
    uid = os.getuid()
    failed = _remove_sysv(uid) + remove_owned(paths, uid)
    os._exit(1 if failed else 0)


def remove_owned(paths: list[str], uid: int) -> int:
    """Remove what ``uid`` owns below ``paths``; how many entries could not be removed.

    Run as that uid (the wipe helper of a scoring job): nothing another uid
    owns is touched, and a symbolic link is removed, never followed. The walk
    is iterative and relative to each directory's descriptor (one open
    directory per level, ``O_NOFOLLOW | O_NONBLOCK``, checked with fstat): no
    depth makes it recurse, no FIFO blocks it, no error but OSError escapes.
    """
    failed = 0
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    for root in paths:
        try:
            top = os.open(root, flags)
            stack: list[tuple[int, str, list[str]]] = [(top, "", os.listdir(top))]
        except OSError:
            continue
        while stack:
            fd, _, names = stack[-1]
            if names:
                name = names.pop()
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    if stat_mod.S_ISDIR(st.st_mode):
                        if st.st_uid == uid:
                            os.chmod(name, 0o700, dir_fd=fd)  # a program may chmod 000 its directories
                        try:
                            sub = os.open(name, flags, dir_fd=fd)
                        except OSError:
                            failed += st.st_uid == uid  # (another uid's, closed to this one: not ours to empty)
                            continue
                        stack.append((sub, name if st.st_uid == uid else "", []))
                        stack[-1][2].extend(os.listdir(sub))
                    elif st.st_uid == uid:
                        os.unlink(name, dir_fd=fd)
                except FileNotFoundError:
                    pass
                except OSError:
                    failed += 1
                continue
            _, done, _ = stack.pop()
            os.close(fd)
            if stack and done:  # (a directory of another uid stays)
                try:
                    os.rmdir(done, dir_fd=stack[-1][0])
                except FileNotFoundError:
                    pass
                except OSError:
                    failed += 1
    return failed


def _reset_signals() -> None:
    _signal.set_wakeup_fd(-1)
    for sig in _RESET_SIGNALS:
        _signal.signal(sig, _SIG_DFL)
    _signal.pthread_sigmask(_signal.SIG_SETMASK, ())  # (SIGCHLD is blocked in a zygote with the C loop)


def child_main(req: dict[str, Any], fds: list[int]) -> NoReturn:
    """Set up one sandboxed process; runs as root until _drop_privileges.

    The kill and wipe helpers' way (``os.fork`` in the zygote's Python); every
    other forked process runs the same steps in the C loop (spawn.c's
    ``spawn_setup``) and goes on in ``_forked_child``."""
    try:
        _reset_signals()
        os.setsid()
        _arrange_fds(fds)
        try:  # raw descriptors: a text file object costs the child a few dozen page faults
            fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
            try:
                os.write(fd, b"1000")
            finally:
                os.close(fd)
        except OSError:
            pass
        os.umask(0o077)
        _apply_limits(req.get("limits", {}))
        _drop_privileges(int(req["uid"]), int(req["gid"]))
        os.chdir(req.get("cwd", "/"))  # as the child's uid: a build directory is the candidate's, 0700
        if req.get("subreaper"):
            # a judge: what it starts stays below it, orphaned or not, so its CPU is the jury's
            # (a judge is trusted as its process tree), never the program's; kept across execve
            prctl(PR_SET_CHILD_SUBREAPER, 1)
    except BaseException as exc:  # set-up failed before any candidate code ran
        _setup_failed(exc)
    budget = req.get("limits", {}).get("address_space_bytes")
    _after_setup(req, int(budget) if budget else -1, len(fds))


def _forked_child(role: bytes, payload: str) -> NoReturn:
    """A child the C loop forked and set up (forkloop.c: descriptors, limits, uid, cwd,
    its payload read, "ready" written, the address-space backstop). Its signal state is
    already a new process's (see ``main``)."""
    try:
        _run_role(role.decode(), payload)
    except BaseException as exc:
        _setup_failed(exc)


def _setup_failed(exc: BaseException) -> NoReturn:
    try:
        os.write(2, f"rlce sandbox set-up failed: {exc!r}\n".encode())
    except OSError:
        pass
    os._exit(126)


def _after_setup(req: dict[str, Any], address_space: int, nfds: int) -> NoReturn:
    """The rest of a child's set-up, as its uid in its working directory, and its role."""
    role = req["role"]
    try:
        if role == "kill":
            _kill_uid(int(req.get("signal", signal.SIGKILL)))
        if role == "wipe":
            _wipe(list(req.get("paths", [])))
        # fd 3 carries the boot payload, fd 4 is the "ready" pipe, extras follow.
        payload = read_all(3).decode("utf-8", "surrogateescape")
        os.close(3)
        if role == "exec":
            # resolved before "ready": a runtime whose tool is missing is our fault
            argv, env = spawn.decode(payload.encode("utf-8", "surrogateescape"))
            found = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=os.environ.get("PATH"))
            if found is None:
                raise FileNotFoundError(f"{argv[0]} is not installed in this image")
            path: str = found
            exec_env = {**os.environ, **env}
        extras = nfds - 5
        for i in range(extras):
            os.dup2(5 + i, 20 + i, inheritable=False)
            os.close(5 + i)
        # Last step of set-up: from here on, every outcome is the program's.
        os.write(4, b"R")
        os.close(4)
        for i in range(extras):
            # an exec'd program keeps them (its harness reads fd 3, writes fd 4)
            os.dup2(20 + i, 3 + i, inheritable=role == "exec")
            os.close(20 + i)
        _limit_address_space(address_space, forked=role != "exec")
        if role == "exec":
            os.execve(path, argv, exec_env)
        _run_role(role, payload)
    except BaseException as exc:  # set-up failed before any candidate code ran
        _setup_failed(exc)


def _run_role(role: str, payload: str) -> NoReturn:
    """A set-up process of the zygote's image goes on as its role (after "ready")."""
    if role == "script":
        _run_script(payload)
    if role == "pyjudge":
        from .pyjudge import run_judge

        spec = json.loads(payload)
        run_judge(str(spec["script"]), [str(a) for a in spec["args"]])
    if role == "program":
        from .program_server import serve

        serve(payload)
    if role == "driver":
        from .test_driver import serve as serve_tests

        serve_tests()
    if role == "session":  # a live session's first state (its control socket is fd 3)
        from .session_process import serve as serve_session

        serve_session(payload, 3)
    raise ValueError(f"no such role: {role}")


def _preload(modules: list[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass


# Imported by every child on its way out or when it fails: warm them here.
# Never ``threading``: once imported, every fork runs its after-fork hook
# (~0.7 ms and a hundred copy-on-write faults per test, docs/PERFORMANCE.md).
ALWAYS = ["atexit", "gc", "linecache", "runpy", "traceback", "types", "weakref"]


PREFORK_ANSWER_S = 30.0  # a fork server's answer is one clone away; none by then is a stuck server


def _start_prefork() -> tuple[socket.socket, int]:
    """The image's fork server (spawn.PREFORK), started once, root, under this process's
    seccomp filter; its socket on its fd 3. Its children are this process's own
    (CLONE_PARENT): waited for and accounted here as a posix_spawn'd helper is. If it
    ends, the zygote does too, so that the sandbox is replaced rather than counted
    with a trusted task that is no longer there (cleanup.Cleaner)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.posix_spawn(
        spawn.PREFORK,
        [spawn.PREFORK, "--rlce-prefork-serve"],
        os.environ,
        file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3)],
        setsid=True,
        setsigdef=_RESET_SIGNALS,
        setsigmask=(),
    )
    theirs.close()
    ours.settimeout(PREFORK_ANSWER_S)
    return ours, pid


def _prefork_spawn(sock: socket.socket, argv: list[str], fds: list[int]) -> int:
    """One exec'd process through the fork server: its pid, or the OSError it met."""
    try:
        socket.send_fds(sock, [spawn.prefork_request(argv)], fds)
        answer = sock.recv(4)  # at once: the server forks and answers (a timeout: it is stuck)
    except OSError:
        answer = b""
    if len(answer) != 4:  # the server is gone: the sandbox goes with it
        os._exit(1)
    value = int.from_bytes(answer, sys.byteorder, signed=True)
    if value < 0:
        raise OSError(-value, os.strerror(-value))
    return value


def main(
    ctl: socket.socket,
    preload: list[str],
    seccomp: bool = True,
    env: dict[str, str] | None = None,
    sessions: bool = False,
    candidate_uid: int = -1,
) -> NoReturn:
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_DUMPABLE, 0)
    if env is not None:  # every child's environment, set here once rather than in each child
        os.environ.clear()
        os.environ.update(env)
    _preload(ALWAYS + preload)
    import gc

    from . import program_server, session_process, test_driver  # noqa: F401  (warm for the children)

    session_process.warm_up()
    test_driver.snapshot()  # the clean builtins every driver restores between tests

    denied = None
    if seccomp:
        # Installed once, here, before the first fork: every process the
        # zygote makes inherits it (filters cannot be removed), at no cost
        # per process. The zygote itself needs none of the denied calls. Its
        # listener (if any) stays here: every child closes it in _arrange_fds.
        from .syscall_filter import install

        denied = install(sessions=sessions)
    _flush_std_streams()
    # The C loop learns of SIGCHLD from a signalfd (the signal blocked here, and unblocked in
    # each child by the loop), so no Python handler or wakeup fd exists for a child to
    # inherit, and the runner's SIGTERM and Python's SIGINT handlers are gone too: a child has
    # no Python signal state to reset.
    for sig in _RESET_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    notify_fd = denied.notify_fd if denied is not None and denied.notify_fd is not None else -1
    helper = spawn.helper_available()  # exec'd processes run its set-up (spawn.py)
    # Two fork servers, when the image has them (every image rlce builds): the
    # candidate's processes and everyone else's are copies of different processes, so
    # a JavaScript program that reads its own memory map learns nothing of where a
    # test's node has its libraries (an exec'd process has a layout of its own; a node
    # started in the forked child its server's).
    # A session sandbox execs nothing through the zygote (its cells are forks of their
    # states), so it starts none: two idle processes there.
    forkers = (_start_prefork(), _start_prefork()) if helper and spawn.prefork_available() and not sessions else None
    forker_pids = (forkers[0][1], forkers[1][1]) if forkers else (-1, -1)
    socks = (forkers[0][0].fileno(), forkers[1][0].fileno()) if forkers else (-1, -1)
    # (every image rlce builds has the library: a zygote without it fails to start)
    loop = forkloop.ForkLoop(
        ctl.fileno(), notify_fd, forker_pids, socks, candidate_uid, MAX_MSG, MAX_FDS, _forked_child
    )
    gc.collect()
    gc.freeze()  # keep the children's copy-on-write pages shared

    def send(obj: dict[str, Any]) -> None:
        ctl.send(json.dumps(obj).encode())

    def answer_denied() -> None:
        assert denied is not None
        name = denied.answer()
        if name is not None:  # told before the call returns, so before the caller's exit
            send({"denied": name})

    def serve_here(msg: bytes, fds: list[int]) -> None:
        """One request the C loop left to Python (kill and wipe; an exec without fork servers)."""
        req = json.loads(msg.partition(b"\n")[2])
        try:
            if req["role"] == "exec" and forkers:
                forker = forkers[0] if int(req["uid"]) == candidate_uid else forkers[1]
                pid = _prefork_spawn(forker[0], spawn.helper_argv(req, fds), fds)
            elif req["role"] == "exec" and helper:
                pid = os.posix_spawn(
                    spawn.HELPER,
                    spawn.helper_argv(req, fds),
                    os.environ,
                    setsid=True,
                    setsigdef=_RESET_SIGNALS,
                    setsigmask=(),
                )
            else:
                pid = os.fork()
        except OSError as exc:  # EAGAIN under the pids limit: the runner retries
            for fd in fds:
                os.close(fd)
            send({"spawn_failed": req["id"], "error": str(exc)})
            return
        if pid == 0:
            child_main(req, fds)
        for fd in fds:
            os.close(fd)
        job = req["id"]
        loop.track(pid, job)
        # Formatted by hand, not by json.dumps: after each fork every page the
        # zygote writes is a copy-on-write fault, and the encoder's
        # objects touch dozens of them (ids are the runner's own "p<n>").
        ctl.send(b'{"spawned":"%s","pid":%d}' % (job.encode(), pid))

    # the trusted tasks besides the runner and the zygote (the cleaner counts them)
    send({"ready": True, "helper_tasks": len(forkers) if forkers else 0})

    while True:
        served = loop.serve()
        if served.kind == forkloop.DENIED:
            answer_denied()
        else:
            serve_here(served.message, served.fds)
        del served  # (nothing of one request stays in the zygote for the next child's copy)
