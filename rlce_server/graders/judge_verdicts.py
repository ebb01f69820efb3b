"""A checker's or interactor's exit, read as testlib means it (API.md, "Exit codes").

    0            ACCEPTED
    1            WRONG_ANSWER
    2, 4, 8      WRONG_ANSWER, a presentation error (_pe; _dirt; _unexpected_eof, when built with
                 ENABLE_UNEXPECTED_EOF)
    7 (quitp)    partial credit: the first token of the judge's message / points_max
    50 + n       partial credit n / 100 (_pc(n); rlce builds C++ judges with PC_BASE_EXIT_CODE=50)
    anything else, a signal, its own limits: the judge failed

A share strictly between 0 and 1 is WRONG_ANSWER and does not count as
passed, but earns its share of the test's weight. The judge's words (its
stderr, else its stdout) become the test's message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..domain import Verdict
from ..sandbox.rlce_runner.protocol import JudgeFacts, Outcome

MESSAGE_CHARS = 4096
PC_BASE = 50


@dataclass(frozen=True)
class JudgeWord:
    verdict: Verdict
    score: float
    message: str
    failed: bool = False  # the judge itself failed (exit 3, a crash, its limits): never the candidate's credit


TESTLIB_POINTS = "points "  # testlib's quitp: "points <points> <message>" on stderr


def words(facts: JudgeFacts) -> str:
    said = facts.process.stderr.strip() or facts.process.stdout.strip()
    return said.decode("utf-8", "replace")[:MESSAGE_CHARS]


def read(facts: JudgeFacts, points_max: float) -> JudgeWord:
    said = words(facts)
    p = facts.process
    if facts.outcome is not Outcome.EXITED:
        return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"the judge ran out of time ({said})".strip(), failed=True)
    if p.signal:
        return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"the judge was killed by signal {p.signal}: {said}", failed=True)
    code = p.exit_code
    if code == 0:
        return JudgeWord(Verdict.ACCEPTED, 1.0, said)
    if code == 1:
        return JudgeWord(Verdict.WRONG_ANSWER, 0.0, said)
    if code in (2, 4):
        return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"presentation error: {said}")
    if code == 8:  # testlib's _unexpected_eof (with ENABLE_UNEXPECTED_EOF): the output ended early
        return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"presentation error (unexpected end of file): {said}")
    if code == 7:
        # the first token of the judge's message: testlib writes its result name first ("points 70 ...")
        message = said.removeprefix(TESTLIB_POINTS).lstrip() if said.startswith(TESTLIB_POINTS) else said
        token = message.split()[0] if message.split() else ""
        try:
            points = float(token)
        except ValueError:
            return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"the judge gave points that are not a number: {said}", True)
        return _share(points / (points_max or 1.0), said)
    if PC_BASE <= code <= PC_BASE + 100:
        return _share((code - PC_BASE) / 100, said)
    return JudgeWord(Verdict.WRONG_ANSWER, 0.0, f"the judge exited {code}: {said}", failed=True)


def _share(share: float, said: str) -> JudgeWord:
    if not math.isfinite(share):
        share = 0.0
    share = min(1.0, max(0.0, share))
    if share >= 1.0:
        return JudgeWord(Verdict.ACCEPTED, 1.0, said)
    return JudgeWord(Verdict.WRONG_ANSWER, share, f"partial credit {share:g}: {said}")
