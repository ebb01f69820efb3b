"""Tests from the shapes code datasets and trainers carry them in.

* HumanEval: ``test`` (defines ``check``) + ``entry_point`` -> one assertion
* MBPP: ``test_list`` (assert lines) [+ ``test_setup_code`` / ``test_imports``]
  -> one assertion per assert
* stdin/stdout (APPS, TACO, CodeContests, veRL's PRIME code sets):
  ``{"inputs": [...], "outputs": [...]}`` -> stdio tests (token match)
* function calls (APPS/TACO with ``fn_name``): ``{"fn_name": f, "inputs":
  [[args]], "outputs": [value | [value]]}`` -> call tests
* rlce's own: a list of TestCase dicts in proto-JSON form

Any of these may arrive as a JSON string (veRL stores ground truth so).

A whole dataset row (LiveCodeBench, TACO, APPS, CodeContests, Code-Contests-Plus,
open-r1 Codeforces, PrimeIntellect, DeepCoder, KodCode; ``rlce_server.datasets``)
is recognised by ``problem_from``, which also brings the row's judge, limits,
program harness and credit rules under the dataset grader's profile.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from .. import datasets
from ..client import assertion, call, pb, stdio
from ..datasets import DatasetProblem


class UnknownGroundTruth(ValueError):
    """The ground truth has none of the known shapes."""


def _as_obj(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def tests_from(gt: Any, *, entry_point: str | None = None) -> list[pb.TestCase]:
    """rlce tests for one sample's ground truth (see the module docstring)."""
    gt = _as_obj(gt)
    if isinstance(gt, Mapping):
        if "input_output" in gt:
            return tests_from(gt["input_output"], entry_point=entry_point)
        if "test" in gt and (gt.get("entry_point") or entry_point):
            ep = gt.get("entry_point") or entry_point
            return [assertion(f"{gt['test']}\ncheck({ep})\n")]
        if "test_list" in gt:
            return _mbpp(gt["test_list"], gt.get("test_setup_code", ""), gt.get("test_imports", []))
        if "inputs" in gt and "outputs" in gt:
            return _io(gt["inputs"], gt["outputs"], gt.get("fn_name"))
        if "tests" in gt:
            return tests_from(gt["tests"], entry_point=entry_point)
    if isinstance(gt, list) and gt:
        if all(isinstance(t, str) and t.lstrip().startswith("assert") for t in gt):
            return _mbpp(gt, "", [])
        if all(isinstance(t, Mapping) and ("stdio" in t or "call" in t or "assertion" in t) for t in gt):
            return [json_format.ParseDict(dict(t), pb.TestCase()) for t in gt]
    if isinstance(gt, str) and entry_point and "def check" in gt:
        return [assertion(f"{gt}\ncheck({entry_point})\n")]
    raise UnknownGroundTruth(f"ground truth of type {type(gt).__name__} has no known test shape")


def _mbpp(asserts: list[str], setup: str, imports: list[str]) -> list[pb.TestCase]:
    head = "\n".join([*imports, setup]).strip()
    return [assertion(f"{head}\n{a}\n" if head else f"{a}\n") for a in asserts]


def _io(inputs: list[Any], outputs: list[Any], fn_name: str | None) -> list[pb.TestCase]:
    if len(inputs) != len(outputs):
        raise UnknownGroundTruth(f"{len(inputs)} inputs but {len(outputs)} outputs")
    if fn_name:
        tests = []
        for args, out in zip(inputs, outputs, strict=True):
            args = args if isinstance(args, list) else [args]
            # APPS/TACO wrap a single return value in a list
            expected = out[0] if isinstance(out, list) and len(out) == 1 else out
            tests.append(call(fn_name, args, expected))
        return tests

    def text(x: Any) -> str:
        return "\n".join(map(str, x)) if isinstance(x, list) else str(x)

    return [stdio(text(i), text(o), pb.TOKENS) for i, o in zip(inputs, outputs, strict=True)]


def problem_from(
    gt: Any, *, fmt: str | None = None, profile: str | None = None, entry_point: str | None = None
) -> DatasetProblem:
    """The problem of one sample's ground truth: a dataset row (detected, or named by
    ``fmt``, e.g. veRL's ``data_source``) judged by its grader's profile, else the
    shapes of ``tests_from`` (the caller's limits and policy then apply).
    A malformed row gives a problem with ``error`` set (a failure, not an exception)."""
    obj = _as_obj(gt)
    if isinstance(obj, Mapping):
        row = dict(obj)
        named = fmt if fmt in datasets.FORMATS else None
        if named and datasets.FORMATS[named].detect(row) is None:
            if named in ("taco", "apps") and "inputs" in row and "outputs" in row:
                # veRL/PRIME keep only the row's input_output: the row around it
                row = {"input_output": row, ("problem_id" if named == "apps" else "starter_code"): ""}
            else:
                named = None  # not a row of that format: recognise it, or the shapes above
        legacy = set(row) == {"input_output"}  # APPS/TACO cases alone: the shapes of tests_from
        if named or (not legacy and datasets.detect(row)):
            return datasets.convert(row, fmt=named, profile_name=profile)
    return DatasetProblem("", "tests", "", tests=tests_from(gt, entry_point=entry_point))
