"""Stdio tests: exit 0 and stdout matching the expected bytes (``StdioTest.match``),
or, when the problem has a checker, what the checker says of that stdout."""

from __future__ import annotations

from ..domain import StdioSpec, TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import RunFacts
from . import judge_verdicts
from .common import last_line
from .stdio_match import compare

_SYNTAX = ("SyntaxError", "IndentationError", "TabError")


def grade(spec: StdioSpec, out: TestOutcome, facts: RunFacts, points_max: float = 1.0) -> TestOutcome:
    if out.signal:
        out.verdict, out.message = Verdict.RUNTIME_ERROR, f"killed by signal {out.signal}"
    elif out.exit_code != 0:
        last = last_line(facts.program.stderr)
        out.verdict = Verdict.COMPILE_ERROR if last.startswith(_SYNTAX) else Verdict.RUNTIME_ERROR
        out.message = f"exit code {out.exit_code}" + (f": {last}" if last else "")
    elif facts.judge is not None:
        judged = judge_verdicts.read(facts.judge, points_max)
        out.verdict, out.score = judged.verdict, judged.score
        out.message = f"judge failed: {judged.message}" if judged.failed else judged.message
    else:
        ok, why = compare(facts.program.stdout, spec.expected_stdout, spec.match, spec.float_tolerance)
        out.verdict, out.message = (Verdict.ACCEPTED, "") if ok else (Verdict.WRONG_ANSWER, why)
    return out
