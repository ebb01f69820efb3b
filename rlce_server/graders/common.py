"""From the runner's raw facts about one test to its verdict.

Order matters and is the same for every kind: set-up faults are ours
(SandboxFault); then the limits (time, output, memory) the candidate hit;
then what the test kind itself says. Only positive evidence passes: a
driver record ``passed`` for an assertion, a returned value equal to the
expected one for a call, exit 0 *and* matching stdout for stdio.
"""

from __future__ import annotations

import base64
import signal as _signal
from typing import Any

from ..domain import AssertSpec, CallSpec, Limits, StdioSpec, TestCase, TestOutcome, Verdict
from ..errors import SandboxFault
from . import output, values

SHOWN_BYTES = 4096
_SYNTAX = (b"SyntaxError", b"IndentationError", b"TabError")


def _last_line(data: bytes) -> str:
    lines = [line for line in data.strip().split(b"\n") if line.strip()]
    return lines[-1].decode("utf-8", "replace")[:500] if lines else ""


def _driver_verdict(record: dict[str, Any]) -> tuple[Verdict, str]:
    status = record.get("status")
    message = str(record.get("message", ""))[:2000]
    if status == "passed":
        return Verdict.ACCEPTED, ""
    if status == "assertion_failed":
        return Verdict.WRONG_ANSWER, message
    if status == "load_error":
        if record.get("syntax"):
            return Verdict.COMPILE_ERROR, message
        return Verdict.RUNTIME_ERROR, f"the program failed while loading: {message}"
    if "MemoryError" in message.split(":", 1)[0]:
        return Verdict.MEMORY_LIMIT_EXCEEDED, message
    if status in ("runtime_error", "program_gone", "test_raised", "returned"):
        return Verdict.RUNTIME_ERROR, message
    return Verdict.RUNTIME_ERROR, f"test did not run to its end: {message}"


def _exec_assert_verdict(facts: dict[str, Any], out: TestOutcome, stderr: bytes) -> tuple[Verdict, str]:
    """A compiled runtime's assertion test: the harness's nonce is the only proof.

    Exit status 0 alone proves nothing (a constructor can ``_exit(0)`` before
    the test ran); the runner's nonce comes back only from the harness, after
    the test's main returned, so a pass needs it *and* a clean exit.
    """
    last = _last_line(stderr)
    if facts.get("record_ok") and out.exit_code == 0 and not out.signal:
        return Verdict.ACCEPTED, ""
    if facts.get("assert_failed"):
        return Verdict.WRONG_ANSWER, last or "an assertion failed"
    if out.exit_code == 0 and not out.signal:
        return Verdict.WRONG_ANSWER, "the program ended with status 0 before the test ran to its end"
    how = f"killed by signal {out.signal}" if out.signal else f"exit code {out.exit_code}"
    return Verdict.RUNTIME_ERROR, how + (f": {last}" if last else "")


def grade(test: TestCase, raw: dict[str, Any], limits: Limits) -> TestOutcome:
    if raw.get("setup_failed"):
        raise SandboxFault("a sandbox process failed during set-up, before the program ran")
    stdout = base64.b64decode(raw.get("stdout", ""))
    stderr = base64.b64decode(raw.get("stderr", ""))
    out = TestOutcome(
        name=test.name,
        verdict=Verdict.RUNTIME_ERROR,
        wall_time_s=float(raw.get("wall_s", 0.0)),
        cpu_time_s=float(raw.get("cpu_s", 0.0)),
        peak_memory_kb=int(raw.get("maxrss_kb", 0)),
        exit_code=int(raw.get("exit_code", 0)),
        signal=int(raw.get("signal", 0)),
        stdout=stdout[:SHOWN_BYTES],
        stderr=stderr[-SHOWN_BYTES:],
    )
    sig = out.signal
    outcome = raw.get("outcome")
    if outcome == "timeout":
        out.verdict, out.message = Verdict.TIME_LIMIT_EXCEEDED, f"wall time limit {limits.time_limit_s}s exceeded"
        return out
    if outcome == "output_limit":
        out.verdict = Verdict.OUTPUT_LIMIT_EXCEEDED
        out.message = f"output exceeded {limits.output_limit_bytes} bytes"
        return out
    if sig == _signal.SIGXCPU or (sig == _signal.SIGKILL and out.cpu_time_s >= limits.cpu_time_limit_s):
        out.verdict, out.message = Verdict.TIME_LIMIT_EXCEEDED, f"CPU time limit {limits.cpu_time_limit_s}s exceeded"
        return out
    if raw.get("oom_killed") or (out.exit_code != 0 and _last_line(stderr).startswith("MemoryError")):
        out.verdict, out.message = Verdict.MEMORY_LIMIT_EXCEEDED, f"memory limit {limits.memory_limit_mb} MB exceeded"
        return out

    spec = test.spec
    if isinstance(spec, StdioSpec):
        if sig:
            out.verdict, out.message = Verdict.RUNTIME_ERROR, f"killed by signal {sig}"
        elif out.exit_code != 0:
            last = _last_line(stderr)
            syntax = any(last.encode().startswith(s) for s in _SYNTAX)
            out.verdict = Verdict.COMPILE_ERROR if syntax else Verdict.RUNTIME_ERROR
            out.message = f"exit code {out.exit_code}" + (f": {last}" if last else "")
        else:
            ok, why = output.compare(stdout, spec.expected_stdout, spec.match, spec.float_tolerance)
            out.verdict, out.message = (Verdict.ACCEPTED, "") if ok else (Verdict.WRONG_ANSWER, why)
        return out

    if "exec_assert" in raw:
        out.verdict, out.message = _exec_assert_verdict(raw["exec_assert"], out, stderr)
        return out
    record = raw.get("driver")
    if not isinstance(record, dict):
        raise SandboxFault("the test driver left no record")
    if isinstance(spec, CallSpec) and record.get("status") == "returned":
        ok, why = values.judge(record.get("value"), spec.expected_json, spec.float_tolerance)
        out.verdict, out.message = (Verdict.ACCEPTED, "") if ok else (Verdict.WRONG_ANSWER, why)
        return out
    if isinstance(spec, (AssertSpec, CallSpec)):
        out.verdict, out.message = _driver_verdict(record)
        if isinstance(spec, CallSpec) and out.verdict is Verdict.ACCEPTED:
            out.verdict = Verdict.RUNTIME_ERROR  # a call test passes only on a returned value
    return out
