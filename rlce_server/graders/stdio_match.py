"""Comparing a program's stdout with the expected bytes (StdioTest.match)."""

from __future__ import annotations

import math

from ..domain import OutputMatch


def _trim_lines(data: bytes) -> list[bytes]:
    lines = [line.rstrip() for line in data.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _float_equal(a: bytes, b: bytes, tol: float) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False  # NaN never matches; inf only byte-equal (above)
    return abs(x - y) <= tol or abs(x - y) <= tol * max(abs(x), abs(y))


def first_difference(got: list[bytes], want: list[bytes], unit: str) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"{unit} {i + 1}: expected {w[:80]!r}, got {g[:80]!r}"
    if len(got) != len(want):
        return f"expected {len(want)} {unit}s, got {len(got)}"
    return "outputs differ"


def compare(got: bytes, want: bytes, match: OutputMatch, tol: float) -> tuple[bool, str]:
    """(equal, message naming the first difference)."""
    if match is OutputMatch.EXACT:
        if got == want:
            return True, ""
        return False, first_difference(got.split(b"\n"), want.split(b"\n"), "line")
    if match is OutputMatch.TRIM:
        g, w = _trim_lines(got), _trim_lines(want)
        return (True, "") if g == w else (False, first_difference(g, w, "line"))
    gt, wt = got.split(), want.split()
    if match is OutputMatch.FLOAT:
        if len(gt) == len(wt) and all(_float_equal(a, b, tol) for a, b in zip(gt, wt)):
            return True, ""
        for i, (a, b) in enumerate(zip(gt, wt)):
            if not _float_equal(a, b, tol):
                return False, f"token {i + 1}: expected {b[:80]!r}, got {a[:80]!r} (tolerance {tol})"
        return False, f"expected {len(wt)} tokens, got {len(gt)}"
    return (True, "") if gt == wt else (False, first_difference(gt, wt, "token"))
