"""Graders map raw runner facts to verdicts; only positive evidence passes."""

import base64
import json

import pytest

from rlce_server.domain import AssertSpec, CallSpec, Limits, OutputMatch, StdioSpec, TestCase, Verdict
from rlce_server.errors import SandboxFault
from rlce_server.graders import grade
from rlce_server.graders.output import compare
from rlce_server.graders.values import judge
from rlce_server.sandbox.rlce_runner import codec

LIMITS = Limits(2.0, 2.0, 256, 1 << 20, 10.0)


def raw(**kw):
    base = {
        "outcome": "exited",
        "exit_code": 0,
        "signal": 0,
        "wall_s": 0.01,
        "cpu_s": 0.01,
        "maxrss_kb": 1,
        "oom_killed": False,
        "setup_failed": False,
        "stdout": "",
        "stderr": "",
    }
    for key in ("stdout", "stderr"):
        if key in kw:
            kw[key] = base64.b64encode(kw[key]).decode()
    base.update(kw)
    return base


def stdio_case(expected=b"5\n", match=OutputMatch.TOKENS, tol=0.0):
    return TestCase("t", 1.0, StdioSpec(b"", expected, match, tol))


@pytest.mark.parametrize(
    ("got", "want", "match", "ok"),
    [
        (b"1 2\n", b"1 2\n", OutputMatch.EXACT, True),
        (b"1 2", b"1 2\n", OutputMatch.EXACT, False),
        (b"1 2  \n\n\n", b"1 2\n", OutputMatch.TRIM, True),
        (b" 1 2", b"1 2", OutputMatch.TRIM, False),
        (b"1\n2", b"1 2", OutputMatch.TOKENS, True),
        (b"1 2 3", b"1 2", OutputMatch.TOKENS, False),
        (b"0.3333334", b"0.3333333", OutputMatch.FLOAT, True),
        (b"nan", b"0.5", OutputMatch.FLOAT, False),
        (b"nan", b"nan", OutputMatch.FLOAT, True),
        (b"0.4", b"0.3333333", OutputMatch.FLOAT, False),
    ],
)
def test_output_compare(got, want, match, ok):
    assert compare(got, want, match, 1e-6)[0] is ok


def test_stdio_grading():
    assert grade(stdio_case(), raw(stdout=b"5\n"), LIMITS).verdict is Verdict.ACCEPTED
    assert grade(stdio_case(), raw(stdout=b"6\n"), LIMITS).verdict is Verdict.WRONG_ANSWER
    # right output but a crash is not a pass
    assert grade(stdio_case(), raw(stdout=b"5\n", exit_code=1), LIMITS).verdict is Verdict.RUNTIME_ERROR
    assert grade(stdio_case(), raw(outcome="timeout", signal=9), LIMITS).verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert grade(stdio_case(), raw(outcome="output_limit"), LIMITS).verdict is Verdict.OUTPUT_LIMIT_EXCEEDED
    assert grade(stdio_case(), raw(signal=9, cpu_s=2.5), LIMITS).verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert grade(stdio_case(), raw(oom_killed=True, signal=9), LIMITS).verdict is Verdict.MEMORY_LIMIT_EXCEEDED
    mem = raw(exit_code=1, stderr=b"Traceback...\nMemoryError\n")
    assert grade(stdio_case(), mem, LIMITS).verdict is Verdict.MEMORY_LIMIT_EXCEEDED
    syntax = raw(exit_code=1, stderr=b'  File "main.py"\nSyntaxError: invalid syntax\n')
    assert grade(stdio_case(), syntax, LIMITS).verdict is Verdict.COMPILE_ERROR


def test_setup_failure_is_ours():
    with pytest.raises(SandboxFault):
        grade(stdio_case(), raw(setup_failed=True), LIMITS)
    with pytest.raises(SandboxFault):
        grade(TestCase("a", 1.0, AssertSpec("assert 1")), raw(driver=None), LIMITS)


def test_assertion_needs_driver_record_of_pass():
    case = TestCase("a", 1.0, AssertSpec("assert f() == 1"))
    assert grade(case, raw(driver={"status": "passed"}), LIMITS).verdict is Verdict.ACCEPTED
    assert grade(case, raw(driver={"status": "assertion_failed"}), LIMITS).verdict is Verdict.WRONG_ANSWER
    # exit code 0 and a printed banner are no evidence
    fake = raw(stdout=b'{"status": "passed"}\nPASS\n', driver={"status": "program_gone"})
    assert grade(case, fake, LIMITS).verdict is Verdict.RUNTIME_ERROR
    load = raw(driver={"status": "load_error", "syntax": True, "message": "SyntaxError: x"})
    assert grade(case, load, LIMITS).verdict is Verdict.COMPILE_ERROR


def test_call_grading_is_type_strict():
    def case(expected):
        return TestCase("c", 1.0, CallSpec("f", "[]", json.dumps(expected)))

    def ret(value, **kw):
        return raw(driver={"status": "returned", "value": codec.encode(value)}, **kw)

    assert grade(case(1), ret(1), LIMITS).verdict is Verdict.ACCEPTED
    assert grade(case(1), ret(1.0), LIMITS).verdict is Verdict.WRONG_ANSWER
    assert grade(case(1), ret(True), LIMITS).verdict is Verdict.WRONG_ANSWER
    assert grade(case("1"), ret(1), LIMITS).verdict is Verdict.WRONG_ANSWER
    assert grade(case([1, 2]), ret((1, 2)), LIMITS).verdict is Verdict.ACCEPTED
    assert grade(case({"a": [1]}), ret({"a": [1]}), LIMITS).verdict is Verdict.ACCEPTED
    assert grade(case(0.5), ret(float("nan")), LIMITS).verdict is Verdict.WRONG_ANSWER
    assert grade(case([1]), ret({1}), LIMITS).verdict is Verdict.WRONG_ANSWER
    # a forged record that is not a plain value (a handle) is never equal
    forged = raw(driver={"status": "returned", "value": {"$ref": 1}})
    assert grade(case(1), forged, LIMITS).verdict is Verdict.WRONG_ANSWER
    assert grade(case(1), raw(driver={"status": "passed"}), LIMITS).verdict is Verdict.RUNTIME_ERROR


def test_float_tolerance_in_calls():
    assert judge(0.30000001, "0.3", 1e-6)[0]
    assert not judge(0.31, "0.3", 1e-6)[0]
    assert not judge(0.30000001, "0.3", 0.0)[0]
