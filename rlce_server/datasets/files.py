"""``rlce convert``: dataset rows in, an rlce problems file out (what ``rlce eval`` reads back).

Each line is one problem in the form ``DatasetProblem.to_json`` writes:
tests and judge in proto JSON, limits, the harness and header the grader's
profile puts around a program, the credit rules, and ``error`` for a row
that could not be read (kept, so positions and counts stay the input's).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import convert as convert_row
from .profiles import Credit


def convert_file(
    source: Path, out: Path, fmt: str | None = None, profile: str | None = None, credit: Credit | None = None
) -> tuple[int, int]:
    """(problems written, of which malformed)."""
    from ..evaluation.formats import read_rows

    rows = read_rows(source)
    if not rows:
        raise ValueError(f"{source}: no rows")
    broken = 0
    with out.open("w", encoding="utf-8") as fh:
        for index, row in enumerate(rows):
            problem = convert_row(row, fmt=fmt, profile_name=profile, index=index, credit=credit)
            broken += bool(problem.error)
            fh.write(json.dumps(problem.to_json(), ensure_ascii=False) + "\n")
    return len(rows), broken
