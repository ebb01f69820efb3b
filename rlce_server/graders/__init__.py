"""Graders: one module per test kind behind one entry point, pure functions
from the runner's raw facts (``RunFacts``) to a :class:`GradeResult`.

The shared part (set-up faults, limits) is decided first, in ``common``;
each kind only says what "right" means for it. Nothing here raises: a fault
of ours is an ``InfraFault``, a broken test a ``BadTest``.
"""

from __future__ import annotations

from ..domain import AssertSpec, CallSpec, Limits, StdioSpec, TestCase
from ..sandbox.rlce_runner.protocol import RunFacts
from . import assertion, call, stdio
from .common import limit_verdict, measured, note_hacks
from .result import BadTest, Conventions, Graded, GradeResult, InfraFault

__all__ = ["BadTest", "Conventions", "GradeResult", "Graded", "InfraFault", "grade"]


def grade(test: TestCase, facts: RunFacts, limits: Limits, conventions: Conventions | None = None) -> GradeResult:
    graded = _grade(test, facts, limits, conventions)
    if isinstance(graded, Graded):
        note_hacks(graded.outcome, facts)
    return graded


def _grade(test: TestCase, facts: RunFacts, limits: Limits, conventions: Conventions | None) -> GradeResult:
    if facts.setup_failed:
        return InfraFault("a sandbox process failed during set-up, before the program ran")
    out = measured(test, facts)
    if limit_verdict(out, facts, limits) is not None:
        return Graded(out)
    spec = test.spec
    if isinstance(spec, StdioSpec):
        return Graded(stdio.grade(spec, out, facts))
    if isinstance(spec, CallSpec):
        if facts.driver is None:
            return InfraFault("a call test came back without the driver's record")
        return call.grade(spec, out, facts.driver)
    if isinstance(spec, AssertSpec):
        return assertion.grade(out, facts, conventions or Conventions())
    return InfraFault(f"no grader for {type(spec).__name__}")
