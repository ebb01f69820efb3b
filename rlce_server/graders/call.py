"""Call tests: the returned value, judged here against ``expected_json``.

The value comes back as the sandbox codec's tree in the driver's record and
is compared type-strictly outside the candidate's process (call_values).
"""

from __future__ import annotations

from ..domain import CallSpec, TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import DriverRecord, DriverStatus
from .call_values import compare_returned
from .driver_records import verdict_of
from .result import Graded, GradeResult


def grade(spec: CallSpec, out: TestOutcome, record: DriverRecord) -> GradeResult:
    if record.status is DriverStatus.RETURNED:
        ok, why = compare_returned(record.value, spec.expected_json, spec.float_tolerance)
        out.verdict, out.message = (Verdict.ACCEPTED, "") if ok else (Verdict.WRONG_ANSWER, why)
        return Graded(out)
    graded = verdict_of(record, out)
    if isinstance(graded, Graded) and graded.outcome.verdict is Verdict.ACCEPTED:
        graded.outcome.verdict = Verdict.RUNTIME_ERROR  # a call test passes only on a returned value
        graded.outcome.message = "the call returned no value"
    return graded
