"""Graders: one module per test kind behind one entry point, pure functions
from the runner's raw facts (``RunFacts``) to a :class:`GradeResult`.

The shared part (set-up faults, limits) is decided first, in ``common``;
each kind only says what "right" means for it. Nothing here raises: a fault
of ours is an ``InfraFault``, a broken test a ``BadTest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import AssertSpec, CallSpec, InteractiveSpec, Limits, StdioSpec, TestCase, Verdict
from ..sandbox.rlce_runner.protocol import RunFacts
from . import assertion, call, interactive, stdio
from .common import limit_verdict, measured, note_hacks
from .result import BadTest, Conventions, Graded, GradeResult, InfraFault

__all__ = ["BadTest", "Context", "Conventions", "GradeResult", "Graded", "InfraFault", "grade"]


@dataclass(frozen=True)
class Context:
    """What a grader needs beyond the test and the facts: the limits, a compiled
    harness's conventions, the problem's judges' point scales."""

    limits: Limits
    conventions: Conventions = field(default_factory=Conventions)
    checker_points_max: float = 1.0
    interactor_points_max: float = 1.0


def grade(test: TestCase, facts: RunFacts, context: Context) -> GradeResult:
    graded = _grade(test, facts, context)
    if isinstance(graded, Graded):
        note_hacks(graded.outcome, facts)
        out = graded.outcome
        if out.score is None:
            out.score = 1.0 if out.verdict is Verdict.ACCEPTED else 0.0
    return graded


def _grade(test: TestCase, facts: RunFacts, context: Context) -> GradeResult:
    if facts.setup_failed:
        return InfraFault("a sandbox process failed during set-up, before the program ran")
    out = measured(test, facts)
    spec = test.spec
    if isinstance(spec, InteractiveSpec):
        if limit_verdict(out, facts, context.limits) is not None:
            return Graded(out)
        return Graded(interactive.grade(out, facts, context.interactor_points_max, context.checker_points_max))
    if limit_verdict(out, facts, context.limits) is not None:
        return Graded(out)
    if isinstance(spec, StdioSpec):
        return Graded(stdio.grade(spec, out, facts, context.checker_points_max))
    if isinstance(spec, CallSpec):
        if facts.driver is None:
            return InfraFault("a call test came back without the driver's record")
        return call.grade(spec, out, facts.driver)
    if isinstance(spec, AssertSpec):
        return assertion.grade(out, facts, context.conventions)
    return InfraFault(f"no grader for {type(spec).__name__}")
