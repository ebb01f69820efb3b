"""Type-strict comparison of a returned value with a CallTest's expected JSON.

The value arrives as the sandbox codec's tree and is decoded here without
handles or NaN, so nothing of the candidate's code is involved: only plain
data compared by exact type. Tuples compare as lists (JSON has no tuple).
"""

from __future__ import annotations

import collections
import json
import math
from typing import Any

from ..sandbox.rlce_runner import codec


class NotJson(ValueError):
    pass


def to_json_value(value: Any) -> Any:
    """The decoded value as the JSON data model would hold it."""
    t = type(value)
    if value is None or t in (bool, int, float, str):
        return value
    if t in (list, tuple, collections.deque):
        return [to_json_value(v) for v in value]
    if t in (dict, collections.Counter, collections.OrderedDict, collections.defaultdict):
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotJson(f"a dict key of type {type(k).__name__} has no JSON form")
            out[k] = to_json_value(v)
        return out
    raise NotJson(f"a {t.__name__} has no JSON form")


def strict_equal(got: Any, want: Any, tol: float) -> bool:
    if type(got) is not type(want):
        return False
    if type(got) is float:
        if got == want:
            return True
        if tol > 0 and math.isfinite(got) and math.isfinite(want):
            diff: float = abs(got - want)
            return diff <= tol or diff <= tol * max(abs(got), abs(want))
        return False
    if type(got) is list:
        return len(got) == len(want) and all(strict_equal(a, b, tol) for a, b in zip(got, want))
    if type(got) is dict:
        return got.keys() == want.keys() and all(strict_equal(got[k], want[k], tol) for k in got)
    same: bool = got == want
    return same


def compare_returned(tree: Any, expected_json: str, tol: float) -> tuple[bool, str]:
    """(equal, message): the returned codec tree, decoded strictly, against the expected JSON."""
    try:
        got = to_json_value(codec.decode(tree, allow_nonfinite=False))
    except (codec.CodecError, NotJson) as exc:
        return False, f"returned value is not comparable: {exc}"
    want = json.loads(expected_json)
    if strict_equal(got, want, tol):
        return True, ""
    shown = json.dumps(got)[:200]
    return False, f"expected {expected_json[:200]}, got {shown}"
