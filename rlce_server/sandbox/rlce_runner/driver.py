"""The test driver (the *judge*): runs test code in its own process.

One judge process per sandbox serves test after test (forked once from the
zygote; the runner recycles it after a number of tests or whenever a test
leaves it in doubt),
so a test costs one fork -- the program's -- not two. Each test arrives as
three descriptors: the test payload, the value channel to this test's
program server, and the pipe that receives the record. Test code runs in a
fresh ``__main__`` namespace, and the builtins are restored after each test.

Runs under the judge uid, never the candidate's, so the program can neither
read the test code (which holds the expected values) nor signal, trace or
tamper with this process. The program's top-level names are bound as inert
proxies; names that would shadow a builtin a test uses to judge values are
not bound, so a program cannot
replace ``abs``, ``len`` or ``isinstance`` in the test's eyes (a program may
still name its own function after a rarely judged builtin such as ``sum``, as
MBPP task 126 does). Program modules are Program modules are
imported afresh here, never taken from the program.

The single record written to the result pipe is the only evidence of a
pass, and it is written only after the test code ran to its end. The
program can send this process nothing but values (decoded strictly), so it
cannot leave anything here for the next test.
"""

from __future__ import annotations

import builtins
import importlib
import json
import linecache
import os
import socket
import sys
import traceback
import types
from typing import Any, NoReturn

from . import codec
from .program_client import ProgramClient, ProgramGone, RemoteError

CTL_FD = 3
# Test code compiled by this judge, by source (code objects are immutable;
# each test still runs in a fresh namespace).
_COMPILED: dict[str, types.CodeType] = {}
# Builtins that tests use to judge values: a program may never rebind these.
_PROTECTED = frozenset(
    {
        "abs",
        "all",
        "any",
        "ascii",
        "bool",
        "bytes",
        "callable",
        "complex",
        "dict",
        "enumerate",
        "filter",
        "float",
        "frozenset",
        "getattr",
        "hasattr",
        "hash",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "object",
        "print",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "setattr",
        "slice",
        "sorted",
        "str",
        "super",
        "tuple",
        "type",
        "vars",
        "zip",
        "exec",
        "eval",
        "compile",
        "globals",
        "locals",
        "__import__",
        "open",
        "format",
        "divmod",
    }
    | {name for name in dir(builtins) if name[:1].isupper()}  # exceptions, True/False/None, Ellipsis...
)


class _Done(BaseException):
    """Carries a test's record out of the driver code (never out of test code)."""

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__()
        self.record = record


def _report(record: dict[str, Any]) -> NoReturn:
    raise _Done(record)


def _summary(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for fr in reversed(frames):
        if fr.filename == "test.py":
            where = f" (test line {fr.lineno}: {(fr.line or '').strip()[:200]})"
            break
    try:
        text = str(exc)
    except Exception:
        text = ""
    name = getattr(exc, "program_type", type(exc).__name__)
    return (f"{name}: {text}" if text else name)[:1500] + where


# Stdlib modules whose import does something (opens a browser, prints, touches
# the terminal or the interpreter's start-up hooks): never imported on a
# program's say-so into the long-lived judge.
_NO_IMPORT = frozenset(
    {"antigravity", "this", "webbrowser", "turtle", "turtledemo", "tkinter", "idlelib", "readline", "rlcompleter",
     "site", "sitecustomize", "usercustomize", "pydoc", "pdb", "code", "__hello__", "__phello__", "lib2to3",
     "ensurepip", "venv", "pip"}
)  # fmt: skip


def _importable(module: str) -> bool:
    """A module the program imported may be bound for the test by name: one the
    judge already has, or a side-effect-free standard library module."""
    if module in sys.modules:
        return True
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names and top not in _NO_IMPORT


def _bind(client: ProgramClient, names: list[Any], namespace: dict[str, Any]) -> None:
    for entry in names:
        if not isinstance(entry, dict):
            continue
        name = entry.get("n")
        kind = entry.get("k")
        if not isinstance(name, str) or not name.isidentifier() or name in _PROTECTED:
            continue
        if hasattr(builtins, name) and kind != "ref":
            continue  # only the program's own functions may take a builtin's name
        try:
            if kind == "module" and isinstance(entry.get("m"), str) and _importable(entry["m"]):
                namespace[name] = importlib.import_module(entry["m"])
            elif kind == "value":
                namespace[name] = codec.decode(entry.get("v"))
            elif kind == "ref" and type(entry.get("r")) is int:
                namespace[name] = client.proxy(entry["r"], f"program object {name!r}")
        except (ImportError, codec.CodecError, ValueError):
            continue


def _hello(client: ProgramClient) -> list[Any]:
    try:
        hello = client.hello()
    except ProgramGone as exc:
        _report({"status": "program_gone", "message": str(exc)})
    if "load_error" in hello:
        err = hello.get("load_error") or {}
        _report(
            {
                "status": "load_error",
                "syntax": bool(hello.get("syntax")),
                "message": f"{str(err.get('type', 'Error'))[:100]}: {str(err.get('msg', ''))[:1500]}",
            }
        )
    names = hello.get("ready")
    if not isinstance(names, list):
        _report({"status": "program_gone", "message": "malformed hello from the program"})
    return names


def run_test(payload: str, chan_fd: int) -> dict[str, Any]:
    """Run one test against the program behind ``chan_fd``; return its record."""
    try:
        _run(payload, chan_fd)
    except _Done as done:
        return done.record
    return {"status": "test_error", "message": "the driver ended without a record"}


def _run(payload: str, chan_fd: int) -> NoReturn:
    job = json.loads(payload)
    client = ProgramClient(chan_fd)
    names = _hello(client)
    if job["mode"] == "call":
        _call(client, names, job["entry"], job["args"])
    code = job["code"]
    # so that a failing assertion's message can quote the test's own line
    linecache.cache["test.py"] = (len(code), None, code.splitlines(True), "test.py")
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    sys.modules["__main__"] = module
    _bind(client, names, namespace)
    compiled = _COMPILED.get(code)
    if compiled is None:
        try:
            compiled = compile(code, "test.py", "exec")
        except (SyntaxError, ValueError) as exc:
            _report({"status": "test_error", "message": f"the test code does not compile: {exc}"})
        if len(_COMPILED) >= 256:  # a GRPO group shares its tests: keep the recent ones
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[code] = compiled
    try:
        exec(compiled, namespace)
    except ProgramGone as exc:
        _report({"status": "program_gone", "message": str(exc)})
    except AssertionError as exc:
        status = "runtime_error" if isinstance(exc, RemoteError) else "assertion_failed"
        _report({"status": status, "message": _summary(exc)})
    except SystemExit as exc:
        _report({"status": "test_error", "message": f"the test code exited early (SystemExit {exc.code!r})"})
    except BaseException as exc:
        status = "runtime_error" if isinstance(exc, RemoteError) or client.gone else "test_raised"
        _report({"status": status, "message": _summary(exc)})
    if client.gone:  # the test swallowed the program's death: still no pass
        _report({"status": "program_gone", "message": client.gone})
    _report({"status": "passed"})


def _call(client: ProgramClient, names: list[Any], entry: str, args_json: str) -> NoReturn:
    """A call test: one call, the raw returned tree goes to the host to judge."""
    ref = None
    for item in names:
        if isinstance(item, dict) and item.get("n") == entry and item.get("k") == "ref":
            ref = item.get("r")
    if type(ref) is not int:
        _report({"status": "runtime_error", "message": f"the program defines no callable {entry!r}"})
    try:
        args = [codec.encode(a) for a in json.loads(args_json)]
        reply = client.request_raw(codec.dumps({"op": "call", "ref": ref, "args": args, "kwargs": {}}))
    except ProgramGone as exc:
        _report({"status": "program_gone", "message": str(exc)})
    if isinstance(reply, dict) and len(reply) == 1 and "ok" in reply:
        _report({"status": "returned", "value": reply["ok"]})
    try:
        client.unwrap(reply)
    except ProgramGone as exc:
        _report({"status": "program_gone", "message": str(exc)})
    except BaseException as exc:
        _report({"status": "runtime_error", "message": _summary(exc)})
    _report({"status": "program_gone", "message": "malformed reply"})


def _read_all(fd: int) -> str:
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def serve() -> NoReturn:
    """The judge's loop: one test per message on the control socket.

    Exits when the runner closes the socket. A test that leaves a thread
    behind makes the judge retire: its record says so (``retire``), so the
    runner never sends the next test to a judge on its way out.
    """
    ctl = socket.socket(fileno=CTL_FD)
    pristine = dict(builtins.__dict__)
    limit = sys.getrecursionlimit()
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, 16, 3)
        except OSError:
            break
        if not msg or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            break
        payload_fd, chan_fd, result_fd = fds
        try:
            record = run_test(_read_all(payload_fd), chan_fd)
        except BaseException as exc:  # a malformed payload: ours, never the program's
            record = {"status": "test_error", "message": f"judge: {exc!r}"[:500]}
        finally:
            os.close(payload_fd)
            os.close(chan_fd)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        threading = sys.modules.get("threading")  # imported only if a test did
        retire = threading is not None and threading.active_count() > 1
        if retire:
            record["retire"] = True
        try:
            _write_all(result_fd, json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        except OSError:
            pass
        os.close(result_fd)
        if retire:
            break
        # back to a clean state for the next test
        sys.modules.pop("__main__", None)
        linecache.cache.pop("test.py", None)
        for name in [n for n in builtins.__dict__ if n not in pristine]:
            del builtins.__dict__[name]
        for name, value in pristine.items():
            if builtins.__dict__.get(name) is not value:
                builtins.__dict__[name] = value
        sys.setrecursionlimit(limit)
    os._exit(0)
