"""What grading one test can say: three answers, never an exception.

As CMS's evaluation step keeps "the sandbox worked" apart from "what the
user's code did", a grader returns one of:

* ``Graded``     the sandbox worked; ``outcome`` is what the candidate's code did
* ``InfraFault`` the sandbox machinery failed (ours): the job is retried on a
                 fresh sandbox, then SANDBOX_ERROR -- never a candidate verdict
* ``BadTest``    the caller's test is broken (test code that does not compile,
                 a signature rlce cannot carry): INVALID_REQUEST naming the test
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import TestOutcome


@dataclass(frozen=True)
class Graded:
    outcome: TestOutcome


@dataclass(frozen=True)
class InfraFault:
    reason: str


@dataclass(frozen=True)
class BadTest:
    reason: str


GradeResult = Graded | InfraFault | BadTest


@dataclass(frozen=True)
class Conventions:
    """How a compiled test's harness ends when an assertion fails (runtime.toml)."""

    assert_exit_codes: frozenset[int] = field(default_factory=frozenset)
    assert_signals: frozenset[int] = field(default_factory=frozenset)
    # the test's build took the program's signatures (report:program): a value
    # the channel cannot carry is then the program's choice, never the caller's
    signatures_from_program: bool = False

    def assertion_failed(self, exit_code: int, signal: int) -> bool:
        return signal in self.assert_signals if signal else exit_code in self.assert_exit_codes
