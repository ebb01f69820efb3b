"""LiveCodeBench (``livecodebench/code_generation_lite``) and the copies RL stacks use.

* ``livecodebench``: the HF row (``question_id``, ``public_test_cases``,
  ``private_test_cases``, ``metadata``, ``starter_code``). Private tests are
  JSON, or base64 -> zlib -> a pickle of the JSON string (read with an
  unpickler that refuses every class). Functional tests: one JSON value per
  line per argument, the name in ``metadata.func_name``.
* ``livecodebench_sandboxfusion``: SandboxFusion's table (``id``, ``content``,
  ``labels``, ``test`` = base64 -> zlib -> a pickled dict ``{"input_output":
  JSON}``), judged by SandboxFusion's own copy of the grader.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Any

from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "livecodebench"
SANDBOXFUSION = "livecodebench_sandboxfusion"
MAX_DECODED_BYTES = 1 << 30


class _NoClasses(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise RowError(f"private tests: the pickle wants {module}.{name}; only plain values are read")


def unpickle_b64(text: str, what: str) -> Any:
    """base64 -> zlib -> pickle of plain values (strings, dicts, lists), nothing executable."""
    try:
        raw = base64.b64decode(text, validate=False)
        d = zlib.decompressobj()
        data = d.decompress(raw, MAX_DECODED_BYTES)
        if d.unconsumed_tail:
            raise RowError(f"{what}: more than {MAX_DECODED_BYTES} bytes once decompressed")
        return _NoClasses(io.BytesIO(data)).load()
    except (binascii.Error, zlib.error, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise RowError(f"{what}: not base64/zlib/pickle ({exc})") from None


def private_tests(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    if not value:
        return []
    try:
        out = json.loads(value)
    except ValueError:
        out = unpickle_b64(value, "private_test_cases")
        out = json.loads(out) if isinstance(out, str) else out
    if not isinstance(out, list):
        raise RowError("private_test_cases: not a list of tests")
    return out


def detect(row: dict[str, Any]) -> str | None:
    if "public_test_cases" in row or ("private_test_cases" in row and "question_id" in row):
        return NAME
    labels = row.get("labels")
    encoded = isinstance(row.get("test"), str) and not row["test"].lstrip().startswith("[")
    platform = isinstance(labels, str) and any(f"{p}/" in labels for p in ("leetcode", "codeforces", "atcoder"))
    return SANDBOXFUSION if encoded and platform and '"task_id"' in str(labels) else None


def row_id(row: dict[str, Any]) -> str | None:
    for key in ("question_id", "id"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    return None


def cases(tests: list[dict[str, Any]], fn_name: str | None) -> tuple[list[Any], list[Any], str | None]:
    """LCB tests as (inputs, outputs, fn_name): functional inputs become argument lists."""
    if fn_name is None and any(t.get("testtype") == "functional" for t in tests):
        raise RowError("functional tests but no metadata.func_name")
    inputs: list[Any] = []
    outputs: list[Any] = []
    for i, t in enumerate(tests):
        if fn_name:
            try:
                inputs.append([json.loads(line) for line in str(t["input"]).split("\n")])
                outputs.append(json.loads(t["output"]))
            except (KeyError, ValueError) as exc:
                raise RowError(f"test {i}: not JSON lines ({exc})") from None
        else:
            inputs.append(str(t.get("input", "")))
            outputs.append(str(t.get("output", "")))
    return inputs, outputs, fn_name


def lcb_problem(
    task_id: str, fmt: str, p: Profile, inputs: list[Any], outputs: list[Any], fn_name: str | None, starter: str
) -> DatasetProblem:
    class_based = "class Solution" in starter or not starter
    if fn_name:
        picked = build.selected(len(inputs), inputs, p.credit)
        tests = build.call_tests(fn_name, class_based, [(inputs[i], outputs[i]) for i in picked], p)
        return build.problem(task_id, fmt, p, tests)
    return build.io_problem(task_id, fmt, p, inputs, outputs)


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    if fmt == SANDBOXFUSION:
        decoded = unpickle_b64(row["test"], "test")
        io_ = decoded.get("input_output") if isinstance(decoded, dict) else decoded
        io_ = build.parse(io_, "test.input_output")
        fn = io_.get("fn_name") or None
        inputs, outputs = io_.get("inputs", []), io_.get("outputs", [])
        if fn:
            inputs = [[json.loads(line) for line in str(x).split("\n")] for x in inputs]
            outputs = [json.loads(o) for o in outputs]
        return lcb_problem(task_id, fmt, p, inputs, outputs, fn, "")
    tests = list(build.parse(row.get("public_test_cases") or "[]", "public_test_cases"))
    tests += private_tests(row.get("private_test_cases"))
    meta = build.parse(row.get("metadata") or "{}", "metadata")
    fn_name = meta.get("func_name") if isinstance(meta, dict) else None
    inputs, outputs, fn = cases(tests, fn_name)
    return lcb_problem(task_id, fmt, p, inputs, outputs, fn, str(row.get("starter_code") or ""))
