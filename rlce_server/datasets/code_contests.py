"""DeepMind CodeContests (``deepmind/code_contests``) and SandboxFusion's CommonOJ copy.

* ``code_contests``: ``name``, ``public_tests`` / ``private_tests`` /
  ``generated_tests`` (``{input: [...], output: [...]}``), ``time_limit``
  (``{seconds, nanos}``), ``memory_limit_bytes``; every test is used.
* ``sandboxfusion``: ``id``, ``content``, ``labels`` (JSON), ``test`` = JSON
  list of ``{"input": {"stdin"}, "output": {"stdout"}}``.
"""

from __future__ import annotations

import json
from typing import Any

from . import build
from .problem import DatasetProblem, RowError
from .profiles import Profile

NAME = "code_contests"
SANDBOXFUSION = "sandboxfusion"
_SPLITS = ("public_tests", "private_tests", "generated_tests")


def detect(row: dict[str, Any]) -> str | None:
    if any(isinstance(row.get(k), dict) for k in _SPLITS) and "name" in row:
        return NAME
    test = row.get("test")
    if isinstance(test, str) and test.lstrip().startswith("[") and '"stdin"' in test[:2000]:
        return SANDBOXFUSION
    return None


def row_id(row: dict[str, Any]) -> str | None:
    for key in ("name", "id"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    return None


def _seconds(limit: Any) -> float | None:
    if isinstance(limit, dict):
        return float(limit.get("seconds") or 0) + float(limit.get("nanos") or 0) / 1e9 or None
    return float(limit) if isinstance(limit, int | float) and limit > 0 else None


def convert(row: dict[str, Any], fmt: str, task_id: str, p: Profile) -> DatasetProblem:
    if fmt == SANDBOXFUSION:
        try:
            cases = json.loads(row["test"])
            pairs = [(str(c["input"]["stdin"]), str(c["output"]["stdout"])) for c in cases]
        except (ValueError, KeyError, TypeError) as exc:
            raise RowError(f"test: not a list of {{input: {{stdin}}, output: {{stdout}}}} ({exc})") from None
        return build.io_problem(task_id, fmt, p, [a for a, _ in pairs], [b for _, b in pairs])
    inputs: list[str] = []
    outputs: list[str] = []
    for split in _SPLITS:
        tests = row.get(split) or {}
        ins, outs = list(tests.get("input") or []), list(tests.get("output") or [])
        if len(ins) != len(outs):
            raise RowError(f"{split}: {len(ins)} inputs but {len(outs)} outputs")
        inputs += ins
        outputs += outs
    memory = row.get("memory_limit_bytes")
    time_s = _seconds(row.get("time_limit")) if p.name == "strict" else None
    memory_mb = memory / (1 << 20) if isinstance(memory, int | float) and memory > 0 else 256.0
    return build.io_problem(task_id, fmt, p, inputs, outputs, time_s=time_s, memory_mb=memory_mb)
