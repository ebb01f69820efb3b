"""TACO (``BAAI/TACO``) rows, and NeMo Gym's ``code_gen`` rows of TACO problems.

* ``taco``: every column a string; ``input_output`` = JSON ``{inputs,
  outputs[, fn_name]}``; call-based rows (``fn_name``, ``starter_code``,
  often ``class Solution``) expect ``out == exp or out == exp[0]``.
* ``nemo_gym``: ``verifier_metadata`` (JSON) ``{"unit_tests": {inputs,
  outputs}}``, judged by NeMo Gym's vendored LiveCodeBench grader.
"""

from __future__ import annotations

from typing import Any

from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "taco"
NEMO_GYM = "nemo_gym"
_TACO_ONLY = ("skill_types", "raw_tags", "Expected Auxiliary Space", "Expected Time Complexity", "picture_num")


def detect(row: dict[str, Any]) -> str | None:
    if "verifier_metadata" in row and "unit_tests" in str(row["verifier_metadata"]):
        return NEMO_GYM
    if "input_output" in row and (any(k in row for k in _TACO_ONLY) or "problem_id" not in row):
        return NAME
    return None


def row_id(row: dict[str, Any]) -> str | None:
    return str(row["hash_id"]) if row.get("hash_id") else None


def io_convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile, field: str = "input_output") -> DatasetProblem:
    raw = row.get(field)
    if raw in (None, ""):
        raise RowError(f"{field}: empty (the row has no tests)")
    io_ = build.parse(raw, field)
    if not isinstance(io_, dict) or "inputs" not in io_ or "outputs" not in io_:
        raise RowError(f"{field}: no inputs/outputs")
    fn = io_.get("fn_name") or None
    starter = str(row.get("starter_code") or "")
    return build.io_problem(task_id, fmt, p, io_["inputs"], io_["outputs"], fn, "class Solution" in starter)


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    if fmt == NEMO_GYM:
        meta = build.parse(row["verifier_metadata"], "verifier_metadata")
        unit = meta.get("unit_tests") if isinstance(meta, dict) else None
        if not isinstance(unit, dict):
            raise RowError("verifier_metadata: no unit_tests")
        fn = unit.get("fn_name") or None
        return build.io_problem(task_id, fmt, p, unit.get("inputs", []), unit.get("outputs", []), fn)
    return io_convert(row, fmt, task_id, p)
