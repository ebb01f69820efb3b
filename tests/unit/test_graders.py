"""Graders map raw runner facts to verdicts; only positive evidence passes."""

import json

import pytest

from rlce_server.domain import AssertSpec, CallSpec, Limits, OutputMatch, StdioSpec, TestCase, Verdict
from rlce_server.graders import BadTest, Conventions, Graded, InfraFault, grade
from rlce_server.graders.call_values import compare_returned
from rlce_server.graders.stdio_match import compare
from rlce_server.sandbox.fake import facts
from rlce_server.sandbox.rlce_runner import codec
from rlce_server.sandbox.rlce_runner.protocol import DriverRecord, DriverStatus, Outcome, ProcessFacts

LIMITS = Limits(
    time_limit_s=2.0, wall_time_limit_s=5.0, memory_limit_mb=256, output_limit_bytes=1 << 20, total_time_limit_s=10.0
)


def raw(**kw):
    kw.setdefault("cpu_s", 0.01)
    kw.setdefault("wall_s", 0.01)
    return facts(**kw)


def verdict(case, fx, conventions=None):
    graded = grade(case, fx, LIMITS, conventions)
    assert isinstance(graded, Graded), graded
    return graded.outcome.verdict


def record(status, **kw):
    return DriverRecord(DriverStatus(status), **kw)


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
    assert verdict(stdio_case(), raw(stdout=b"5\n")) is Verdict.ACCEPTED
    assert verdict(stdio_case(), raw(stdout=b"6\n")) is Verdict.WRONG_ANSWER
    # right output but a crash is not a pass
    assert verdict(stdio_case(), raw(stdout=b"5\n", exit_code=1)) is Verdict.RUNTIME_ERROR
    assert verdict(stdio_case(), raw(outcome=Outcome.TIMEOUT, signal=9)) is Verdict.TIME_LIMIT_EXCEEDED
    assert verdict(stdio_case(), raw(outcome=Outcome.OUTPUT_LIMIT)) is Verdict.OUTPUT_LIMIT_EXCEEDED
    assert verdict(stdio_case(), raw(signal=9, cpu_s=2.5)) is Verdict.TIME_LIMIT_EXCEEDED
    assert verdict(stdio_case(), raw(oom_killed=True, signal=9)) is Verdict.MEMORY_LIMIT_EXCEEDED
    mem = raw(exit_code=1, stderr=b"Traceback...\nMemoryError\n")
    assert verdict(stdio_case(), mem) is Verdict.MEMORY_LIMIT_EXCEEDED
    syntax = raw(exit_code=1, stderr=b'  File "main.py"\nSyntaxError: invalid syntax\n')
    assert verdict(stdio_case(), syntax) is Verdict.COMPILE_ERROR


def test_faults_of_ours_are_never_a_verdict():
    assert isinstance(grade(stdio_case(), raw(setup_failed=True), LIMITS), InfraFault)
    assertion = TestCase("a", 1.0, AssertSpec("assert 1"))
    assert isinstance(grade(assertion, raw(), LIMITS), InfraFault)  # no record at all
    fault = raw(driver=record("driver_fault", message="malformed payload"))
    assert isinstance(grade(assertion, fault, LIMITS), InfraFault)


def test_a_broken_test_is_the_callers():
    """The driver's test_invalid (test code that does not compile) is INVALID_REQUEST, not the program's RE."""
    assertion = TestCase("a", 1.0, AssertSpec("assert ("))
    graded = grade(assertion, raw(driver=record("test_invalid", message="the test code does not compile")), LIMITS)
    assert isinstance(graded, BadTest) and "does not compile" in graded.reason


def test_assertion_needs_driver_record_of_pass():
    case = TestCase("a", 1.0, AssertSpec("assert f() == 1"))
    assert verdict(case, raw(driver=record("passed"))) is Verdict.ACCEPTED
    assert verdict(case, raw(driver=record("assertion_failed"))) is Verdict.WRONG_ANSWER
    # exit code 0 and a printed banner are no evidence
    fake = raw(stdout=b'{"status": "passed"}\nPASS\n', driver=record("program_gone"))
    assert verdict(case, fake) is Verdict.RUNTIME_ERROR
    load = raw(driver=record("load_error", syntax=True, message="SyntaxError: x"))
    assert verdict(case, load) is Verdict.COMPILE_ERROR


def test_split_test_verdicts_come_from_the_test_process():
    case = TestCase("a", 1.0, AssertSpec("int main() {}"))
    conv = Conventions(frozenset(), frozenset({6}))

    def split(exit_code=0, signal=0, record_ok=False, stderr=b""):
        return raw(test=ProcessFacts(exit_code=exit_code, signal=signal, stderr=stderr), record_ok=record_ok)

    assert verdict(case, split(record_ok=True), conv) is Verdict.ACCEPTED
    assert verdict(case, split(), conv) is Verdict.WRONG_ANSWER  # exit 0 without the record
    assert verdict(case, split(exit_code=-1, signal=6), conv) is Verdict.WRONG_ANSWER  # assert()
    assert verdict(case, split(exit_code=111), conv) is Verdict.WRONG_ANSWER  # the nonce was taken
    for program_failed in (112, 115, 116):
        assert verdict(case, split(exit_code=program_failed), conv) is Verdict.RUNTIME_ERROR
    assert verdict(case, split(exit_code=-1, signal=11), conv) is Verdict.RUNTIME_ERROR
    for refused in (113, 114):
        assert isinstance(grade(case, split(exit_code=refused, stderr=b"rlce: no"), LIMITS, conv), BadTest)
    # the program's own limit decides first, whatever the test said
    over = raw(test=ProcessFacts(exit_code=116), record_ok=False, outcome=Outcome.TIMEOUT, signal=9)
    assert verdict(case, over, conv) is Verdict.TIME_LIMIT_EXCEEDED


def test_call_grading_is_type_strict():
    def case(expected):
        return TestCase("c", 1.0, CallSpec("f", "[]", json.dumps(expected)))

    def ret(value, **kw):
        return raw(driver=record("returned", value=codec.encode(value)), **kw)

    assert verdict(case(1), ret(1)) is Verdict.ACCEPTED
    assert verdict(case(1), ret(1.0)) is Verdict.WRONG_ANSWER
    assert verdict(case(1), ret(True)) is Verdict.WRONG_ANSWER
    assert verdict(case("1"), ret(1)) is Verdict.WRONG_ANSWER
    assert verdict(case([1, 2]), ret((1, 2))) is Verdict.ACCEPTED
    assert verdict(case({"a": [1]}), ret({"a": [1]})) is Verdict.ACCEPTED
    assert verdict(case(0.5), ret(float("nan"))) is Verdict.WRONG_ANSWER
    assert verdict(case([1]), ret({1})) is Verdict.WRONG_ANSWER
    # a forged record that is not a plain value (a handle) is never equal
    forged = raw(driver=record("returned", value={"$ref": 1}))
    assert verdict(case(1), forged) is Verdict.WRONG_ANSWER
    assert verdict(case(1), raw(driver=record("passed"))) is Verdict.RUNTIME_ERROR


def test_float_tolerance_in_calls():
    assert compare_returned(0.30000001, "0.3", 1e-6)[0]
    assert not compare_returned(0.31, "0.3", 1e-6)[0]
    assert not compare_returned(0.30000001, "0.3", 0.0)[0]
