"""Every message that crosses the sandbox boundary, typed, in one place.

The host (``rlce_server.scheduling``), the in-container runner and the fake
backend all build and read these dataclasses; nothing else may put a dict on
the wire. ``dump`` turns a message into JSON-able data and ``load`` checks
data against a message type field by field, so a malformed frame is refused
where it is read instead of surfacing as a KeyError three modules later.

stdlib only: this module is copied into every sandbox image.

Exchanges (host -> runner, one frame each way, in order):

    Hello          -> HelloReply
    Build          -> BuildFacts      a build (a program, a compiled test, a judge)
    Fetch          -> Artifact        a stored build's files (a judge built elsewhere)
    Install        -> BuildFacts      store files the host brings (that judge, here)
    ScriptRun      -> RunFacts        Python stdio: the program as a script (then a checker)
    ExecRun        -> RunFacts        compiled stdio: an artifact exec'd (then a checker)
    ValueRun       -> RunFacts        Python call/assertion: program server + test driver
    SplitRun       -> RunFacts        compiled assertion: program process + test process
    InteractiveRun -> RunFacts        the program and an interactor, each one's stdout the other's stdin
    RunBatch       -> BatchFacts      stdio runs (ScriptRun / ExecRun) back to back, one frame each way
    JudgeRun       -> JudgeFacts      a judge alone (a problem's answers checked at registration)
    Reset          -> ResetReply      after each job

A reply is ``{"ok": true, "result": <message>}`` or ``{"ok": false,
"broken": "..."}`` (the sandbox must be replaced) / ``{"ok": false,
"error": "..."}`` (a request this runner refuses: a bug of the host).

A *session sandbox* (docs/SESSIONS.md; the host sets ``ENV_SESSION_UIDS``)
serves live Python sessions instead, many requests at once: each frame is
``{"id": n, "request": <message>}`` and its reply carries the same ``id``,
in whatever order the requests finish:

    Hello          -> HelloReply      (mode "sessions")
    SessionOpen    -> SessionFacts    a new session (a new tree, a slot and its uid)
    SessionExec    -> CellFacts       one cell, run in a fork of the session's state
    SessionFork    -> SessionFacts    a copy of a session's state (same tree)
    SessionClose   -> SessionClosed   its processes and files gone; the slot wiped once its tree is empty

Fields left at their defaults are left out of a frame (``dump``), so a
message gains a field without breaking a peer that does not know it.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import struct
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

# -- the channel between host and runner ------------------------------------
PROTOCOL_VERSION = "2"
FRAME_HEADER = struct.Struct(">I")  # a 4-byte big-endian length, then that many bytes
MAX_FRAME_BYTES = 64 * 1024 * 1024  # a request; and a reply's, unless reply_cap allows more
RECORD_CAP_BYTES = 17 * 1024 * 1024  # a test driver's record (a call's returned value fits 16 MiB)
_REPLY_ROOM_BYTES = 4 * 1024 * 1024  # messages, judges' and tests' kept output, the JSON around them


def reply_cap(output_bytes: int, fetch_bytes: int) -> int:
    """The largest reply a runner sends under these caps (per stream; fetched files together).

    Bounded by what a reply can carry, so that no program makes it larger than the host
    reads: one process's two streams and the fetched files (base64), one driver record
    (UTF-8, as the driver measured it), and room for the rest, each of which has a small
    fixed cap of its own. A reply past the cap is the runner's fault, never the program's.
    """

    def b64(n: int) -> int:
        return 4 * ((n + 2) // 3)

    needed = 2 * b64(output_bytes + 1) + b64(fetch_bytes) + RECORD_CAP_BYTES + _REPLY_ROOM_BYTES
    return max(MAX_FRAME_BYTES, needed)


CONTROL_DIR = "/rlce/ctl"  # bind-mounted from a private host directory
SOCKET_NAME = "runner.sock"
SOCKET_PATH = f"{CONTROL_DIR}/{SOCKET_NAME}"

# -- what the host tells a container through its environment ----------------
ENV_CANDIDATE_UID = "RLCE_CANDIDATE_UID"
ENV_TEST_UID = "RLCE_TEST_UID"
ENV_JUDGE_UID = "RLCE_JUDGE_UID"
ENV_BUILD_SERVER_UIDS = "RLCE_BUILD_SERVER_UIDS"  # "<program side>,<test side>": build servers' uids
ENV_NPROC = "RLCE_NPROC"
ENV_ARTIFACT_CACHE_MB = "RLCE_ARTIFACT_CACHE_MB"
ENV_SECCOMP = "RLCE_SECCOMP"
# session sandboxes only: "first,count" -- the uids of its session slots, one per tree
ENV_SESSION_UIDS = "RLCE_SESSION_UIDS"
ENV_SESSION_NPROC = "RLCE_SESSION_NPROC"  # tasks one session tree may hold (its uid's RLIMIT_NPROC)
ENV_SESSION_MEMORY_MB = "RLCE_SESSION_MEMORY_MB"  # the most memory a session may be given (its backstop's base)
SESSION_ROOT = "/s"  # slot k is its own tmpfs at /s/<k>, mode 0700, owned by the slot's uid

# -- sizes both sides agree on ---------------------------------------------
REPORT_MAX_BYTES = 64 * 1024  # a build's report file, sent back to the host
RECORD_NONCE_BYTES = 32  # hex characters of the runner's nonce
TEST_DIGEST_CHARS = 64  # SHA-256 hex of a compiled test, appended to the nonce in its record


class ProtocolError(ValueError):
    """Data that is not the message it claims to be."""


# ---------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TestLimits:
    """Limits of one test's program, as the runner enforces them: CPU time and
    memory summed over all the program's processes, the wall clock as a backstop."""

    __test__ = False  # not a pytest class

    wall_s: float
    cpu_s: float
    memory_mb: int
    output_bytes: int
    # address space above memory_mb for runtimes that reserve much more than
    # they touch (JVM, V8, Go); their heap flag holds the real memory instead
    address_space_extra_mb: int = 0


@dataclass(frozen=True)
class Hello:
    op: Literal["hello"] = "hello"


@dataclass(frozen=True)
class Reset:
    op: Literal["reset"] = "reset"


@dataclass(frozen=True)
class FileSource:
    """One input file of a build: literal text, or a file of the runtime folder."""

    text: str | None = None
    runtime_file: str | None = None


@dataclass(frozen=True)
class BuildLimits:
    """Limits of one build (all its steps together), apart from the tests' limits."""

    time_s: float
    cpu_s: float
    memory_mb: int
    output_bytes: int


class BuildRole(enum.StrEnum):
    """Whose build this is: the candidate's program, or the (trusted) test."""

    PROGRAM = "program"  # built and run as the candidate uid
    TEST = "test"  # built and run as the test uid; never sees the program's code
    JUDGE = "judge"  # a checker or interactor: built and run as the judge uid


@dataclass(frozen=True)
class Build:
    key: str  # the host's digest of everything that goes into the build
    role: BuildRole
    files: dict[str, FileSource]
    steps: list[list[str]]
    outputs: list[str]
    limits: BuildLimits
    env: dict[str, str] = field(default_factory=dict)
    report: str = ""  # a file (at most REPORT_MAX_BYTES) whose text goes back in BuildFacts.report
    # A resident process (its argv) that serves the steps one build after another instead of a
    # process per step: the runtime's build server (docs/RUNTIMES.md). Empty: a process per step.
    server: list[str] = field(default_factory=list)
    op: Literal["build"] = "build"


@dataclass(frozen=True)
class Launch:
    """An exec'd process: a build's outputs (by key) and its argv/env (``{build}`` filled in by the runner).
    ``script``: instead, a Python script of the build forked from the zygote (a Python judge)."""

    build: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    script: str = ""


@dataclass(frozen=True)
class Fetch:
    key: str
    op: Literal["fetch"] = "fetch"


@dataclass(frozen=True)
class Artifact:
    files: dict[str, bytes]
    executable: list[str]


@dataclass(frozen=True)
class Install:
    """Files the host brings (a judge built in another runtime's sandbox), stored under ``key``."""

    key: str
    role: BuildRole
    artifact: Artifact
    op: Literal["install"] = "install"


@dataclass(frozen=True)
class JudgeCall:
    """One run of a checker or interactor: its artifact, its own limits (never the
    candidate's), and the test's files it is given (testlib's argv: input,
    output or log, answer). It runs under the judge uid, after the program for
    a checker, beside it for an interactor; the program never sees the answer."""

    launch: Launch
    limits: TestLimits
    input: bytes
    answer: bytes


@dataclass(frozen=True)
class ScriptRun:
    """Python stdio: the program runs as ``python3 main.py`` would, forked from the zygote."""

    program: str
    stdin: bytes
    limits: TestLimits
    checker: JudgeCall | None = None  # judges the output when the program ended well
    files: dict[str, bytes] = field(default_factory=dict)  # written into its working directory first (Run)
    fetch: list[str] = field(default_factory=list)  # files read back from it afterwards (Run)
    fetch_max_bytes: int = 0
    op: Literal["run"] = "run"
    kind: Literal["script"] = "script"


@dataclass(frozen=True)
class ExecRun:
    """Compiled stdio: the program's artifact exec'd with stdin. ``record``: an
    in-process test harness that reads a nonce on fd 3 and hands it back on fd 4."""

    program: Launch
    stdin: bytes
    limits: TestLimits
    record: bool = False
    checker: JudgeCall | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # as ScriptRun's
    fetch: list[str] = field(default_factory=list)
    fetch_max_bytes: int = 0
    op: Literal["run"] = "run"
    kind: Literal["exec"] = "exec"


@dataclass(frozen=True)
class InteractiveRun:
    """The program (a Python script, or a compiled artifact) and the interactor,
    each one's stdout piped to the other's stdin; a checker, if any, judges the
    interactor's log afterwards."""

    interactor: JudgeCall
    limits: TestLimits
    program: str = ""  # Python
    launch: Launch | None = None  # compiled
    checker: JudgeCall | None = None
    op: Literal["run"] = "run"
    kind: Literal["interactive"] = "interactive"


@dataclass(frozen=True)
class JudgeRun:
    """A judge alone, given ``output`` as the candidate's (a problem's answers checked)."""

    judge: JudgeCall
    output: bytes
    op: Literal["run"] = "run"
    kind: Literal["judge"] = "judge"


class ValueMode(enum.StrEnum):
    CALL = "call"
    ASSERTION = "assertion"


@dataclass(frozen=True)
class ValueRun:
    """Python call/assertion: the program server (candidate uid) and the test
    driver (judge uid) joined by the value channel."""

    program: str
    mode: ValueMode
    limits: TestLimits
    entry_point: str = ""  # call tests
    args_json: str = "[]"  # call tests
    code: str = ""  # assertion tests
    op: Literal["run"] = "run"
    kind: Literal["values"] = "values"


@dataclass(frozen=True)
class SplitRun:
    """Compiled assertion: the program's artifact (candidate uid) serves calls
    to the test's artifact (judge uid); see docs/SPLIT_TESTS.md."""

    program: Launch
    test: Launch
    test_digest: str
    limits: TestLimits
    op: Literal["run"] = "run"
    kind: Literal["split"] = "split"


RunRequest = ScriptRun | ExecRun | ValueRun | SplitRun | InteractiveRun


@dataclass(frozen=True)
class RunBatch:
    """Stdio tests of one job, run back to back: one frame each way for many
    tests (a problem with hundreds of them pays one round trip per batch). The
    runner stops early when the job's time is up (``deadline_s``, counted from
    the batch's start; a run's wall limit is cut to what is left) or, with
    ``stop_after_failure``, after a run that certainly failed (a limit, a
    signal, a non-zero exit, a checker that did not accept). It never grades:
    the host grades every run it gets back and sends the rest again, or not."""

    runs: list[ScriptRun | ExecRun]
    deadline_s: float
    stop_after_failure: bool = False
    op: Literal["batch"] = "batch"


Request = Hello | Reset | Build | Fetch | Install | RunRequest | JudgeRun | RunBatch


# -- sessions (session sandboxes only) -----------------------------------------
@dataclass(frozen=True)
class SessionLimits:
    """What one session may hold: memory (its cell's processes' resident memory
    plus its tree's files) and output per stream per cell."""

    memory_mb: int
    output_bytes: int


@dataclass(frozen=True)
class CellLimits:
    """One cell's CPU time (its processes together) and wall-clock backstop."""

    wall_s: float
    cpu_s: float


@dataclass(frozen=True)
class SessionOpen:
    session: str  # the host's name for it: [A-Za-z0-9_-], at most 64
    limits: SessionLimits
    files: dict[str, bytes] = field(default_factory=dict)  # written into its working directory
    op: Literal["session_open"] = "session_open"


@dataclass(frozen=True)
class SessionExec:
    session: str
    code: str
    limits: CellLimits
    stdin: bytes = b""
    files: dict[str, bytes] = field(default_factory=dict)
    fetch: list[str] = field(default_factory=list)
    fetch_max_bytes: int = 0
    op: Literal["session_exec"] = "session_exec"


@dataclass(frozen=True)
class SessionFork:
    session: str
    new_session: str
    op: Literal["session_fork"] = "session_fork"


@dataclass(frozen=True)
class SessionClose:
    session: str
    op: Literal["session_close"] = "session_close"


SessionRequest = Hello | SessionOpen | SessionExec | SessionFork | SessionClose


# ---------------------------------------------------------------------------
# replies
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HelloReply:
    version: str
    python: str
    toolchain: str
    leftovers: list[str]
    mode: str = "score"  # "sessions": a session sandbox
    slots: int = 0  # session trees it can hold at once


@dataclass(frozen=True)
class Removed:
    processes: int = 0
    files: int = 0
    ipc: int = 0


@dataclass(frozen=True)
class ResetReply:
    clean: bool
    leftovers: list[str]
    removed: Removed


class BuildFailure(enum.StrEnum):
    NONE = ""
    TIME = "time"
    KILLED = "killed"  # by a signal: the compile memory limit, mostly
    EXIT = "exit"  # a step exited non-zero (exit_code says how)
    OUTPUT = "output"  # a declared output is missing or not a file the build made


@dataclass(frozen=True)
class BuildFacts:
    ok: bool
    cached: bool = False
    output: str = ""  # the steps' stdout+stderr, the last output_bytes of it
    failure: BuildFailure = BuildFailure.NONE
    exit_code: int = 0  # of the failing step
    signal: int = 0  # of the failing step
    wall_s: float = 0.0
    cpu_s: float = 0.0
    report: str = ""


class Outcome(enum.StrEnum):
    """How the runner stopped watching a test."""

    EXITED = "exited"  # ended by itself
    TIMEOUT = "timeout"  # the wall clock ran out
    OUTPUT_LIMIT = "output_limit"
    CPU_LIMIT = "cpu_limit"  # the program's processes together used more CPU time than allowed
    MEMORY_LIMIT = "memory_limit"  # ... or more memory (their files in tmpfs included)
    ABORTED = "aborted"  # a session's cell, stopped because its session was closed


@dataclass(frozen=True)
class ProcessFacts:
    """One process of a test: how it ended and what it printed (capped)."""

    exit_code: int = 0  # -1 when killed by a signal
    signal: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_bytes: int = 0  # how many it wrote, cap or not
    stderr_bytes: int = 0
    cpu_s: float = 0.0
    maxrss_kb: int = 0


class DriverStatus(enum.StrEnum):
    """What the Python test driver reports about one test."""

    PASSED = "passed"  # the test code ran to its end
    ASSERTION_FAILED = "assertion_failed"
    RETURNED = "returned"  # a call test: the value is in ``value``
    LOAD_ERROR = "load_error"  # the program failed while loading (``syntax``: it does not compile)
    RUNTIME_ERROR = "runtime_error"  # the program raised
    PROGRAM_GONE = "program_gone"  # the program's process ended or broke the channel
    TEST_RAISED = "test_raised"  # the test code raised on what the program gave it
    TEST_INVALID = "test_invalid"  # the caller's test code is broken (does not compile, exits)
    DRIVER_FAULT = "driver_fault"  # ours: a malformed payload, a driver without a record


@dataclass(frozen=True)
class DriverRecord:
    status: DriverStatus
    message: str = ""
    syntax: bool = False
    value: Any = None  # RETURNED: the codec tree of the returned value, judged by the host
    retire: bool = False  # the driver will not take another test (a test left a thread)


@dataclass(frozen=True)
class JudgeFacts:
    """How a checker or interactor ended and what it said."""

    outcome: Outcome
    process: ProcessFacts
    wall_s: float = 0.0


@dataclass(frozen=True)
class RunFacts:
    """Raw facts about one test: the host's graders decide the verdict."""

    outcome: Outcome
    wall_s: float
    program: ProcessFacts
    cpu_s: float = 0.0  # CPU time of all the program's processes, reaped or not
    peak_memory_kb: int = 0  # the most memory they held together (tmpfs files included)
    denied_syscalls: dict[str, int] = field(default_factory=dict)  # refused by the filter, by name
    setup_failed: bool = False  # a process failed before the program ran: ours
    oom_killed: bool = False
    leftover_processes: int = 0  # daemons still alive after the test ended by itself (killed)
    driver: DriverRecord | None = None  # ValueRun
    test: ProcessFacts | None = None  # SplitRun: the test process
    record_ok: bool | None = None  # the harness handed back the nonce (+ the test digest, SplitRun)
    judge: JudgeFacts | None = None  # the checker's run on the output, or the interactor's
    checker: JudgeFacts | None = None  # InteractiveRun: the checker's run on the interactor's log
    judge_first: bool = False  # InteractiveRun: the interactor ended before the program
    files: dict[str, bytes] = field(default_factory=dict)  # the fetched files that could be read
    file_errors: list[str] = field(default_factory=list)  # files that could not be written or read, and why


@dataclass(frozen=True)
class SessionFacts:
    """A session opened or forked, or why not (``full``: no free slot here)."""

    ok: bool
    error: str = ""
    full: bool = False
    refused: bool = False  # the caller's request cannot be met (its files do not fit, say)
    gone: str = ""  # the session forked from has ended (its state process is gone): why


class CellStatus(enum.StrEnum):
    """How the cell's code ended, as its own process says (the candidate's data, never trusted further)."""

    OK = "ok"  # ran to its end; ``result`` is the repr of a final expression
    ERROR = "error"  # raised; ``error`` is the traceback
    EXIT = "exit"  # raised SystemExit(exit_code)


@dataclass(frozen=True)
class CellRecord:
    status: CellStatus
    result: str = ""
    error: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class CellFacts:
    """One cell: how the runner stopped watching it, and whether its state became the session's."""

    outcome: Outcome
    committed: bool  # the cell's process is the session's state now (else the state is as before)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_kb: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    record: CellRecord | None = None  # None: the cell's process ended (or broke its record) first
    oom_killed: bool = False  # the cell's process died while the OOM killer was at work in the sandbox
    gone: str = ""  # the session ended (its state process is gone): why
    refused: str = ""  # the cell did not run: why (its files could not be written)
    files: dict[str, bytes] = field(default_factory=dict)
    file_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SessionClosed:
    existed: bool
    clean: bool = True  # its slot (when its tree ended) was wiped and checked


@dataclass(frozen=True)
class BatchFacts:
    """The facts of a RunBatch's runs, in order; fewer than asked when it stopped early."""

    facts: list[RunFacts]


Reply = HelloReply | ResetReply | BuildFacts | RunFacts | Artifact | JudgeFacts | BatchFacts
M = TypeVar("M")


# ---------------------------------------------------------------------------
# (de)serialisation: dataclasses <-> JSON-able data, checked on the way in
# ---------------------------------------------------------------------------
_TAGS = ("op", "kind")  # what tells the messages of a union apart: always sent


_NO_DEFAULT = object()
# Per message type: (field name, the value at which it is left out, or _NO_DEFAULT).
# Worked out once per type: the host and the runner dump and load a message per test
# (dataclasses.fields and typing's introspection were a fifth of the host's CPU on a
# C++ stdio stream, docs/PERFORMANCE.md).
_DUMP_PLANS: dict[type, list[tuple[str, Any]]] = {}


def _dump_plan(cls: type) -> list[tuple[str, Any]]:
    plan = []
    for f in dataclasses.fields(cls):
        if f.name in _TAGS:
            default: Any = _NO_DEFAULT
        elif f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()  # compared with, never handed out
        else:
            default = _NO_DEFAULT
        plan.append((f.name, default))
    return plan


def dump(msg: Any) -> Any:
    """A message as JSON-able data (bytes as base64 text, enums as values); fields
    at their defaults are left out (``load`` puts them back)."""
    kind = type(msg)
    if kind is str or kind is int or kind is float or kind is bool or msg is None:
        return msg
    plan = _DUMP_PLANS.get(kind)
    if plan is None:
        if isinstance(msg, enum.Enum):
            return msg.value
        if isinstance(msg, bytes):
            return base64.b64encode(msg).decode("ascii")
        if isinstance(msg, list | tuple):
            return [dump(x) for x in msg]
        if isinstance(msg, dict):
            return {str(k): dump(v) for k, v in msg.items()}
        if not dataclasses.is_dataclass(msg) or isinstance(msg, type):
            return msg
        plan = _DUMP_PLANS[kind] = _dump_plan(kind)
    out = {}
    for name, default in plan:
        value = getattr(msg, name)
        if default is _NO_DEFAULT or not bool(value == default):
            out[name] = dump(value)
    return out


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, vars(sys.modules[__name__]))
    return _HINTS[cls]


def _fail(where: str, problem: str) -> ProtocolError:
    return ProtocolError(f"{where}: {problem}")


Loader = Callable[[Any, str], Any]
# A checking loader per field type, built on first use (see _DUMP_PLANS).
_LOADERS: dict[Any, Loader] = {}


def _loader(tp: Any) -> Loader:
    found = _LOADERS.get(tp)
    if found is None:
        found = _LOADERS[tp] = _make_loader(tp)
    return found


def _make_loader(tp: Any) -> Loader:
    """What checks and converts data of type ``tp``; the checks and messages of every kind."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return lambda data, where: data
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        optional = type(None) in options
        tagged: list[Any] = [o for o in options if dataclasses.is_dataclass(o)]
        rest = [o for o in options if o is not type(None)]
        variants = _variants(tagged)

        def load_union(data: Any, where: str) -> Any:
            if data is None and optional:
                return None
            if tagged and isinstance(data, dict):
                for cls, tags in variants:
                    if all(data.get(n, default) in values for n, values, default in tags):
                        return _load_dataclass(cls, data, where)
                raise _fail(where, f"matches none of {[c.__name__ for c in tagged]}")
            for option in rest:
                try:
                    return _loader(option)(data, where)
                except ProtocolError:
                    continue
            raise _fail(where, f"{type(data).__name__} fits none of {tp}")

        return load_union
    if origin is Literal:
        allowed = typing.get_args(tp)

        def load_literal(data: Any, where: str) -> Any:
            if data not in allowed:
                raise _fail(where, f"{data!r} is not one of {allowed}")
            return data

        return load_literal
    if origin is list:
        (item_type,) = typing.get_args(tp)

        def load_list(data: Any, where: str) -> Any:
            if not isinstance(data, list):
                raise _fail(where, "expected a list")
            item = _loader(item_type)
            return [item(x, f"{where}[{i}]") for i, x in enumerate(data)]

        return load_list
    if origin is dict:
        _, value_type = typing.get_args(tp)

        def load_dict(data: Any, where: str) -> Any:
            if not isinstance(data, dict):
                raise _fail(where, "expected an object")
            value = _loader(value_type)
            return {str(k): value(v, f"{where}.{k}") for k, v in data.items()}

        return load_dict
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        enum_type = tp

        def load_enum(data: Any, where: str) -> Any:
            try:
                return enum_type(data)
            except ValueError:
                raise _fail(where, f"{data!r} is not a {enum_type.__name__}") from None

        return load_enum
    if dataclasses.is_dataclass(tp):
        return lambda data, where: _load_dataclass(tp, data, where)
    if tp is bytes:

        def load_bytes(data: Any, where: str) -> Any:
            if not isinstance(data, str):
                raise _fail(where, "expected base64 text")
            try:
                return base64.b64decode(data, validate=True)
            except ValueError:
                raise _fail(where, "malformed base64") from None

        return load_bytes
    if tp is float:

        def load_float(data: Any, where: str) -> Any:
            if type(data) not in (int, float):
                raise _fail(where, f"expected a number, got {type(data).__name__}")
            return float(data)

        return load_float
    if tp in (int, str, bool):
        exact = tp

        def load_exact(data: Any, where: str) -> Any:
            if type(data) is not exact:
                raise _fail(where, f"expected {exact.__name__}, got {type(data).__name__}")
            return data

        return load_exact

    def unsupported(data: Any, where: str) -> Any:
        raise _fail(where, f"unsupported field type {tp}")

    return unsupported


def _variants(options: list[Any]) -> list[tuple[Any, list[tuple[str, tuple[Any, ...], Any]]]]:
    """The message types of a union, each with its Literal ``op``/``kind`` fields' allowed
    values and defaults: what tells them apart (a type whose tags are not Literal never matches)."""
    out = []
    for cls in options:
        hints = _hints(cls)
        names = [n for n in _TAGS if n in hints]
        if all(typing.get_origin(hints[n]) is Literal for n in names):
            out.append((cls, [(n, typing.get_args(hints[n]), cls.__dataclass_fields__[n].default) for n in names]))
    return out


# Per message type: its field names, and each field's (name, loader, required).
_FIELD_PLANS: dict[type, tuple[frozenset[str], list[tuple[str, Loader, bool]]]] = {}


def _load_dataclass(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise _fail(where, f"expected an object for {cls.__name__}")
    plan = _FIELD_PLANS.get(cls)
    if plan is None:
        hints = _hints(cls)
        fields = dataclasses.fields(cls)
        required = [f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in fields]
        plan = _FIELD_PLANS[cls] = (
            frozenset(f.name for f in fields),
            [(f.name, _loader(hints[f.name]), r) for f, r in zip(fields, required, strict=True)],
        )
    known, loaders = plan
    if not known.issuperset(data):
        raise _fail(where, f"unknown fields {sorted(set(data) - known)} for {cls.__name__}")
    values = {}
    for name, load_field, required_field in loaders:
        if name in data:
            values[name] = load_field(data[name], f"{where}.{name}")
        elif required_field:
            raise _fail(where, f"{cls.__name__}.{name} is missing")
    return cls(**values)


def load(cls: type[M] | Any, data: Any, where: str = "message") -> M:
    """``data`` as a ``cls`` (a message type or a union of them); ProtocolError if it is not one."""
    return _loader(cls)(data, where)  # type: ignore[no-any-return]
