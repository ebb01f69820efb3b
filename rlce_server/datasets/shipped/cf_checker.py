"""open-r1 Codeforces: a row's ``generated_checker`` judged as piston judges it.

guipenedo/piston packages/codeforces/1.0.0/run runs ``python3 checker.py
<input> <correct_output> <solution_output>`` (input, *expected*, participant:
not testlib's order) and accepts when it exits 0 and prints ``1`` or ``100``.
rlce calls this file testlib's way (``<input> <output> <answer>``) with the
row's checker beside it as ``row_checker.py``, swaps the two, and runs it in
this process. Whatever the row's checker does wrong (raises, exits non-zero,
prints anything else) rejects the output, as on piston.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys


def run_row_checker(path: str, args: list[str]) -> tuple[int, str]:
    """(exit status, stdout) of the row's checker run as ``python3 checker.py *args``."""
    with open(path, encoding="utf-8") as fh:
        code = compile(fh.read(), "checker.py", "exec")
    sys.argv = ["checker.py", *args]
    captured = io.StringIO()
    status = 0
    with contextlib.redirect_stdout(captured):
        try:
            exec(code, {"__name__": "__main__", "__file__": "checker.py"})
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # the row's checker crashed: piston sees a non-zero exit
            status = 1
            print(f"the row's checker raised {type(exc).__name__}: {exc}", file=sys.stderr)
    return status, captured.getvalue()


def main(argv: list[str]) -> int:
    given_input, output, answer = argv[:3]
    here = os.path.dirname(os.path.abspath(__file__))
    status, printed = run_row_checker(os.path.join(here, "row_checker.py"), [given_input, answer, output])
    verdict = "".join(printed.split())
    if status == 0 and verdict in ("1", "100"):
        return 0
    print(f"the row's checker said {printed.strip()[:200]!r} (exit {status})")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
