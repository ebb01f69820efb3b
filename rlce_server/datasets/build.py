"""What the format modules share: reading fields, building tests under a profile, limits.

Call-based tests: under ``strict`` they are rlce ``CallTest``s (type-strict,
``Class.method`` for a ``class Solution``); under a grader's profile they
are assertion tests that call the program and compare with Python's ``==``
the way that grader does (LCB: tuple -> list then ``==``; APPS/TACO: ``out ==
exp or out == exp[0]``; genesys: ``str(out) == str(exp)``; INTELLECT-3: as
APPS), because ``1 == 1.0`` and ``True == 1`` pass there.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from .problem import DatasetProblem, RowError
from .profiles import Credit, Profile, checker_for

_FLOAT_TOKEN = re.compile(rb"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?\d+[eE][+-]?\d+$")


def parse(value: Any, what: str) -> Any:
    """A field that may be a JSON string (or a Python literal, as some PrimeIntellect rows are)."""
    if isinstance(value, bytes | bytearray):
        value = value.decode()
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise RowError(f"{what}: neither JSON nor a Python literal") from None


def text(value: Any) -> str:
    """An input or output as text (TACO stores some as lists of lines)."""
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return "" if value is None else str(value)


def longest(pairs: Sequence[tuple[str, Any]], n: int) -> list[int]:
    """Indices of the ``n`` tests with the longest input (DeepCoder), longest first."""
    order = sorted(range(len(pairs)), key=lambda i: len(str(pairs[i][0])), reverse=True)
    return order if len(pairs) <= n else order[:n]


def selected(count: int, inputs: Sequence[Any], credit: Credit) -> list[int]:
    if credit.select.startswith("longest:"):
        n = int(credit.select.split(":", 1)[1])
        if count > n:
            return longest([(str(i), None) for i in inputs], n)
    return list(range(count))


def _has_float(expected: bytes) -> bool:
    return any(_FLOAT_TOKEN.match(t) for t in expected.split())


def stdio_tests(pairs: Sequence[tuple[str, str]], p: Profile) -> tuple[list[pb.TestCase], pb.JudgeProgram | None]:
    """Stdio tests judged as ``p``'s grader judges them: its checker, or a match mode."""
    tests = []
    for i, (stdin, expected) in enumerate(pairs):
        want = expected.encode("utf-8", "surrogateescape")
        test = pb.StdioTest(stdin=stdin.encode("utf-8", "surrogateescape"), expected_stdout=want)
        test.match = p.match  # type: ignore[assignment]
        if not p.compare and p.name == "strict" and _has_float(want):
            test.match, test.float_tolerance = pb.FLOAT, 1e-6
        tests.append(pb.TestCase(name=f"test-{i}", stdio=test))
    return tests, (checker_for(p.compare) if p.compare else None)


def _literal(value: Any) -> str:
    """A Python expression for a JSON value (embedded in an assertion test)."""
    return f"_json.loads({json.dumps(json.dumps(value))})"


_CALLER = """import json as _json
import solution as _program
_args = {args}
_expected = {expected}
_owner = _program.Solution() if hasattr(_program, "Solution") else _program
_got = getattr(_owner, {name!r})(*_args)
"""

_RULES = {
    "lcb": """if isinstance(_got, tuple):
    _got = list(_got)
assert _got == _expected, f"expected {_expected!r:.200}, got {_got!r:.200}"
""",
    "apps": """if isinstance(_got, tuple):
    _got = list(_got)
_ok = _got == _expected or (isinstance(_expected, list) and len(_expected) > 0 and _got == _expected[0])
try:
    if not _ok and isinstance(_got[0], tuple):
        _ok = [list(_x) for _x in _got] == _expected[0]
except Exception:
    pass
assert _ok, f"expected {_expected!r:.200}, got {_got!r:.200}"
""",
    "genesys": """assert str(_got).strip() == str(_expected).strip(), f"expected {_expected!s:.200}, got {_got!s:.200}"
""",
}
_RULES["intellect3"] = _RULES["apps"]


def _int_keys(value: Any) -> Any:
    """APPS/TACO undo JSON's string keys (process_input_output) where they can."""
    if isinstance(value, dict):
        try:
            return {int(k): v for k, v in value.items()}
        except ValueError:
            return value
    return value


def call_tests(
    fn_name: str, class_based: bool, cases: Sequence[tuple[list[Any], Any]], p: Profile, *, wrapped: bool = False
) -> list[pb.TestCase]:
    """Call-based tests of one function (or ``Solution`` method) under ``p``'s rule;
    ``wrapped``: the APPS convention of an expected value in a 1-element list."""
    tests = []
    for i, (args, expected) in enumerate(cases):
        name = f"call-{i}"
        if p.call_rule == "strict":
            want = expected[0] if wrapped and isinstance(expected, list) and len(expected) == 1 else expected
            entry = f"Solution.{fn_name}" if class_based else fn_name
            call = pb.CallTest(entry_point=entry, args_json=json.dumps(args), expected_json=json.dumps(want))
            tests.append(pb.TestCase(name=name, call=call))
            continue
        if p.call_rule in ("apps", "intellect3") and args and isinstance(args[0], dict):
            args = [_int_keys(args[0]), *args[1:]]
        if p.call_rule in ("apps",) and isinstance(expected, dict):
            expected = [_int_keys(expected)]
        code = _CALLER.format(args=_literal(args), expected=_literal(expected), name=fn_name) + _RULES[p.call_rule]
        tests.append(pb.TestCase(name=name, assertion=pb.AssertTest(code=code)))
    return tests


def limits(p: Profile, tests: int, time_s: float | None = None, memory_mb: float | None = None) -> pb.Limits:
    """Per-test CPU seconds from the row (else the grader's timeout), memory from the row,
    and a whole-request budget that fits every test at its limit."""
    t = min(float(time_s) if time_s and time_s > 0 else p.time_limit_s, 60.0)
    lim = pb.Limits(time_limit_s=t, wall_time_limit_s=min(2 * t + 1, 121.0))
    if memory_mb and memory_mb > 0:
        lim.memory_limit_mb = int(min(max(memory_mb, 64), 4096))
    lim.total_time_limit_s = min(600.0, max(60.0, tests * (2 * t + 1) + 30))
    return lim


def problem(
    task_id: str,
    fmt: str,
    p: Profile,
    tests: list[pb.TestCase],
    checker: pb.JudgeProgram | None = None,
    *,
    time_s: float | None = None,
    memory_mb: float | None = None,
) -> DatasetProblem:
    if not tests:
        raise RowError("the row has no tests")
    return DatasetProblem(
        task_id=task_id,
        format=fmt,
        profile=p.name,
        tests=tests,
        checker=checker,
        limits=limits(p, len(tests), time_s, memory_mb),
        run=p.run,
        header=p.call_header,
        credit=p.credit,
        fence_required=p.fence_required,
    )


def io_problem(
    task_id: str,
    fmt: str,
    p: Profile,
    inputs: Sequence[Any],
    outputs: Sequence[Any],
    fn_name: str | None = None,
    class_based: bool = False,
    *,
    time_s: float | None = None,
    memory_mb: float | None = None,
    lenient_count: bool = False,
) -> DatasetProblem:
    """The APPS/TACO/``{inputs, outputs[, fn_name]}`` shape, selected per the profile's credit."""
    if len(inputs) != len(outputs) and (not lenient_count or len(inputs) > len(outputs)):
        raise RowError(f"{len(inputs)} inputs but {len(outputs)} outputs")
    picked = selected(len(inputs), inputs, p.credit)
    if fn_name:
        cases = [(list(inputs[i]) if isinstance(inputs[i], list) else [inputs[i]], outputs[i]) for i in picked]
        tests = call_tests(fn_name, class_based, cases, p, wrapped=True)
        return problem(task_id, fmt, p, tests, time_s=time_s, memory_mb=memory_mb)
    tests, checker = stdio_tests([(text(inputs[i]), text(outputs[i])) for i in picked], p)
    return problem(task_id, fmt, p, tests, checker, time_s=time_s, memory_mb=memory_mb)
