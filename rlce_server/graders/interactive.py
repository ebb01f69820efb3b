"""Interactive tests: the interactor's exit decides (then the checker's, on its log).

The program's own failure -- a crash, a limit -- decides before anything the
interactor says after it; an interactor that ended first has the last word
on a wrong answer (the program's later SIGPIPE or EOF is no failure of its
own). An interactor that failed is "judge failed", never our fault.
"""

from __future__ import annotations

from ..domain import TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import RunFacts
from . import judge_verdicts
from .common import last_line


def grade(out: TestOutcome, facts: RunFacts, points_max: float, checker_points_max: float) -> TestOutcome:
    judge = facts.judge
    said = judge_verdicts.read(judge, points_max) if judge is not None else None
    judge_rejected_first = facts.judge_first and said is not None and said.verdict is not Verdict.ACCEPTED
    if (out.signal or out.exit_code != 0) and not judge_rejected_first:
        last = last_line(facts.program.stderr)
        how = f"killed by signal {out.signal}" if out.signal else f"exit code {out.exit_code}"
        out.verdict, out.message = Verdict.RUNTIME_ERROR, how + (f": {last}" if last else "")
        return out
    if said is None:
        out.verdict, out.message = Verdict.WRONG_ANSWER, "judge failed: the interactor did not run"
        return out
    if said.verdict is Verdict.ACCEPTED and facts.checker is not None:
        said = judge_verdicts.read(facts.checker, checker_points_max)
    out.verdict, out.score = said.verdict, said.score
    out.message = f"judge failed: {said.message}" if said.failed else said.message
    return out
