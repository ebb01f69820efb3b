"""APPS (``codeparrot/apps``): ``problem_id``, ``question``, ``input_output`` (JSON
string, ``""`` for rows without tests), ``starter_code``; the call-based
rows as TACO's."""

from __future__ import annotations

from typing import Any

from .problem import DatasetProblem
from .profiles import Profile
from .taco import io_convert

NAME = "apps"


def detect(row: dict[str, Any]) -> str | None:
    return NAME if "input_output" in row and "problem_id" in row else None


def row_id(row: dict[str, Any]) -> str | None:
    return str(row["problem_id"]) if row.get("problem_id") not in (None, "") else None


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    return io_convert(row, fmt, task_id, p)
