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


TestSpec = StdioSpec | CallSpec | AssertSpec


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
    # what the sandbox stopped in this test (telemetry, rlce_hacks_total{kind}): e.g.
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
