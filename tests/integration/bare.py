"""Reference outcomes from running trusted benchmark programs bare.

Only the datasets' own reference solutions run here, never candidates: they
give the expected per-test outcome that the sandboxed run must reproduce.
"""

from __future__ import annotations

import json
import subprocess
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
    _, status = os.waitpid(pid, 0)
    out.append(os.waitstatus_to_exitcode(status) == 0)
print(json.dumps(out))
"""


def assert_outcomes(program: str, tests: list[str], timeout: float = 60) -> list[bool]:
    proc = subprocess.run(
        [PYTHON, "-c", _PER_ASSERT],
        input=json.dumps({"program": program, "tests": tests}),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/tmp",
    )
    result: list[bool] = json.loads(proc.stdout)
    return result


def stdio_run(program: str, stdin: str, timeout: float) -> tuple[str, str]:
    """('exited' | 'timeout', stdout) of one bare run; exit code folded in."""
    try:
        proc = subprocess.run(
            [PYTHON, "-c", program], input=stdin.encode(), capture_output=True, timeout=timeout, cwd="/tmp"
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if proc.returncode != 0:
        return f"exit{proc.returncode}", proc.stdout.decode("utf-8", "replace")
    return "exited", proc.stdout.decode("utf-8", "replace")


def parallel(fn: Any, items: list[Any], workers: int = 2) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
