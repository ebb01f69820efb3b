"""Reference outcomes from running trusted benchmark programs bare.

Only the datasets' own reference solutions run here, never candidates: they
give the expected per-test outcome that the sandboxed run must reproduce.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PYTHON = "/usr/bin/python3"

# Each assert runs in a fresh fork of an interpreter that ran nothing yet, as
# ``program + setup + assert`` would as a plain script.
_PER_ASSERT = r"""
import json, os, sys
data = json.load(sys.stdin)
out = []
for test in data["tests"]:
    pid = os.fork()
    if pid == 0:
        try:
            g = {"__name__": "__main__"}
            exec(compile(data["program"], "main.py", "exec"), g)
            exec(compile(test, "test.py", "exec"), g)
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status, usage = os.wait4(pid, 0)
    out.append([os.waitstatus_to_exitcode(status) == 0, usage.ru_utime + usage.ru_stime])
print(json.dumps(out))
"""


def assert_outcomes(program: str, tests: list[str], timeout: float = 60) -> list[tuple[bool, float]]:
    """Per assert: whether it passed, and the CPU seconds its fork used (user + system)."""
    proc = subprocess.run(
        [PYTHON, "-c", _PER_ASSERT],
        input=json.dumps({"program": program, "tests": tests}),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/tmp",
    )
    return [(bool(ok), float(cpu)) for ok, cpu in json.loads(proc.stdout)]


def stdio_run(program: str, stdin: str, timeout: float) -> tuple[str, str, float]:
    """('exited' | 'timeout' | 'exitN', stdout, CPU seconds) of one bare run.

    The child is reaped here with wait4 for its CPU time (user + system),
    the measure a CPU-time limit is decided by."""
    proc = subprocess.Popen(
        [PYTHON, "-c", program], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/tmp"
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else b""))
    reader.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    out = b"".join(chunks).decode("utf-8", "replace")
    if killed.is_set():
        return "timeout", "", cpu
    if proc.returncode != 0:
        return f"exit{proc.returncode}", out, cpu
    return "exited", out, cpu


def parallel(fn: Any, items: list[Any], workers: int = 2) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
