"""Proto-free types the core works with: jobs in, outcomes out."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(enum.IntEnum):
    """Same names and numbers as rlce.v1.Verdict."""

    VERDICT_UNSPECIFIED = 0
    ACCEPTED = 1
    WRONG_ANSWER = 2
    RUNTIME_ERROR = 3
    TIME_LIMIT_EXCEEDED = 4
    MEMORY_LIMIT_EXCEEDED = 5
    OUTPUT_LIMIT_EXCEEDED = 6
    COMPILE_ERROR = 7
    SKIPPED = 8
    INVALID_REQUEST = 9
    SANDBOX_ERROR = 10


class TestKind(enum.Enum):
    """The test kinds, named as the proto's ``TestCase.kind`` oneof and runtime.toml's ``test_kinds``."""

    __test__ = False  # not a pytest class

    STDIO = "stdio"
    CALL = "call"
    ASSERTION = "assertion"
    INTERACTIVE = "interactive"


class OutputMatch(enum.Enum):
    EXACT = "exact"
    TRIM = "trim"
    TOKENS = "tokens"
    FLOAT = "float"


class RewardMode(enum.Enum):
    PARTIAL = "partial"
    ALL_OR_NOTHING = "all_or_nothing"


@dataclass(frozen=True)
class Limits:
    """One test's limits (the request's, once defaults and caps are applied)."""

    time_limit_s: float  # CPU seconds over the program's whole process tree: decides TLE
    wall_time_limit_s: float  # the wall-clock backstop
    memory_limit_mb: int  # summed over the process tree, its tmpfs files included
    output_limit_bytes: int  # per stream
    total_time_limit_s: float  # the whole request, wall clock


@dataclass(frozen=True)
class StdioSpec:
    stdin: bytes
    expected_stdout: bytes
    match: OutputMatch = OutputMatch.TOKENS
    float_tolerance: float = 0.0
    kind = TestKind.STDIO


@dataclass(frozen=True)
class CallSpec:
    entry_point: str
    args_json: str
    expected_json: str
    float_tolerance: float = 0.0
    kind = TestKind.CALL


@dataclass(frozen=True)
class AssertSpec:
    code: str
    kind = TestKind.ASSERTION


@dataclass(frozen=True)
class InteractiveSpec:
    """The interactor reads ``input`` and talks to the program; ``answer`` is for it alone."""

    input: bytes
    answer: bytes
    kind = TestKind.INTERACTIVE


TestSpec = StdioSpec | CallSpec | AssertSpec | InteractiveSpec


@dataclass(frozen=True)
class JudgeSpec:
    """A problem's checker or interactor (API.md, JudgeProgram), as validated."""

    language: str
    source: str
    files: tuple[tuple[str, bytes], ...]  # support files beside the source, sorted by name
    limits: Limits  # its own, never the candidate's
    points_max: float = 1.0

    @property
    def digest(self) -> str:
        """What identifies this judge: its language, source and files."""
        import hashlib

        h = hashlib.sha256()
        for part in (self.language.encode(), self.source.encode("utf-8", "surrogatepass")):
            h.update(len(part).to_bytes(8, "big") + part)
        for name, data in self.files:
            h.update(len(name).to_bytes(8, "big") + name.encode() + len(data).to_bytes(8, "big") + data)
        return h.hexdigest()


@dataclass(frozen=True)
class Problem:
    """What RegisterTests stores under one ref: the tests and the problem's judges."""

    tests: tuple[TestCase, ...]
    checker: JudgeSpec | None = None
    interactor: JudgeSpec | None = None


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class

    name: str
    weight: float
    spec: TestSpec


@dataclass(frozen=True)
class Job:
    request_id: str
    language: str
    program: str
    tests: tuple[TestCase, ...]
    limits: Limits
    reward_mode: RewardMode = RewardMode.PARTIAL
    stop_on_first_failure: bool = False
    no_cache: bool = False
    checker: JudgeSpec | None = None
    interactor: JudgeSpec | None = None


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest class

    name: str
    verdict: Verdict
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    peak_memory_kb: int = 0
    exit_code: int = 0
    signal: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    message: str = ""
    score: float | None = None  # share of the weight earned; None: 1 if ACCEPTED, else 0
    # what the sandbox stopped in this test (telemetry, rlce_sandbox_stopped_total{kind}): e.g.
    # "denied_syscall", "exit_without_record", "nonce_missing", "driver_retired"
    hacks: list[str] = field(default_factory=list)


@dataclass
class ScoreResult:
    request_id: str
    verdict: Verdict
    reward: float
    passed: int
    total: int
    tests: list[TestOutcome] = field(default_factory=list)
    queue_s: float = 0.0
    run_s: float = 0.0
    total_s: float = 0.0
    cached: bool = False
    runtime: str = ""
    error: str = ""
    compile_ok: bool = True
    compile_output: str = ""
    compile_time_s: float = 0.0
