"""Interactive tests: the interactor's exit decides (then the checker's, on its log).

The program's own failure -- a crash, a limit -- decides before anything the
interactor says after it. Only a failure that is the consequence of an
interactor that had already rejected and hung up (SIGPIPE, a broken pipe,
end of input) leaves the interactor's word standing. An interactor that
failed is "judge failed", never our fault.
"""

from __future__ import annotations

import signal

from ..domain import TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import RunFacts
from . import judge_verdicts
from .common import last_line

_HUNG_UP = ("BrokenPipeError", "EOFError", "Broken pipe", "EPIPE", "end of file")


def hung_up_on(out: TestOutcome, facts: RunFacts) -> bool:
    """The program failed because the interactor closed the conversation first:
    SIGPIPE or end of input can only come from the interactor's side closing.
    Which of the two processes the runner saw end first is no evidence either
    way (an interpreter closes its pipes before it is gone; a program dumping
    core closes its pipes late), so only how the program failed counts. Its
    own words can at most turn its RUNTIME_ERROR into the interactor's
    rejection: no reward either way (the caller checks the interactor rejected)."""
    if out.signal == signal.SIGPIPE:
        return True
    return not out.signal and any(m in last_line(facts.program.stderr) for m in _HUNG_UP)


def grade(out: TestOutcome, facts: RunFacts, points_max: float, checker_points_max: float) -> TestOutcome:
    judge = facts.judge
    said = judge_verdicts.read(judge, points_max) if judge is not None else None
    rejected = said is not None and said.verdict is not Verdict.ACCEPTED
    if (out.signal or out.exit_code != 0) and not (rejected and hung_up_on(out, facts)):
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
