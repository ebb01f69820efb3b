"""Assertion tests: the test must run to its end, and the trusted side must see it.

Python: the test driver's record. A compiled runtime: its harness's record --
the runner's nonce handed back (with the test's digest, for split tests) only
after the test ran to its end. Exit status 0 alone is never a pass.
"""

from __future__ import annotations

from ..domain import TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import DriverStatus, ProcessFacts, RunFacts
from .common import last_line
from .driver_records import verdict_of
from .result import BadTest, Conventions, Graded, GradeResult, InfraFault

# Exit codes of a split test's harness (docs/SPLIT_TESTS.md)
_TAMPERED = 111
_CHANNEL_BROKEN = 112
_UNCARRIABLE_ARGUMENT = 113
_NO_TEST = 114
_PROGRAM_RAISED = 115
_PROGRAM_GONE = 116
_VALUE_TOO_LARGE = 117  # a carriable type, a value past the wire's limits: what the program's calls gave


def grade(out: TestOutcome, facts: RunFacts, conventions: Conventions) -> GradeResult:
    if facts.driver is not None:
        if facts.driver.retire:
            out.hacks.append("driver_retired")
        if facts.driver.status is DriverStatus.PROGRAM_GONE and out.exit_code == 0 and not out.signal:
            out.hacks.append("exit_without_record")
        return verdict_of(facts.driver, out)
    if facts.test is not None:
        return _split(out, facts, facts.test, conventions)
    if facts.record_ok is not None:
        return Graded(_in_process(out, facts, conventions))
    return InfraFault("an assertion test came back without a record")


def _in_process(out: TestOutcome, facts: RunFacts, conventions: Conventions) -> TestOutcome:
    """A harness linked into the program's own process (to be replaced by split tests)."""
    last = last_line(facts.program.stderr)
    if facts.record_ok and out.exit_code == 0 and not out.signal:
        out.verdict, out.message = Verdict.ACCEPTED, ""
    elif conventions.assertion_failed(out.exit_code, out.signal):
        out.verdict, out.message = Verdict.WRONG_ANSWER, last or "an assertion failed"
    elif out.exit_code == 0 and not out.signal:
        out.verdict = Verdict.WRONG_ANSWER
        out.message = "the program ended with status 0 before the test ran to its end"
        out.hacks.append("exit_without_record")
    elif out.exit_code == _TAMPERED and not out.signal:
        out.verdict = Verdict.WRONG_ANSWER
        out.message = "the harness's nonce was gone before the test ran"
        out.hacks.append("nonce_missing")
    else:
        how = f"killed by signal {out.signal}" if out.signal else f"exit code {out.exit_code}"
        out.verdict, out.message = Verdict.RUNTIME_ERROR, how + (f": {last}" if last else "")
    return out


def _split(out: TestOutcome, facts: RunFacts, test: ProcessFacts, conventions: Conventions) -> GradeResult:
    """The test in its own process: its exit and record decide, the program's own failure first."""
    said = last_line(test.stderr)
    code, sig = test.exit_code, test.signal
    if facts.record_ok and code == 0 and not sig:
        out.verdict, out.message = Verdict.ACCEPTED, ""
    elif code == _UNCARRIABLE_ARGUMENT and not sig and conventions.signatures_from_program:
        out.verdict = Verdict.RUNTIME_ERROR
        out.message = "a value of the program's chosen types cannot be carried: " + (said or "exit 113")
    elif code in (_UNCARRIABLE_ARGUMENT, _NO_TEST) and not sig:
        return BadTest(said or "the test cannot be run against any program")
    elif conventions.assertion_failed(code, sig):
        out.verdict, out.message = Verdict.WRONG_ANSWER, said or "an assertion failed"
    elif code == _VALUE_TOO_LARGE and not sig:
        out.verdict = Verdict.RUNTIME_ERROR
        out.message = "a value of the program's calls cannot be carried back: " + (said or "exit 117")
    elif code in (_CHANNEL_BROKEN, _PROGRAM_RAISED, _PROGRAM_GONE) and not sig:
        program_said = last_line(facts.program.stderr)
        out.verdict, out.message = Verdict.RUNTIME_ERROR, said or program_said or "the program failed during a call"
    elif code == _TAMPERED and not sig:
        out.verdict, out.message = Verdict.WRONG_ANSWER, "the harness's nonce was gone before the test ran"
        out.hacks.append("nonce_missing")
    elif code == 0 and not sig:
        out.verdict = Verdict.WRONG_ANSWER
        out.message = "the test did not hand back its record: " + (said or "it ended before it ran to its end")
        out.hacks.append("exit_without_record")
    else:
        how = f"killed by signal {sig}" if sig else f"exit code {code}"
        out.verdict, out.message = Verdict.RUNTIME_ERROR, f"the test crashed on what the program returned ({how})"
        out.message += f": {said}" if said else ""
    return Graded(out)
