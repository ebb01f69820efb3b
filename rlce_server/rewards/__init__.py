"""Reward policies, and the overall verdict: how per-test outcomes reduce to one answer."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import RewardMode, TestCase, TestOutcome, Verdict

ZERO_VERDICTS = frozenset({Verdict.COMPILE_ERROR, Verdict.INVALID_REQUEST, Verdict.SANDBOX_ERROR})


def score_of(outcome: TestOutcome) -> float:
    """The share of a test's weight earned: 1 if it passed, a judge's partial credit, else 0."""
    if outcome.verdict is Verdict.ACCEPTED:
        return 1.0
    return outcome.score or 0.0 if outcome.verdict is Verdict.WRONG_ANSWER else 0.0


def partial(tests: Sequence[TestCase], outcomes: Sequence[TestOutcome]) -> float:
    """The weighted sum of the tests' scores over the trusted test list's weight."""
    total = sum(t.weight for t in tests)
    won = sum(t.weight * score_of(o) for t, o in zip(tests, outcomes))
    return min(1.0, won / total) if total > 0 else 0.0


def all_or_nothing(tests: Sequence[TestCase], outcomes: Sequence[TestOutcome]) -> float:
    ok = len(outcomes) == len(tests) and all(o.verdict is Verdict.ACCEPTED for o in outcomes)
    return 1.0 if ok else 0.0


POLICIES = {RewardMode.PARTIAL: partial, RewardMode.ALL_OR_NOTHING: all_or_nothing}


def overall_verdict(outcomes: Sequence[TestOutcome]) -> Verdict:
    """The one place the request's verdict is decided: COMPILE_ERROR if the
    program did not build for some test; else ACCEPTED only if all passed;
    else the first failing test's verdict (SKIPPED if only skips are left)."""
    if any(o.verdict is Verdict.COMPILE_ERROR for o in outcomes):
        return Verdict.COMPILE_ERROR
    for o in outcomes:
        if o.verdict is not Verdict.ACCEPTED and o.verdict is not Verdict.SKIPPED:
            return o.verdict
    if any(o.verdict is Verdict.SKIPPED for o in outcomes):
        return Verdict.SKIPPED
    return Verdict.ACCEPTED


def reward(mode: RewardMode, verdict: Verdict, tests: Sequence[TestCase], outcomes: Sequence[TestOutcome]) -> float:
    if verdict in ZERO_VERDICTS:
        return 0.0
    return POLICIES[mode](tests, outcomes)
