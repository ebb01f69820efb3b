"""How the official graders run a stdin/stdout program, reproduced in the sandbox.

rlce sends this file as the program, with the candidate's source and the
profile's settings in a footer (``run(SOURCE, MODE, HEADER, ...)``). Stdlib
only. Modes:

* ``lcb``: LiveCodeBench ``grade_stdio`` (lcb_runner/evaluation/testing_util.py):
  the last ``if __name__ == '__main__':`` block un-indented (clean_if_name),
  every non-import statement moved into ``def wrapped_function()``
  (make_function) after the grader's import header, run in a module named
  ``tmp_sol`` with stdin mocked (``readline`` yields lines without their
  newline and raises at the end; ``open`` returns the input), stdout captured
  in a StringIO (``sys.stdout.buffer`` does not exist, ``os.write(1, ...)``
  is lost), ``SystemExit`` swallowed, any other exception a runtime error.
* ``apps``: APPS ``run_test`` (hendrycks/apps eval/testing_util.py): the
  program turned into ``def code():`` line by line (import lines before the
  first other line stay at the top), run in ``tmp_sol`` with the same mocks,
  ``exit``/``quit`` set to None (reliability_guard).
* ``taco``: TACO ``synthesize_std_code`` (FlagOpen/TACO metrics/testing_util.py):
  the header inserted before the first non-import line and the result run as
  a script; the program must also compile wrapped in ``def code():`` (else
  the grader fails the whole problem) and a non-zero exit fails the test.
* ``script``: the header then the program, run as ``__main__``.

Options: ``ignore_exit`` (DeepCoder's taco.py and genesys ignore the return
code: an exception or ``sys.exit(n)`` ends the program with status 0 and
the output so far), ``merge_stderr`` (genesys compares stdout and stderr
interleaved), ``file_io`` (open-r1's ``input_mode == "file"``: ``input.txt``
reads stdin, what ``output.txt`` gets is the output, stdout is ignored),
``stdin_buffer`` (LCB's current mock has ``sys.stdin.buffer``; rllm's copy
of LCB does not).
"""

from __future__ import annotations

import ast
import builtins
import io
import os
import sys
import traceback
import types
from typing import Any


def lcb_wrap(source: str, header: str) -> ast.Module:
    """clean_if_name + make_function, as an AST (no unparse round trip)."""
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
        tree.body = tree.body[:-1] + last.body
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)]
    others = [s for s in tree.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    fn = ast.FunctionDef(
        name="wrapped_function",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=others or [ast.Pass()],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    module = ast.Module(body=[*ast.parse(header).body, *imports, fn], type_ignores=[])
    return ast.fix_missing_locations(module)


def apps_wrap(source: str, header: str) -> str:
    """APPS's ``def code():`` wrapping, line by line."""
    lines = [
        x + "\n" if x.startswith("from ") or x.startswith("import ") else "\t" + x + "\n" for x in source.split("\n")
    ]
    out, started = "", False
    for line in lines:
        if line.startswith("\t") and not started:
            out += "stdin = sys.stdin\nstdout = sys.stdout\ndef code():\n" + line
            started = True
        elif started and (line.startswith("from ") or line.startswith("import ")):
            out += "\t" + line
        else:
            out += line
    return header + out


def taco_split(source: str, header: str) -> tuple[str, str]:
    """TACO's two programs: (wrapped in ``def code():``, for the compile check; to run)."""
    lines = source.split("\n")
    kinds = [2 if "import *" in x else 1 if x.startswith("from ") or x.startswith("import ") else 0 for x in lines]
    star = "\n".join(x.lstrip("\t") for x, k in zip(lines, kinds) if k == 2)
    wrapped, run, started = "", "", False
    for x, k in zip(lines, kinds):
        if k == 0 and not started:
            run += header + "\nstdin = sys.stdin\nstdout = sys.stdout\n" + x + "\n"
            wrapped += header + star + "\nstdin = sys.stdin\nstdout = sys.stdout\ndef code():\n\t" + x + "\n"
            started = True
        else:
            run += x + "\n"
            if k < 2:
                wrapped += ("\t" if started else "") + x + "\n"
    return wrapped, run


class _Stdin(io.StringIO):
    """The graders' mocked stdin: ``readline`` without newlines, raising at the end."""

    def __init__(self, data: str, with_buffer: bool) -> None:
        super().__init__(data)
        self._data = data
        self._lines = iter(data.split("\n"))
        if with_buffer:
            self.buffer = io.BytesIO(data.encode())  # type: ignore[misc]

    def readline(self, *args: Any) -> str:  # type: ignore[override]
        return next(self._lines)

    def readlines(self, *args: Any) -> list[str]:  # type: ignore[override]
        return self._data.split("\n")

    def read(self, *args: Any) -> str:
        return self._data


def _in_process(code: Any, data: str, entry: str, with_buffer: bool, no_exit: bool) -> int:
    """Exec ``code`` as module ``tmp_sol`` and call ``entry`` with the graders' mocks."""
    from unittest import mock

    module = types.ModuleType("tmp_sol")
    try:
        exec(compile(code, "<solution>", "exec"), module.__dict__)
        fn = getattr(module, entry)
    except BaseException:
        traceback.print_exc()
        return 1
    real_stdout, real_stdin, real_open = sys.stdout, sys.stdin, builtins.open
    captured = io.StringIO()
    saved_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    status = 0
    if no_exit:
        builtins.exit = None  # type: ignore[assignment]
        builtins.quit = None  # type: ignore[assignment]
    try:
        sys.stdin = _Stdin(data, with_buffer)
        builtins.open = mock.mock_open(read_data=data)
        sys.stdout = captured
        os.dup2(devnull, 1)  # what bypasses sys.stdout is not the captured output
        fn()
    except SystemExit:
        pass
    except BaseException:
        status = 1
    finally:
        error = sys.exc_info()
        os.dup2(saved_fd, 1)
        sys.stdout, sys.stdin, builtins.open = real_stdout, real_stdin, real_open
    if status:
        traceback.print_exception(*error)
        return status
    sys.stdout.write(captured.getvalue())
    return 0


def _script(code: str) -> int:
    """Run ``code`` as ``__main__`` (python3 would); its exit status."""
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(code, "main.py", "exec"), namespace)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return (exc.code or 0) & 0xFF
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _file_io() -> io.StringIO:
    """open('input.txt') reads stdin; open('output.txt', 'w') writes what is returned."""
    data = sys.stdin.read()
    written = io.StringIO()
    real_open = builtins.open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        name = os.path.basename(str(file))
        if name == "input.txt" and "r" in mode:
            return io.BytesIO(data.encode()) if "b" in mode else io.StringIO(data)
        if name == "output.txt" and ("w" in mode or "a" in mode):
            written.close = lambda: None  # type: ignore[method-assign]
            return written
        return real_open(file, mode, *args, **kwargs)

    builtins.open = fake_open
    return written


def run(
    source: str,
    mode: str,
    header: str = "",
    *,
    ignore_exit: bool = False,
    merge_stderr: bool = False,
    file_io: bool = False,
    stdin_buffer: bool = True,
) -> None:
    if merge_stderr:
        sys.stdout.flush()
        os.dup2(1, 2)
    written = _file_io() if file_io else None
    if file_io:
        devnull = os.open(os.devnull, os.O_WRONLY)
        real_out = os.dup(1)
        os.dup2(devnull, 1)
    if mode == "lcb":
        data = sys.stdin.read()
        try:
            tree: Any = lcb_wrap(source, header)
        except SyntaxError:
            tree = source  # make_function gave up: the source fails as it is
        status = _in_process(tree, data, "wrapped_function", stdin_buffer, False)
    elif mode == "apps":
        status = _in_process(apps_wrap(source, header), sys.stdin.read(), "code", stdin_buffer, True)
    elif mode == "taco":
        wrapped, runnable = taco_split(source, header)
        try:
            compile(wrapped, "<solution>", "exec")
        except (SyntaxError, ValueError) as exc:  # TACO fails the problem: compile error
            print(f"TACO's harness cannot compile the program wrapped in def code(): {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        status = _script(runnable)
    else:
        status = _script(header + source)
    sys.stdout.flush()
    if written is not None:
        os.dup2(real_out, 1)
        sys.stdout.write(written.getvalue())
        sys.stdout.flush()
    raise SystemExit(0 if ignore_exit else status)
