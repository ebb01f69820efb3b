"""open-r1 Codeforces (``open-r1/codeforces``), judged as open-r1's piston package judges it.

``id`` (``"2063/F2"``), ``official_tests`` (``{input, output}``),
``generated_checker`` (Python, run with piston's argument order by
``shipped/cf_checker.py``), ``input_mode`` (``file``: ``input.txt`` /
``output.txt``), ``time_limit`` (s, the same for Python as for C++),
``memory_limit`` (MB). Generated tests live outside the row: put them in a
``generated_tests`` list of ``{input, output}`` beside ``official_tests``.
Interactive rows (``interaction_format``) have no interactor in the row and
cf_scoring cannot judge them either: they are reported, not scored.
"""

from __future__ import annotations

from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile, replace_run
from .shipped import source

NAME = "open_r1_codeforces"


def detect(row: dict[str, Any]) -> str | None:
    if "official_tests" in row or ("generated_checker" in row and "contest_id" in row):
        return NAME
    return None


def row_id(row: dict[str, Any]) -> str | None:
    return str(row["id"]) if row.get("id") not in (None, "") else None


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    if row.get("interaction_format"):
        raise RowError("an interactive problem: the row carries no interactor (open-r1 cannot judge it either)")
    tests = list(build.parse(row.get("official_tests") or [], "official_tests"))
    tests += list(
        build.parse(row.get("generated_tests") or [], "generated_tests")
        if isinstance(row.get("generated_tests"), list | str)
        else []
    )
    if not tests:
        raise RowError("no tests (open-r1 gives such a problem no reward)")
    try:
        inputs = [str(t["input"]).replace("\r", "") for t in tests]
        outputs = [str(t["output"]) for t in tests]
    except (KeyError, TypeError) as exc:
        raise RowError(f"official_tests: not a list of {{input, output}} ({exc})") from None
    time_s = row.get("time_limit") if isinstance(row.get("time_limit"), int | float) else None
    memory_mb = row.get("memory_limit") if isinstance(row.get("memory_limit"), int | float) else None
    if row.get("input_mode") == "file":
        p = replace_run(p, file_io=True)
    problem = build.io_problem(task_id, fmt, p, inputs, outputs, time_s=time_s, memory_mb=memory_mb)
    checker = row.get("generated_checker")
    if isinstance(checker, str) and checker.strip():
        files = {"row_checker.py": checker.encode()}
        problem.checker = pb.JudgeProgram(language="python", source=source("cf_checker.py"), files=files)
    return problem
