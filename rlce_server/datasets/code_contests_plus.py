"""Code-Contests-Plus (``ByteDance-Seed/Code-Contests-Plus``), as CodeContests-O reads it.

Fields (docs/DATASETS.md has the caveats): ``id``, ``title``,
``description``, ``checker`` (C++ testlib source or null), the tests in
``test_cases`` (or ``tests``) as ``{input, output}`` (strings, or
``{"stdin"}`` / ``{"stdout"}`` dicts), ``time_limit`` (ms when above 100,
else s), ``memory_limit`` (MB). A checker runs as CC+'s evaluator runs it:
after the text compare failed (``shipped/ccplus_checker.cpp``), with
testlib.h beside it; rlce's ``strict`` profile asks the checker every time.

rlce does not ship testlib.h: the checker's header is the user's own copy,
named by ``RLCE_TESTLIB_H`` (``rlce eval`` / ``rlce convert --testlib``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile
from .shipped import source

NAME = "code_contests_plus"


def detect(row: dict[str, Any]) -> str | None:
    if "correct_submissions" in row or "incorrect_submissions" in row or "generator" in row:
        return NAME
    if "checker" in row and ("test_cases" in row or "tests" in row) and "id" in row:
        return NAME
    return None


def row_id(row: dict[str, Any]) -> str | None:
    return str(row["id"]) if row.get("id") not in (None, "") else None


def _side(value: Any, key: str) -> str:
    return str(value.get(key, "")) if isinstance(value, dict) else build.text(value)


TESTLIB_ENV = "RLCE_TESTLIB_H"


def testlib_header() -> bytes:
    """The user's testlib.h, which the row's checker includes."""
    path = os.environ.get(TESTLIB_ENV, "")
    if not path:
        raise RowError(
            f"checker: a C++ testlib checker needs testlib.h, which rlce does not ship; "
            f"name your copy with --testlib PATH (or {TESTLIB_ENV})"
        )
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RowError(f"checker: {TESTLIB_ENV}={path}: {exc.strerror}") from None


def checker(row_checker: str, fast_path: bool) -> pb.JudgeProgram:
    files = {"testlib.h": testlib_header()}
    if not fast_path:
        return pb.JudgeProgram(language="cpp", source=row_checker, files=files)
    files["row_checker.cpp"] = row_checker.encode()
    return pb.JudgeProgram(language="cpp", source=source("ccplus_checker.cpp"), files=files)


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    cases = build.parse(row.get("test_cases", row.get("tests")) or "[]", "test_cases")
    if isinstance(cases, dict) and "input" in cases:  # columns: {input: [...], output: [...]}
        cases = [{"input": i, "output": o} for i, o in zip(cases["input"], cases["output"], strict=True)]
    try:
        pairs = [(_side(c["input"], "stdin"), _side(c["output"], "stdout")) for c in cases]
    except (KeyError, TypeError) as exc:
        raise RowError(f"test_cases: not a list of {{input, output}} ({exc})") from None
    limit = row.get("time_limit")
    time_s = (limit / 1000 if limit > 100 else float(limit)) if isinstance(limit, int | float) and limit > 0 else None
    memory = row.get("memory_limit")
    memory_mb = (memory / (1 << 20) if memory > 65536 else float(memory)) if isinstance(memory, int | float) else None
    problem = build.io_problem(task_id, fmt, p, [a for a, _ in pairs], [b for _, b in pairs], memory_mb=memory_mb)
    row_checker = row.get("checker")
    if isinstance(row_checker, str) and row_checker.strip():
        problem.checker = checker(row_checker, fast_path=p.name != "strict")
    if p.name == "strict" and time_s:
        problem.limits = build.limits(p, len(problem.tests), time_s, memory_mb)
    return problem
