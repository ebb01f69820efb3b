"""Stdio tests: exit 0 and stdout matching the expected bytes (``StdioTest.match``)."""

from __future__ import annotations

from ..domain import StdioSpec, TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import RunFacts
from .common import last_line
from .stdio_match import compare

_SYNTAX = ("SyntaxError", "IndentationError", "TabError")


def grade(spec: StdioSpec, out: TestOutcome, facts: RunFacts) -> TestOutcome:
    if out.signal:
        out.verdict, out.message = Verdict.RUNTIME_ERROR, f"killed by signal {out.signal}"
    elif out.exit_code != 0:
        last = last_line(facts.program.stderr)
        out.verdict = Verdict.COMPILE_ERROR if last.startswith(_SYNTAX) else Verdict.RUNTIME_ERROR
        out.message = f"exit code {out.exit_code}" + (f": {last}" if last else "")
    else:
        ok, why = compare(facts.program.stdout, spec.expected_stdout, spec.match, spec.float_tolerance)
        out.verdict, out.message = (Verdict.ACCEPTED, "") if ok else (Verdict.WRONG_ANSWER, why)
    return out
