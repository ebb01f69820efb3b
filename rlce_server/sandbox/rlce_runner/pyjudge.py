"""Runs a problem's Python checker or interactor as testlib would have it end.

testlib's exit codes give 1 to a wrong answer and 3 to the judge's own
failure, but a Python script that raises exits 1 too: run under this wrapper
(``python3 pyjudge.py judge.py <input> <output> <answer>``), an uncaught
exception is the judge failing (exit 3), never a verdict on the candidate.
Shipped in every image (it is part of the runner package), as the Python
interpreter is.
"""

import runpy
import sys
import traceback

FAIL = 3

if __name__ == "__main__":
    judge = sys.argv[1]
    sys.argv = sys.argv[1:]
    try:
        runpy.run_path(judge, run_name="__main__")
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        sys.exit(FAIL)
