from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OutputMatch(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_MATCH_UNSPECIFIED: _ClassVar[OutputMatch]
    EXACT: _ClassVar[OutputMatch]
    TRIM: _ClassVar[OutputMatch]
    TOKENS: _ClassVar[OutputMatch]
    FLOAT: _ClassVar[OutputMatch]

class RewardMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REWARD_MODE_UNSPECIFIED: _ClassVar[RewardMode]
    PARTIAL: _ClassVar[RewardMode]
    ALL_OR_NOTHING: _ClassVar[RewardMode]

class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_UNSPECIFIED: _ClassVar[Verdict]
    ACCEPTED: _ClassVar[Verdict]
    WRONG_ANSWER: _ClassVar[Verdict]
    RUNTIME_ERROR: _ClassVar[Verdict]
    TIME_LIMIT_EXCEEDED: _ClassVar[Verdict]
    MEMORY_LIMIT_EXCEEDED: _ClassVar[Verdict]
    OUTPUT_LIMIT_EXCEEDED: _ClassVar[Verdict]
    COMPILE_ERROR: _ClassVar[Verdict]
    SKIPPED: _ClassVar[Verdict]
    INVALID_REQUEST: _ClassVar[Verdict]
    SANDBOX_ERROR: _ClassVar[Verdict]
OUTPUT_MATCH_UNSPECIFIED: OutputMatch
EXACT: OutputMatch
TRIM: OutputMatch
TOKENS: OutputMatch
FLOAT: OutputMatch
REWARD_MODE_UNSPECIFIED: RewardMode
PARTIAL: RewardMode
ALL_OR_NOTHING: RewardMode
VERDICT_UNSPECIFIED: Verdict
ACCEPTED: Verdict
WRONG_ANSWER: Verdict
RUNTIME_ERROR: Verdict
TIME_LIMIT_EXCEEDED: Verdict
MEMORY_LIMIT_EXCEEDED: Verdict
OUTPUT_LIMIT_EXCEEDED: Verdict
COMPILE_ERROR: Verdict
SKIPPED: Verdict
INVALID_REQUEST: Verdict
SANDBOX_ERROR: Verdict

class ScoreRequest(_message.Message):
    __slots__ = ("request_id", "language", "program", "tests", "tests_ref", "limits", "policy", "checker", "interactor")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    TESTS_REF_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    CHECKER_FIELD_NUMBER: _ClassVar[int]
    INTERACTOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    language: str
    program: str
    tests: _containers.RepeatedCompositeFieldContainer[TestCase]
    tests_ref: str
    limits: Limits
    policy: ScoringPolicy
    checker: JudgeProgram
    interactor: JudgeProgram
    def __init__(self, request_id: _Optional[str] = ..., language: _Optional[str] = ..., program: _Optional[str] = ..., tests: _Optional[_Iterable[_Union[TestCase, _Mapping]]] = ..., tests_ref: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., policy: _Optional[_Union[ScoringPolicy, _Mapping]] = ..., checker: _Optional[_Union[JudgeProgram, _Mapping]] = ..., interactor: _Optional[_Union[JudgeProgram, _Mapping]] = ...) -> None: ...

class JudgeProgram(_message.Message):
    __slots__ = ("language", "source", "files", "limits", "points_max")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    POINTS_MAX_FIELD_NUMBER: _ClassVar[int]
    language: str
    source: str
    files: _containers.ScalarMap[str, bytes]
    limits: Limits
    points_max: float
    def __init__(self, language: _Optional[str] = ..., source: _Optional[str] = ..., files: _Optional[_Mapping[str, bytes]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., points_max: _Optional[float] = ...) -> None: ...

class TestCase(_message.Message):
    __slots__ = ("name", "weight", "stdio", "call", "assertion", "interactive")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    STDIO_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    ASSERTION_FIELD_NUMBER: _ClassVar[int]
    INTERACTIVE_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    stdio: StdioTest
    call: CallTest
    assertion: AssertTest
    interactive: InteractiveTest
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ..., stdio: _Optional[_Union[StdioTest, _Mapping]] = ..., call: _Optional[_Union[CallTest, _Mapping]] = ..., assertion: _Optional[_Union[AssertTest, _Mapping]] = ..., interactive: _Optional[_Union[InteractiveTest, _Mapping]] = ...) -> None: ...

class InteractiveTest(_message.Message):
    __slots__ = ("input", "answer")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    input: bytes
    answer: bytes
    def __init__(self, input: _Optional[bytes] = ..., answer: _Optional[bytes] = ...) -> None: ...

class StdioTest(_message.Message):
    __slots__ = ("stdin", "expected_stdout", "match", "float_tolerance")
    STDIN_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STDOUT_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    FLOAT_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    stdin: bytes
    expected_stdout: bytes
    match: OutputMatch
    float_tolerance: float
    def __init__(self, stdin: _Optional[bytes] = ..., expected_stdout: _Optional[bytes] = ..., match: _Optional[_Union[OutputMatch, str]] = ..., float_tolerance: _Optional[float] = ...) -> None: ...

class CallTest(_message.Message):
    __slots__ = ("entry_point", "args_json", "expected_json", "float_tolerance")
    ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_JSON_FIELD_NUMBER: _ClassVar[int]
    FLOAT_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    entry_point: str
    args_json: str
    expected_json: str
    float_tolerance: float
    def __init__(self, entry_point: _Optional[str] = ..., args_json: _Optional[str] = ..., expected_json: _Optional[str] = ..., float_tolerance: _Optional[float] = ...) -> None: ...

class AssertTest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("time_limit_s", "cpu_time_limit_s", "memory_limit_mb", "output_limit_bytes", "total_time_limit_s", "wall_time_limit_s")
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LIMIT_MB_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    time_limit_s: float
    cpu_time_limit_s: float
    memory_limit_mb: int
    output_limit_bytes: int
    total_time_limit_s: float
    wall_time_limit_s: float
    def __init__(self, time_limit_s: _Optional[float] = ..., cpu_time_limit_s: _Optional[float] = ..., memory_limit_mb: _Optional[int] = ..., output_limit_bytes: _Optional[int] = ..., total_time_limit_s: _Optional[float] = ..., wall_time_limit_s: _Optional[float] = ...) -> None: ...

class ScoringPolicy(_message.Message):
    __slots__ = ("reward_mode", "stop_on_first_failure", "no_cache")
    REWARD_MODE_FIELD_NUMBER: _ClassVar[int]
    STOP_ON_FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    NO_CACHE_FIELD_NUMBER: _ClassVar[int]
    reward_mode: RewardMode
    stop_on_first_failure: bool
    no_cache: bool
    def __init__(self, reward_mode: _Optional[_Union[RewardMode, str]] = ..., stop_on_first_failure: _Optional[bool] = ..., no_cache: _Optional[bool] = ...) -> None: ...

class CompileResult(_message.Message):
    __slots__ = ("ok", "output", "time_s")
    OK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TIME_S_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    output: str
    time_s: float
    def __init__(self, ok: _Optional[bool] = ..., output: _Optional[str] = ..., time_s: _Optional[float] = ...) -> None: ...

class Timing(_message.Message):
    __slots__ = ("queue_s", "run_s", "total_s")
    QUEUE_S_FIELD_NUMBER: _ClassVar[int]
    RUN_S_FIELD_NUMBER: _ClassVar[int]
    TOTAL_S_FIELD_NUMBER: _ClassVar[int]
    queue_s: float
    run_s: float
    total_s: float
    def __init__(self, queue_s: _Optional[float] = ..., run_s: _Optional[float] = ..., total_s: _Optional[float] = ...) -> None: ...

class TestResult(_message.Message):
    __slots__ = ("name", "verdict", "wall_time_s", "cpu_time_s", "peak_memory_kb", "exit_code", "signal", "stdout", "stderr", "message", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_S_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_KB_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    verdict: Verdict
    wall_time_s: float
    cpu_time_s: float
    peak_memory_kb: int
    exit_code: int
    signal: int
    stdout: bytes
    stderr: bytes
    message: str
    score: float
    def __init__(self, name: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., wall_time_s: _Optional[float] = ..., cpu_time_s: _Optional[float] = ..., peak_memory_kb: _Optional[int] = ..., exit_code: _Optional[int] = ..., signal: _Optional[int] = ..., stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., message: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class ScoreResponse(_message.Message):
    __slots__ = ("request_id", "verdict", "reward", "passed", "total", "tests", "compile", "timing", "cached", "runtime", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    COMPILE_FIELD_NUMBER: _ClassVar[int]
    TIMING_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    verdict: Verdict
    reward: float
    passed: int
    total: int
    tests: _containers.RepeatedCompositeFieldContainer[TestResult]
    compile: CompileResult
    timing: Timing
    cached: bool
    runtime: str
    error: str
    def __init__(self, request_id: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., reward: _Optional[float] = ..., passed: _Optional[int] = ..., total: _Optional[int] = ..., tests: _Optional[_Iterable[_Union[TestResult, _Mapping]]] = ..., compile: _Optional[_Union[CompileResult, _Mapping]] = ..., timing: _Optional[_Union[Timing, _Mapping]] = ..., cached: _Optional[bool] = ..., runtime: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class ListRuntimesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RuntimeInfo(_message.Message):
    __slots__ = ("name", "display_name", "version", "image", "image_digest", "test_kinds", "default_limits", "max_limits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    TEST_KINDS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LIMITS_FIELD_NUMBER: _ClassVar[int]
    MAX_LIMITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    version: str
    image: str
    image_digest: str
    test_kinds: _containers.RepeatedScalarFieldContainer[str]
    default_limits: Limits
    max_limits: Limits
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., version: _Optional[str] = ..., image: _Optional[str] = ..., image_digest: _Optional[str] = ..., test_kinds: _Optional[_Iterable[str]] = ..., default_limits: _Optional[_Union[Limits, _Mapping]] = ..., max_limits: _Optional[_Union[Limits, _Mapping]] = ...) -> None: ...

class ListRuntimesResponse(_message.Message):
    __slots__ = ("runtimes",)
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    runtimes: _containers.RepeatedCompositeFieldContainer[RuntimeInfo]
    def __init__(self, runtimes: _Optional[_Iterable[_Union[RuntimeInfo, _Mapping]]] = ...) -> None: ...

class RegisterTestsRequest(_message.Message):
    __slots__ = ("tests", "checker", "interactor")
    TESTS_FIELD_NUMBER: _ClassVar[int]
    CHECKER_FIELD_NUMBER: _ClassVar[int]
    INTERACTOR_FIELD_NUMBER: _ClassVar[int]
    tests: _containers.RepeatedCompositeFieldContainer[TestCase]
    checker: JudgeProgram
    interactor: JudgeProgram
    def __init__(self, tests: _Optional[_Iterable[_Union[TestCase, _Mapping]]] = ..., checker: _Optional[_Union[JudgeProgram, _Mapping]] = ..., interactor: _Optional[_Union[JudgeProgram, _Mapping]] = ...) -> None: ...

class RegisterTestsResponse(_message.Message):
    __slots__ = ("tests_ref",)
    TESTS_REF_FIELD_NUMBER: _ClassVar[int]
    tests_ref: str
    def __init__(self, tests_ref: _Optional[str] = ...) -> None: ...

class RunRequest(_message.Message):
    __slots__ = ("request_id", "language", "code", "stdin", "limits", "files", "fetch")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FETCH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    language: str
    code: str
    stdin: bytes
    limits: Limits
    files: _containers.ScalarMap[str, bytes]
    fetch: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., language: _Optional[str] = ..., code: _Optional[str] = ..., stdin: _Optional[bytes] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., files: _Optional[_Mapping[str, bytes]] = ..., fetch: _Optional[_Iterable[str]] = ...) -> None: ...

class RunResponse(_message.Message):
    __slots__ = ("request_id", "verdict", "stdout", "stderr", "exit_code", "wall_time_s", "cpu_time_s", "peak_memory_kb", "files", "error", "signal")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_S_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_KB_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    verdict: Verdict
    stdout: bytes
    stderr: bytes
    exit_code: int
    wall_time_s: float
    cpu_time_s: float
    peak_memory_kb: int
    files: _containers.ScalarMap[str, bytes]
    error: str
    signal: int
    def __init__(self, request_id: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., exit_code: _Optional[int] = ..., wall_time_s: _Optional[float] = ..., cpu_time_s: _Optional[float] = ..., peak_memory_kb: _Optional[int] = ..., files: _Optional[_Mapping[str, bytes]] = ..., error: _Optional[str] = ..., signal: _Optional[int] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("language", "limits", "idle_timeout_s", "files")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    language: str
    limits: Limits
    idle_timeout_s: int
    files: _containers.ScalarMap[str, bytes]
    def __init__(self, language: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., idle_timeout_s: _Optional[int] = ..., files: _Optional[_Mapping[str, bytes]] = ...) -> None: ...

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "language")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    language: str
    def __init__(self, session_id: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("session_id", "code", "stdin", "files", "fetch", "time_limit_s")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FETCH_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    code: str
    stdin: bytes
    files: _containers.ScalarMap[str, bytes]
    fetch: _containers.RepeatedScalarFieldContainer[str]
    time_limit_s: float
    def __init__(self, session_id: _Optional[str] = ..., code: _Optional[str] = ..., stdin: _Optional[bytes] = ..., files: _Optional[_Mapping[str, bytes]] = ..., fetch: _Optional[_Iterable[str]] = ..., time_limit_s: _Optional[float] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("session_id", "verdict", "stdout", "stderr", "result", "error", "wall_time_s", "cpu_time_s", "files", "session_ended")
    class FilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_S_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SESSION_ENDED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    verdict: Verdict
    stdout: bytes
    stderr: bytes
    result: str
    error: str
    wall_time_s: float
    cpu_time_s: float
    files: _containers.ScalarMap[str, bytes]
    session_ended: bool
    def __init__(self, session_id: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, str]] = ..., stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., result: _Optional[str] = ..., error: _Optional[str] = ..., wall_time_s: _Optional[float] = ..., cpu_time_s: _Optional[float] = ..., files: _Optional[_Mapping[str, bytes]] = ..., session_ended: _Optional[bool] = ...) -> None: ...

class ForkSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CloseSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CloseSessionResponse(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...
