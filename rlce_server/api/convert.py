"""Proto <-> domain, with validation that names the field and the problem.

Every check a request can fail lives here, so INVALID_ARGUMENT (unary) and
INVALID_REQUEST (stream) carry the same clear message.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Mapping, Sequence

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..config import Settings, default_wall_s
from ..domain import (
    AssertSpec,
    CallSpec,
    InteractiveSpec,
    Job,
    JudgeSpec,
    Limits,
    OutputMatch,
    Problem,
    RewardMode,
    ScoreResult,
    StdioSpec,
    TestCase,
    TestSpec,
    Verdict,
)
from ..errors import InvalidRequest

_MATCH = {
    pb.OUTPUT_MATCH_UNSPECIFIED: OutputMatch.TOKENS,
    pb.EXACT: OutputMatch.EXACT,
    pb.TRIM: OutputMatch.TRIM,
    pb.TOKENS: OutputMatch.TOKENS,
    pb.FLOAT: OutputMatch.FLOAT,
}
_REWARD = {
    pb.REWARD_MODE_UNSPECIFIED: RewardMode.PARTIAL,
    pb.PARTIAL: RewardMode.PARTIAL,
    pb.ALL_OR_NOTHING: RewardMode.ALL_OR_NOTHING,
}
MAX_NAME = 256
MAX_WEIGHT = 1e6  # a thousand tests of this weight still sum to a finite reward denominator


def _tolerance(field: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(field, f"must be a finite number >= 0, got {value}")
    return value


def _json(field: str, text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(field, f"is not valid JSON ({exc})") from None


def convert_test(tc: pb.TestCase, field: str) -> TestCase:
    if len(tc.name) > MAX_NAME:
        raise InvalidRequest(f"{field}.name", f"is longer than {MAX_NAME} characters")
    weight = tc.weight
    if not math.isfinite(weight) or weight < 0 or weight > MAX_WEIGHT:
        raise InvalidRequest(f"{field}.weight", f"must be a number from 0 to {MAX_WEIGHT:g}, got {weight}")
    kind = tc.WhichOneof("kind")
    spec: TestSpec
    if kind is None:
        raise InvalidRequest(f"{field}.kind", "exactly one of stdio, call, assertion or interactive must be set")
    if kind == "stdio":
        s = tc.stdio
        if s.match not in _MATCH:
            raise InvalidRequest(f"{field}.stdio.match", f"unknown OutputMatch value {s.match}")
        spec = StdioSpec(
            stdin=s.stdin,
            expected_stdout=s.expected_stdout,
            match=_MATCH[s.match],
            float_tolerance=_tolerance(f"{field}.stdio.float_tolerance", s.float_tolerance),
        )
    elif kind == "call":
        c = tc.call
        if not c.entry_point:
            raise InvalidRequest(f"{field}.call.entry_point", "is required")
        parts = c.entry_point.split(".")
        if len(parts) > 2 or not all(p.isidentifier() for p in parts):
            raise InvalidRequest(
                f"{field}.call.entry_point", f"{c.entry_point[:80]!r} is not a function name or Class.method"
            )
        args = _json(f"{field}.call.args_json", c.args_json or "[]")
        if not isinstance(args, list):
            raise InvalidRequest(f"{field}.call.args_json", "must be a JSON array of arguments")
        if not c.expected_json:
            raise InvalidRequest(f"{field}.call.expected_json", "is required")
        _json(f"{field}.call.expected_json", c.expected_json)
        spec = CallSpec(
            entry_point=c.entry_point,
            args_json=c.args_json or "[]",
            expected_json=c.expected_json,
            float_tolerance=_tolerance(f"{field}.call.float_tolerance", c.float_tolerance),
        )
    elif kind == "interactive":
        spec = InteractiveSpec(input=tc.interactive.input, answer=tc.interactive.answer)
    else:
        if not tc.assertion.code.strip():
            raise InvalidRequest(f"{field}.assertion.code", "is empty")
        spec = AssertSpec(code=tc.assertion.code)
    return TestCase(name=tc.name, weight=weight if weight > 0 else 1.0, spec=spec)


JUDGE_LIMITS = pb.Limits(time_limit_s=10, wall_time_limit_s=60, memory_limit_mb=1024)  # API.md's defaults
JUDGE_MAX_TIME_S = 60.0
JUDGE_MAX_MEMORY_MB = 4096
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")


def convert_judge(judge: pb.JudgeProgram, field: str, settings: Settings) -> JudgeSpec:
    """A checker or interactor as validated (where it can run is decided when it is used)."""
    if not judge.language:
        raise InvalidRequest(f"{field}.language", "is required (python, cpp, ...)")
    if not judge.source.strip():
        raise InvalidRequest(f"{field}.source", "is empty")
    size = len(judge.source.encode("utf-8", "surrogatepass")) + sum(len(v) for v in judge.files.values())
    if size > settings.max_program_bytes * 4:
        raise InvalidRequest(field, f"source and files are {size} bytes; at most {settings.max_program_bytes * 4}")
    for name in judge.files:
        if not _FILE_NAME.match(name) or name in ("judge", "judge.py", "judge.cpp"):
            raise InvalidRequest(f"{field}.files", f"{name[:80]!r} is not a plain file name rlce can use")
    points = judge.points_max or 1.0
    if not math.isfinite(points) or points <= 0 or points > MAX_WEIGHT:
        raise InvalidRequest(f"{field}.points_max", f"must be a positive number up to {MAX_WEIGHT:g}, got {points}")
    lim = judge.limits
    time_s = lim.time_limit_s or lim.cpu_time_limit_s or JUDGE_LIMITS.time_limit_s
    wall_s = lim.wall_time_limit_s or JUDGE_LIMITS.wall_time_limit_s
    memory_mb = lim.memory_limit_mb or JUDGE_LIMITS.memory_limit_mb
    for name, value, cap in (
        ("time_limit_s", time_s, JUDGE_MAX_TIME_S),
        ("wall_time_limit_s", wall_s, 2 * JUDGE_MAX_TIME_S),
        ("memory_limit_mb", memory_mb, JUDGE_MAX_MEMORY_MB),
    ):
        if not math.isfinite(value) or value <= 0 or value > cap:
            raise InvalidRequest(f"{field}.limits.{name}", f"must be positive and at most {cap}, got {value}")
    limits = Limits(
        time_limit_s=time_s,
        wall_time_limit_s=wall_s,
        memory_limit_mb=int(memory_mb),
        output_limit_bytes=settings.limits.max_output_limit_bytes,
        total_time_limit_s=wall_s,
    )
    files = tuple(sorted((name, bytes(data)) for name, data in judge.files.items()))
    return JudgeSpec(judge.language, judge.source, files, limits, points)


def convert_problem(
    tests: Sequence[pb.TestCase],
    checker: pb.JudgeProgram | None,
    interactor: pb.JudgeProgram | None,
    settings: Settings,
) -> Problem:
    """Tests and their judges, checked together: interactive tests need an interactor."""
    converted = convert_tests(tests, settings)
    judge = convert_judge(checker, "checker", settings) if checker is not None else None
    talker = convert_judge(interactor, "interactor", settings) if interactor is not None else None
    if talker is None:
        for i, t in enumerate(converted):
            if isinstance(t.spec, InteractiveSpec):
                raise InvalidRequest(f"tests[{i}].interactive", "an interactive test needs the problem's interactor")
    return Problem(converted, judge, talker)


def convert_tests(tests: Sequence[pb.TestCase], settings: Settings, field: str = "tests") -> tuple[TestCase, ...]:
    if len(tests) > settings.max_tests:
        raise InvalidRequest(field, f"has {len(tests)} tests; at most {settings.max_tests} are allowed")
    return tuple(convert_test(tc, f"{field}[{i}]") for i, tc in enumerate(tests))


def _limit(field: str, value: float, default: float, floor: float, cap: float) -> float:
    if value == 0:
        return default
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(f"limits.{field}", f"must be a positive number, got {value}")
    if value > cap:
        raise InvalidRequest(f"limits.{field}", f"{value} exceeds the server's maximum {cap}")
    if value < floor:
        raise InvalidRequest(f"limits.{field}", f"{value} is below the server's minimum {floor}")
    return value


def convert_limits(lim: pb.Limits, settings: Settings) -> Limits:
    """The request's limits with the server's defaults, caps and floors.

    ``time_limit_s`` is CPU time (API.md); ``cpu_time_limit_s`` means the same
    when ``time_limit_s`` is unset (both set: the tighter one). The wall-clock
    backstop defaults to 2 * time_limit_s + 1 of the request's own time limit.
    """
    d, cap, floor = settings.limits.defaults(), settings.limits.caps(), settings.limits.floors()
    time_s = _limit("time_limit_s", lim.time_limit_s, d.time_limit_s, floor.time_limit_s, cap.time_limit_s)
    if lim.cpu_time_limit_s:
        cpu_s = _limit("cpu_time_limit_s", lim.cpu_time_limit_s, 0, floor.time_limit_s, cap.time_limit_s)
        time_s = min(time_s, cpu_s) if lim.time_limit_s else cpu_s
    own_wall = default_wall_s(time_s) if (lim.time_limit_s or lim.cpu_time_limit_s) else d.wall_time_limit_s
    wall_s = _limit(
        "wall_time_limit_s",
        lim.wall_time_limit_s,
        min(own_wall, cap.wall_time_limit_s),
        floor.wall_time_limit_s,
        cap.wall_time_limit_s,
    )
    return Limits(
        time_limit_s=time_s,
        wall_time_limit_s=wall_s,
        memory_limit_mb=int(
            _limit(
                "memory_limit_mb", lim.memory_limit_mb, d.memory_limit_mb, floor.memory_limit_mb, cap.memory_limit_mb
            )
        ),
        output_limit_bytes=int(
            _limit(
                "output_limit_bytes",
                lim.output_limit_bytes,
                d.output_limit_bytes,
                floor.output_limit_bytes,
                cap.output_limit_bytes,
            )
        ),
        total_time_limit_s=_limit(
            "total_time_limit_s",
            lim.total_time_limit_s,
            d.total_time_limit_s,
            floor.total_time_limit_s,
            cap.total_time_limit_s,
        ),
    )


def limits_to_proto(limits: Limits) -> pb.Limits:
    return pb.Limits(
        time_limit_s=limits.time_limit_s,
        cpu_time_limit_s=limits.time_limit_s,
        wall_time_limit_s=limits.wall_time_limit_s,
        memory_limit_mb=limits.memory_limit_mb,
        output_limit_bytes=limits.output_limit_bytes,
        total_time_limit_s=limits.total_time_limit_s,
    )


def convert_request(
    req: pb.ScoreRequest,
    settings: Settings,
    runtimes: Mapping[str, Sequence[str]],
    lookup_tests: Callable[[str], Problem | None],
) -> Job:
    """Validate a ScoreRequest into a Job; raise InvalidRequest naming the field."""
    request_id = req.request_id or uuid.uuid4().hex
    if len(request_id) > MAX_NAME:
        raise InvalidRequest("request_id", f"is longer than {MAX_NAME} characters")
    if not req.language:
        raise InvalidRequest("language", f"is required; one of {sorted(runtimes)}")
    if req.language not in runtimes:
        raise InvalidRequest("language", f"unknown runtime {req.language[:64]!r}; one of {sorted(runtimes)}")
    if not req.program.strip():
        raise InvalidRequest("program", "is empty")
    if len(req.program.encode("utf-8", "surrogatepass")) > settings.max_program_bytes:
        raise InvalidRequest("program", f"is larger than {settings.max_program_bytes} bytes")
    if req.tests and req.tests_ref:
        raise InvalidRequest("tests_ref", "set both tests and tests_ref; send one of them")
    checker = req.checker if req.HasField("checker") else None
    interactor = req.interactor if req.HasField("interactor") else None
    if req.tests_ref:
        if checker is not None or interactor is not None:
            raise InvalidRequest(
                "tests_ref", "stands for the problem's judges too: register the checker and interactor with the tests"
            )
        found = lookup_tests(req.tests_ref)
        if found is None:
            raise InvalidRequest("tests_ref", f"unknown ref {req.tests_ref[:80]!r}; register the tests again")
        problem = found
    else:
        if not req.tests:
            raise InvalidRequest("tests", "at least one test is required (or tests_ref)")
        problem = convert_problem(req.tests, checker, interactor, settings)
    kinds = runtimes[req.language]
    for i, t in enumerate(problem.tests):
        kind = t.spec.kind.value
        # an interactive program runs as a stdio one, its stdin and stdout the interactor's
        runs_as = "stdio" if kind == "interactive" else kind
        if runs_as not in kinds:
            raise InvalidRequest(f"tests[{i}].{kind}", f"runtime {req.language!r} does not support {kind} tests")
    policy = req.policy
    if policy.reward_mode not in _REWARD:
        raise InvalidRequest("policy.reward_mode", f"unknown RewardMode value {policy.reward_mode}")
    return Job(
        request_id=request_id,
        language=req.language,
        program=req.program,
        tests=problem.tests,
        limits=convert_limits(req.limits, settings),
        checker=problem.checker,
        interactor=problem.interactor,
        reward_mode=_REWARD[policy.reward_mode],
        stop_on_first_failure=policy.stop_on_first_failure,
        no_cache=policy.no_cache,
    )


def _text(value: str) -> str:
    """A string protobuf will serialise: text that came out of a sandbox may hold
    lone surrogates (an exception message), which would make the response fail."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def to_response(result: ScoreResult) -> pb.ScoreResponse:
    return pb.ScoreResponse(
        request_id=result.request_id,
        verdict=int(result.verdict),  # type: ignore[arg-type]
        reward=result.reward,
        passed=result.passed,
        total=result.total,
        tests=[
            pb.TestResult(
                name=_text(o.name),
                verdict=int(o.verdict),  # type: ignore[arg-type]
                wall_time_s=o.wall_time_s,
                cpu_time_s=o.cpu_time_s,
                peak_memory_kb=o.peak_memory_kb,
                exit_code=o.exit_code,
                signal=o.signal,
                stdout=o.stdout,
                stderr=o.stderr,
                message=_text(o.message),
                score=o.score if o.score is not None else float(o.verdict is Verdict.ACCEPTED),
            )
            for o in result.tests
        ],
        compile=pb.CompileResult(
            ok=result.compile_ok, output=_text(result.compile_output), time_s=result.compile_time_s
        ),
        timing=pb.Timing(queue_s=result.queue_s, run_s=result.run_s, total_s=result.total_s),
        cached=result.cached,
        runtime=result.runtime,
        error=_text(result.error),
    )


def invalid_response(request_id: str, error: str, total: int = 0) -> pb.ScoreResponse:
    return pb.ScoreResponse(
        request_id=request_id, verdict=pb.INVALID_REQUEST, reward=0.0, total=total, error=_text(error)
    )


def internal_error_response(request_id: str, total: int, exc: BaseException) -> pb.ScoreResponse:
    """Ours and unexpected: SANDBOX_ERROR ("retry later"), never a verdict or UNKNOWN."""
    return pb.ScoreResponse(
        request_id=request_id,
        verdict=pb.SANDBOX_ERROR,
        total=total,
        error=_text(f"internal error, retry later: {exc!r}"),
    )
