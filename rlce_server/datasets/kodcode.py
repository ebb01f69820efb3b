"""KodCode (``KodCode/KodCode-V1`` and the pipeline's trial triplets).

``question_id``, ``question``, ``solution``, ``test`` (a pytest file) in
KodCode-V1; the pipeline's trials carry ``test_code``. The pipeline runs
``test_solution.py`` = ``"from solution import *\\n\\n" + test`` with pytest
(pipeline/step2.2_gen_unit_tests.py:102, run_test.sh): rlce adds the same
import, and scores one test per test function (``pytest_split``); a file
with no test function is never a pass.
"""

from __future__ import annotations

from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from . import build, pytest_split
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "kodcode"
IMPORT = "from solution import *\n\n"


def detect(row: dict[str, Any]) -> str | None:
    test = row.get("test_code", row.get("test"))
    if isinstance(test, str) and ("question_id" in row or ("question" in row and "def test" in test)):
        return NAME
    return None


def row_id(row: dict[str, Any]) -> str | None:
    return str(row["question_id"]) if row.get("question_id") not in (None, "") else None


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    test = row.get("test_code", row.get("test"))
    if not isinstance(test, str) or not test.strip():
        raise RowError("no test file (test / test_code)")
    text = test if test.startswith(IMPORT) else IMPORT + test
    tests = [pb.TestCase(name=name, assertion=pb.AssertTest(code=code)) for name, code in pytest_split.split(text)]
    return build.problem(task_id, fmt, p, tests)
