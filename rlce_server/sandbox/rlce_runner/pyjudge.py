"""Runs a problem's Python checker or interactor as testlib would have it end.

testlib's exit codes give 1 to a wrong answer and 3 to the judge's own
failure, but a Python script that raises exits 1 too: here an uncaught
exception is the judge failing (exit 3), never a verdict on the candidate.

The runner forks it from the warm zygote (no interpreter start per test:
a checker runs once per test); ``python3 pyjudge.py judge.py <args>`` does
the same from a shell, for a judge's author.
"""

import os
import runpy
import sys
import traceback
from typing import NoReturn

FAIL = 3


def run_judge(script: str, args: list[str]) -> NoReturn:
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(script))  # its support files beside it
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if not isinstance(code, int) and code is not None:
            print(code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        status = FAIL
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(status & 0xFF)


if __name__ == "__main__":
    run_judge(sys.argv[1], sys.argv[2:])
