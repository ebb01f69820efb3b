"""Verdicts without tests: a one-shot ``Run`` and a session's cell (docs/SESSIONS.md).

Nothing is compared: ACCEPTED means the code ran to its end (a program that
exited 0; a cell whose code finished, an exception being RUNTIME_ERROR),
else the limit it hit, decided exactly as for a test (``common``).
"""

from __future__ import annotations

import signal as _signal
from dataclasses import dataclass, field

from ..domain import Limits, StdioSpec, TestCase, Verdict
from ..sandbox.rlce_runner.protocol import CellFacts, CellStatus, Outcome, RunFacts
from .common import limit_verdict, measured, note_hacks
from .result import Graded, InfraFault

_RUN = TestCase(name="run", weight=1.0, spec=StdioSpec(stdin=b"", expected_stdout=b""))
UNCHANGED = "the session is as it was before this cell"


def _ended_by(exit_code: int, sig: int) -> str:
    if sig:
        try:
            name = _signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {name}"
    return f"exit status {exit_code}"


def grade_run(facts: RunFacts, limits: Limits) -> Graded | InfraFault:
    """A whole program's run: ACCEPTED when it ended by itself with status 0."""
    if facts.setup_failed:
        return InfraFault("a sandbox process failed during set-up, before the program ran")
    out = measured(_RUN, facts)
    if limit_verdict(out, facts, limits) is None:
        if out.exit_code == 0 and not out.signal:
            out.verdict = Verdict.ACCEPTED
        else:
            out.verdict = Verdict.RUNTIME_ERROR
            out.message = f"the program ended with {_ended_by(out.exit_code, out.signal)}"
    return Graded(note_hacks(out, facts))


@dataclass
class CellVerdict:
    verdict: Verdict
    result: str = ""
    error: str = ""
    notes: list[str] = field(default_factory=list)


def grade_cell(facts: CellFacts, limits: Limits) -> CellVerdict:
    """One cell: what its own process said when it ended within its limits, else the limit.

    ``limits.time_limit_s`` is the CPU time the cell was given (its own limit,
    or what is left of its session's budget when that is less).
    """
    if facts.refused:
        return CellVerdict(Verdict.RUNTIME_ERROR, error=f"the cell did not run: {facts.refused}")
    if facts.outcome is Outcome.CPU_LIMIT:
        return CellVerdict(
            Verdict.TIME_LIMIT_EXCEEDED,
            error=f"CPU time limit {limits.time_limit_s:g}s exceeded ({facts.cpu_s:.3f}s of CPU); {UNCHANGED}",
        )
    if facts.outcome is Outcome.TIMEOUT:
        return CellVerdict(
            Verdict.TIME_LIMIT_EXCEEDED,
            error=f"wall time limit {limits.wall_time_limit_s:g}s exceeded "
            f"(it used {facts.cpu_s:.3f}s of CPU: sleeping or blocked); {UNCHANGED}",
        )
    if facts.outcome is Outcome.OUTPUT_LIMIT:
        return CellVerdict(
            Verdict.OUTPUT_LIMIT_EXCEEDED, error=f"output exceeded {limits.output_limit_bytes} bytes; {UNCHANGED}"
        )
    if facts.outcome is Outcome.MEMORY_LIMIT or facts.oom_killed:
        return CellVerdict(
            Verdict.MEMORY_LIMIT_EXCEEDED, error=f"memory limit {limits.memory_limit_mb} MB exceeded; {UNCHANGED}"
        )
    record = facts.record
    if not facts.committed or record is None:
        if facts.outcome is Outcome.ABORTED:
            return CellVerdict(Verdict.RUNTIME_ERROR, error="the session was closed while the cell ran")
        return CellVerdict(
            Verdict.RUNTIME_ERROR,
            error=f"the cell's process ended (os._exit, a signal, a crash) before the cell did; {UNCHANGED}",
        )
    if record.status is CellStatus.OK:
        return CellVerdict(Verdict.ACCEPTED, result=record.result)
    if record.status is CellStatus.EXIT and record.exit_code == 0:
        return CellVerdict(Verdict.ACCEPTED)
    return CellVerdict(Verdict.RUNTIME_ERROR, error=record.error or f"SystemExit: {record.exit_code}")
