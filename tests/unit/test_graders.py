"""Graders map raw runner facts to verdicts; only positive evidence passes."""

import json

import pytest

from rlce_server.domain import AssertSpec, CallSpec, Limits, OutputMatch, StdioSpec, TestCase, Verdict
from rlce_server.graders import BadTest, Context, Conventions, Graded, InfraFault, grade
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
    graded = grade(case, fx, Context(LIMITS, conventions or Conventions()))
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
    assert isinstance(grade(stdio_case(), raw(setup_failed=True), Context(LIMITS)), InfraFault)
    assertion = TestCase("a", 1.0, AssertSpec("assert 1"))
    assert isinstance(grade(assertion, raw(), Context(LIMITS)), InfraFault)  # no record at all
    fault = raw(driver=record("driver_fault", message="malformed payload"))
    assert isinstance(grade(assertion, fault, Context(LIMITS)), InfraFault)


def test_a_broken_test_is_the_callers():
    """The driver's test_invalid (test code that does not compile) is INVALID_REQUEST, not the program's RE."""
    assertion = TestCase("a", 1.0, AssertSpec("assert ("))
    broken = raw(driver=record("test_invalid", message="the test code does not compile"))
    graded = grade(assertion, broken, Context(LIMITS))
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
        assert isinstance(grade(case, split(exit_code=refused, stderr=b"rlce: no"), Context(LIMITS, conv)), BadTest)
    # where the test's stubs follow the program's own signatures, the program chose what cannot be carried
    from_program = Conventions(frozenset(), frozenset({6}), signatures_from_program=True)
    assert verdict(case, split(exit_code=113, stderr=b"rlce: no"), from_program) is Verdict.RUNTIME_ERROR
    assert isinstance(grade(case, split(exit_code=114), Context(LIMITS, from_program)), BadTest)
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


def test_judge_exit_codes_are_read_as_testlib_means_them():
    from rlce_server.graders import judge_verdicts
    from rlce_server.sandbox.rlce_runner.protocol import JudgeFacts

    def judged(code, said=b"", signal=0, outcome=Outcome.EXITED, points_max=1.0):
        facts = JudgeFacts(outcome, ProcessFacts(exit_code=code, signal=signal, stderr=said))
        return judge_verdicts.read(facts, points_max)

    assert judged(0).verdict is Verdict.ACCEPTED and judged(0).score == 1.0
    assert judged(1, b"wrong").verdict is Verdict.WRONG_ANSWER and judged(1).score == 0.0
    assert "presentation error" in judged(2, b"x").message and "presentation error" in judged(4).message
    eof = judged(8, b"unexpected eof")  # testlib's _unexpected_eof with ENABLE_UNEXPECTED_EOF: the program's
    assert eof.verdict is Verdict.WRONG_ANSWER and "end of file" in eof.message and not eof.failed
    assert judged(7, b"30 points", points_max=40).score == 0.75
    assert judged(7, b"80", points_max=40).score == 1.0  # clamped, and then a pass
    assert judged(7, b"points 70.0 k = 7", points_max=100).score == 0.7  # testlib prints its result name first
    assert judged(7, b"-5").score == 0.0
    assert judged(7, b"nan points").score == 0.0
    assert judged(50 + 37).score == 0.37 and judged(50 + 37).verdict is Verdict.WRONG_ANSWER
    assert judged(150).verdict is Verdict.ACCEPTED
    for failed in (judged(3, b"fail"), judged(-1, signal=11), judged(0, outcome=Outcome.TIMEOUT), judged(42)):
        assert failed.failed and failed.verdict is Verdict.WRONG_ANSWER and failed.score == 0.0


def test_partial_credit_from_a_checker_reaches_the_score_and_the_reward():
    from rlce_server import rewards
    from rlce_server.sandbox.rlce_runner.protocol import JudgeFacts

    case = stdio_case()
    half = raw(stdout=b"anything", judge=JudgeFacts(Outcome.EXITED, ProcessFacts(exit_code=50 + 50, stderr=b"half")))
    graded = grade(case, half, Context(LIMITS))
    assert isinstance(graded, Graded)
    out = graded.outcome
    assert out.verdict is Verdict.WRONG_ANSWER and out.score == 0.5 and "half" in out.message
    full = grade(case, raw(stdout=b"x", judge=JudgeFacts(Outcome.EXITED, ProcessFacts())), Context(LIMITS))
    assert isinstance(full, Graded)
    tests = [case, case]
    assert rewards.reward(rewards.RewardMode.PARTIAL, Verdict.WRONG_ANSWER, tests, [out, full.outcome]) == 0.75
