"""Dataset rows as rlce problems: the sets code RL trains on, judged as their graders judge.

    from rlce_server.datasets import convert, detect
    problem = convert(row)                       # format detected from the row's fields
    problem = convert(row, fmt="taco", profile="strict")
    request_program = problem.program(code)      # the grader's harness / header around it

One module per dataset (``livecodebench``, ``taco`` with NeMo Gym's rows,
``apps``, ``code_contests`` with SandboxFusion's, ``code_contests_plus``,
``open_r1_codeforces``, ``primeintellect`` with INTELLECT-3's, ``deepcoder``,
``kodcode``); ``profiles`` has each official grader's comparison rules and
``DEFAULT_PROFILE`` the one each format is judged by unless told otherwise.
A row that cannot be read is a problem with ``error`` set (its samples are
failures, reported), never an exception that stops a file or a batch.
docs/DATASETS.md documents formats, profiles and the graders' quirks.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import (
    apps,
    code_contests,
    code_contests_plus,
    deepcoder,
    kodcode,
    livecodebench,
    open_r1_codeforces,
    primeintellect,
    taco,
)
from .problem import FILE_MARK, DatasetProblem, RowError
from .profiles import PROFILES, Credit, Profile, profile

__all__ = ["DEFAULT_PROFILE", "FORMATS", "PROFILES", "Credit", "DatasetProblem", "RowError", "convert", "detect"]

# most specific first: a row is claimed by the first module that recognises it
_MODULES: tuple[ModuleType, ...] = (
    livecodebench,
    code_contests_plus,
    open_r1_codeforces,
    primeintellect,
    kodcode,
    code_contests,
    taco,
    apps,
    deepcoder,
)
FORMATS: dict[str, ModuleType] = {
    livecodebench.NAME: livecodebench,
    livecodebench.SANDBOXFUSION: livecodebench,
    taco.NAME: taco,
    taco.NEMO_GYM: taco,
    apps.NAME: apps,
    code_contests.NAME: code_contests,
    code_contests.SANDBOXFUSION: code_contests,
    code_contests_plus.NAME: code_contests_plus,
    open_r1_codeforces.NAME: open_r1_codeforces,
    primeintellect.NAME: primeintellect,
    primeintellect.INTELLECT3: primeintellect,
    deepcoder.NAME: deepcoder,
    kodcode.NAME: kodcode,
}
DEFAULT_PROFILE: dict[str, str | Callable[[dict[str, Any]], str]] = {
    livecodebench.NAME: "livecodebench",
    livecodebench.SANDBOXFUSION: "sandboxfusion_lcb",
    taco.NAME: "taco",
    taco.NEMO_GYM: "livecodebench",
    apps.NAME: "apps",
    code_contests.NAME: "code_contests",
    code_contests.SANDBOXFUSION: "sandboxfusion",
    code_contests_plus.NAME: "code_contests_plus",
    open_r1_codeforces.NAME: "open_r1_codeforces",
    primeintellect.NAME: "genesys",
    primeintellect.INTELLECT3: "intellect3",
    deepcoder.NAME: deepcoder.default_profile,
    kodcode.NAME: "kodcode",
}


def detect(row: Any) -> str | None:
    """The format of a dataset row, or None (an rlce problem row is ``rlce``)."""
    if not isinstance(row, dict):
        return None
    if row.get(FILE_MARK):
        return "rlce"
    for module in _MODULES:
        try:
            found: str | None = module.detect(row)
        except (RowError, TypeError, AttributeError, KeyError):
            found = None
        if found:
            return found
    return None


def task_id(row: dict[str, Any], fmt: str | None, index: int) -> str:
    """``task_id``, else the format's own id field, else the row's 0-based position."""
    if row.get("task_id") not in (None, ""):
        return str(row["task_id"])
    module = FORMATS.get(fmt or "")
    found = module.row_id(row) if module is not None else None
    return found if found else str(index)


def default_profile(fmt: str, row: dict[str, Any]) -> str:
    choice = DEFAULT_PROFILE[fmt]
    return choice(row) if callable(choice) else choice


def convert(
    row: Any, *, fmt: str | None = None, profile_name: str | None = None, index: int = 0, credit: Credit | None = None
) -> DatasetProblem:
    """The rlce problem for one row. Unknown names (``fmt``, ``profile_name``) raise
    ValueError; a row that cannot be read gives a problem with ``error`` set."""
    if fmt is not None and fmt not in FORMATS and fmt != "rlce":
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(sorted(FORMATS))}")
    chosen = profile(profile_name) if profile_name else None
    if not isinstance(row, dict):
        return DatasetProblem(str(index), fmt or "unknown", profile_name or "", error="the row is not a JSON object")
    found = fmt or detect(row)
    tid = task_id(row, found, index)
    if found == "rlce":
        try:
            return DatasetProblem.from_json(row)
        except RowError as exc:
            return DatasetProblem(tid, "rlce", "", error=str(exc))
    if found is None:
        fields = ", ".join(sorted(map(str, row))[:12])
        return DatasetProblem(tid, "unknown", profile_name or "", error=f"no known dataset has rows with {fields}")
    p: Profile = chosen or profile(default_profile(found, row))
    if credit is not None:
        from .profiles import with_credit

        p = with_credit(p, credit)
    try:
        problem: DatasetProblem = FORMATS[found].convert(row, found, tid, p)
    except RowError as exc:
        return DatasetProblem(tid, found, p.name, error=str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        return DatasetProblem(tid, found, p.name, error=f"malformed {found} row: {type(exc).__name__}: {exc}")
    return problem


__all__ += ["PROFILES", "task_id", "default_profile"]
