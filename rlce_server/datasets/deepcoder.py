"""DeepCoder (``agentica-org/DeepCoder-Preview-Dataset``) and rllm's test rows.

``problem`` + ``tests`` (a JSON string; ``metadata`` JSON beside it), and,
when rllm's pipeline set it, ``data_source``. The layout of ``tests`` says
which of rllm's graders applies when ``data_source`` does not:

* a list of ``{input, output, testtype}`` (LCB, functional names in
  ``metadata.func_name``): ``deepcoder_lcb``;
* ``{"functional": "def check(candidate): ..."}`` (LeetCodeDataset):
  ``deepcoder_leetcode``, one assertion test run after the program;
* ``{inputs, outputs[, fn_name]}`` (taco, apps, code_contests) or a list of
  ``{input, output[, type, fn_name]}`` (codeforces, primeintellect):
  ``deepcoder`` (taco.py: the 15 longest inputs, exit codes ignored).
"""

from __future__ import annotations

from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from . import build, livecodebench
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "deepcoder"
LCB_SOURCES = ("livecodebench", "lcbv5", "lcb")


def _shaped(tests: Any) -> bool:
    """rllm's test layouts (not rlce's own TestCase lists, nor assert lists)."""
    if isinstance(tests, dict):
        return "functional" in tests or ("inputs" in tests and "outputs" in tests)
    return isinstance(tests, list) and bool(tests) and all(isinstance(t, dict) and "input" in t for t in tests)


def detect(row: dict[str, Any]) -> str | None:
    tests = row.get("tests")
    if not ("problem" in row or len(row) <= 3):
        return None
    if isinstance(tests, str) and tests.lstrip()[:1] in "[{":
        try:
            tests = build.parse(tests, "tests")
        except RowError:
            return None
    return NAME if _shaped(tests) else None


def row_id(row: dict[str, Any]) -> str | None:
    for key in ("task_id", "id", "problem_id"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    return None


def default_profile(row: dict[str, Any]) -> str:
    tests = _tests(row)
    source = str(row.get("data_source") or "").lower()
    if isinstance(tests, dict) and "functional" in tests:
        return "deepcoder_leetcode"
    if source in LCB_SOURCES or (
        isinstance(tests, list) and any("testtype" in t for t in tests if isinstance(t, dict))
    ):
        return "deepcoder_lcb"
    return "deepcoder"


def _tests(row: dict[str, Any]) -> Any:
    return build.parse(row.get("tests"), "tests")


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    tests = _tests(row)
    if isinstance(tests, dict) and "functional" in tests:
        code = str(tests["functional"])
        return build.problem(task_id, fmt, p, [pb.TestCase(name="functional", assertion=pb.AssertTest(code=code))])
    if isinstance(tests, dict):
        if "inputs" not in tests or "outputs" not in tests:
            raise RowError("tests: no inputs/outputs")
        fn = tests.get("fn_name") or None
        return build.io_problem(task_id, fmt, p, tests["inputs"], tests["outputs"], fn, True, lenient_count=True)
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise RowError("tests: neither a list of tests nor {inputs, outputs}")
    if any("testtype" in t for t in tests):
        meta = build.parse(row.get("metadata") or "{}", "metadata")
        fn = meta.get("func_name") if isinstance(meta, dict) else None
        fn = fn or next((t["metadata"].get("func_name") for t in tests if isinstance(t.get("metadata"), dict)), None)
        inputs, outputs, fn = livecodebench.cases(tests, fn)
        return livecodebench.lcb_problem(task_id, fmt, p, inputs, outputs, fn, str(row.get("starter_code") or ""))
    fn = next((t.get("fn_name") for t in tests if t.get("fn_name")), None)
    if fn:
        inputs = [build.parse(t.get("input"), "input") for t in tests]
        outputs = [build.parse(t.get("output"), "output") for t in tests]
        return build.io_problem(task_id, fmt, p, inputs, outputs, fn, True)
    return build.io_problem(task_id, fmt, p, [t.get("input") for t in tests], [t.get("output") for t in tests])
