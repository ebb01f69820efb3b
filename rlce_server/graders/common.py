"""What every kind shares: the outcome's measured fields, then the limits.

Order is the same for every kind: set-up faults are ours; then the limits
(time, output, memory) the candidate hit; only then what the test kind itself
says. Only positive evidence passes.
"""

from __future__ import annotations

import signal as _signal

from ..domain import Limits, TestCase, TestOutcome, Verdict
from ..sandbox.rlce_runner.protocol import Outcome, RunFacts

SHOWN_BYTES = 4096


def last_line(data: bytes) -> str:
    lines = [line for line in data.strip().split(b"\n") if line.strip()]
    return lines[-1].decode("utf-8", "replace")[:500] if lines else ""


def measured(test: TestCase, facts: RunFacts) -> TestOutcome:
    """The test's outcome with what was measured, its verdict not yet decided.
    CPU time and memory are the program's whole process tree's."""
    p = facts.program
    return TestOutcome(
        name=test.name,
        verdict=Verdict.RUNTIME_ERROR,
        wall_time_s=facts.wall_s,
        cpu_time_s=max(facts.cpu_s, p.cpu_s),
        peak_memory_kb=max(facts.peak_memory_kb, p.maxrss_kb),
        exit_code=p.exit_code,
        signal=p.signal,
        stdout=p.stdout[:SHOWN_BYTES],
        stderr=p.stderr[-SHOWN_BYTES:],
        hacks=["denied_syscall"] if facts.denied_syscalls else [],
    )


# What the trainer reads in a failed test's message when the sandbox stopped something.
HACK_NOTES = {
    "exit_without_record": "the program ended with status 0 before the test ran to its end",
    "nonce_missing": "the harness's nonce was gone before the test ran (read by someone else)",
    "driver_retired": "the test left a thread behind",
}


def note_hacks(out: TestOutcome, facts: RunFacts) -> TestOutcome:
    """A failed test's message says what the sandbox stopped (tampering shows in training logs)."""
    if out.verdict is Verdict.ACCEPTED or not out.hacks:
        return out
    notes = [HACK_NOTES[h] for h in out.hacks if h in HACK_NOTES and HACK_NOTES[h] not in out.message]
    if facts.denied_syscalls:
        calls = ", ".join(f"{name} x{n}" for name, n in sorted(facts.denied_syscalls.items())[:5])
        notes.append(f"it tried system calls the sandbox denies ({calls})")
    if notes:
        out.message = (out.message + " " if out.message else "") + "[rlce stopped: " + "; ".join(notes) + "]"
    return out


def limit_verdict(out: TestOutcome, facts: RunFacts, limits: Limits) -> TestOutcome | None:
    """The limit the program hit, if any (decided before anything the test says)."""
    sig = out.signal
    cpu_over = facts.outcome is Outcome.CPU_LIMIT or out.cpu_time_s > limits.time_limit_s
    if cpu_over or sig == _signal.SIGXCPU:
        out.verdict = Verdict.TIME_LIMIT_EXCEEDED
        out.message = f"CPU time limit {limits.time_limit_s:g}s exceeded ({out.cpu_time_s:.3f}s of CPU)"
        return out
    if facts.outcome is Outcome.TIMEOUT:
        out.verdict = Verdict.TIME_LIMIT_EXCEEDED
        out.message = (
            f"wall time limit {limits.wall_time_limit_s:g}s exceeded "
            f"(it used {out.cpu_time_s:.3f}s of CPU: sleeping or blocked)"
        )
        return out
    if facts.outcome is Outcome.OUTPUT_LIMIT:
        out.verdict = Verdict.OUTPUT_LIMIT_EXCEEDED
        out.message = f"output exceeded {limits.output_limit_bytes} bytes"
        return out
    mem_over = facts.outcome is Outcome.MEMORY_LIMIT or facts.oom_killed
    if mem_over or (out.exit_code != 0 and last_line(facts.program.stderr).startswith("MemoryError")):
        out.verdict = Verdict.MEMORY_LIMIT_EXCEEDED
        out.message = f"memory limit {limits.memory_limit_mb} MB exceeded"
        return out
    return None
