"""The Python test driver's record (``DriverRecord``) as a verdict.

The record is the only evidence of a pass: ``passed`` is written only after
the test code ran to its end. Whose fault a failure is follows the status:
the program's (a verdict), the caller's test (BadTest) or ours (InfraFault).
"""

from __future__ import annotations

from ..domain import TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import DriverRecord, DriverStatus
from .result import BadTest, Graded, GradeResult, InfraFault

_CANDIDATE_FAILURES = {
    DriverStatus.RUNTIME_ERROR,
    DriverStatus.PROGRAM_GONE,
    DriverStatus.TEST_RAISED,
    DriverStatus.RETURNED,
}


def verdict_of(record: DriverRecord, out: TestOutcome) -> GradeResult:
    status, message = record.status, record.message[:2000]
    if status is DriverStatus.DRIVER_FAULT:
        return InfraFault(f"the test driver failed: {message}")
    if status is DriverStatus.TEST_INVALID:
        return BadTest(message)
    if status is DriverStatus.PASSED:
        out.verdict, out.message = Verdict.ACCEPTED, ""
    elif status is DriverStatus.ASSERTION_FAILED:
        out.verdict, out.message = Verdict.WRONG_ANSWER, message
    elif status is DriverStatus.LOAD_ERROR:
        if record.syntax:
            out.verdict, out.message = Verdict.COMPILE_ERROR, message
        else:
            out.verdict, out.message = Verdict.RUNTIME_ERROR, f"the program failed while loading: {message}"
    elif "MemoryError" in message.split(":", 1)[0]:
        out.verdict, out.message = Verdict.MEMORY_LIMIT_EXCEEDED, message
    elif status in _CANDIDATE_FAILURES:
        out.verdict, out.message = Verdict.RUNTIME_ERROR, message
    else:  # pragma: no cover - every status is handled above
        return InfraFault(f"unknown driver status {status}")
    return Graded(out)
