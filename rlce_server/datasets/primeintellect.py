"""PrimeIntellect's verifiable-coding-problems (SYNTHETIC-1), open-r1's re-export, INTELLECT-3.

* ``primeintellect``: ``problem_id``, ``verification_info`` (JSON or a Python
  literal; a struct in open-r1's re-export) ``{language, test_cases: [{type:
  stdin_stdout | function_call, input, output, fn_name?}]}``. Function-call
  tests are call tests only when every test is one (genesys's rule), else
  all run as stdin.
* ``intellect3``: ``info.verification_info`` ``{test_case_inputs,
  test_case_outputs, fn_name, timeout}`` (inputs: one Python value a line).
"""

from __future__ import annotations

import ast
from typing import Any

from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "primeintellect"
INTELLECT3 = "intellect3"


def _intellect3_info(row: dict[str, Any]) -> dict[str, Any] | None:
    info = row.get("info")
    info = build.parse(info, "info") if isinstance(info, str) else info
    vi = info.get("verification_info") if isinstance(info, dict) else row.get("verification_info")
    vi = build.parse(vi, "verification_info") if isinstance(vi, str) else vi
    return vi if isinstance(vi, dict) and "test_case_inputs" in vi else None


def detect(row: dict[str, Any]) -> str | None:
    if "info" in row or "verification_info" in row:
        try:
            if _intellect3_info(row) is not None:
                return INTELLECT3
        except RowError:
            return None
    if "verification_info" in row and ("problem_id" in row or "gold_standard_solution" in row):
        return NAME
    return None


def row_id(row: dict[str, Any]) -> str | None:
    for key in ("problem_id", "id", "in_source_id"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    return None


def _value(v: Any) -> Any:
    """open-r1 types every field as a string holding the Python/JSON literal."""
    if isinstance(v, str):
        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return v
    return v


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    if fmt == INTELLECT3:
        vi = _intellect3_info(row)
        assert vi is not None
        ins, outs = list(vi["test_case_inputs"]), list(vi["test_case_outputs"])
        fn = vi.get("fn_name") or None
        timeout = vi.get("timeout") if isinstance(vi.get("timeout"), int | float) else None
        if fn:
            try:
                calls = [
                    ([_value(line) for line in str(i).split("\n")], build.parse(o, "output"))
                    for i, o in zip(ins, outs, strict=True)
                ]
            except ValueError as exc:
                raise RowError(f"test_case_inputs/outputs: {exc}") from None
            return build.problem(task_id, fmt, p, build.call_tests(fn, True, calls, p, wrapped=True), time_s=timeout)
        return build.io_problem(
            task_id,
            fmt,
            p,
            [build.parse(i, "input") for i in ins],
            [build.parse(o, "output") for o in outs],
            time_s=timeout,
        )
    vi = build.parse(row.get("verification_info"), "verification_info")
    cases = vi.get("test_cases") if isinstance(vi, dict) else None
    if not isinstance(cases, list) or not cases:
        raise RowError("verification_info: no test_cases")
    meta = build.parse(row.get("metadata") or "{}", "metadata")
    time_s = (
        meta.get("time_limit") if isinstance(meta, dict) and isinstance(meta.get("time_limit"), int | float) else None
    )
    time_s = time_s if p.name == "strict" else None
    if all(c.get("type") == "function_call" for c in cases):
        fn = str(cases[0].get("fn_name") or "")
        if not fn:
            raise RowError("function_call tests without fn_name")
        calls = []
        for c in cases:
            args = _value(c.get("input"))
            calls.append((list(args) if isinstance(args, list | tuple) else [args], _value(c.get("output"))))
        return build.problem(task_id, fmt, p, build.call_tests(fn, True, calls, p, wrapped=True), time_s=time_s)
    return build.io_problem(
        task_id,
        fmt,
        p,
        [build.text(c.get("input")) for c in cases],
        [build.text(c.get("output")) for c in cases],
        time_s=time_s,
    )
