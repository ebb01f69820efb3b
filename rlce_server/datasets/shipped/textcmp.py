"""How each dataset's official grader compares a program's stdout with the answer.

One pure function per grader, stdlib only: rlce sends this file as a
problem's Python checker (testlib's ``checker <input> <output> <answer>``,
exit 0 accepts, 1 rejects; the footer the profile adds names the function),
and the unit tests import it. Each function says which grader file it
mirrors; docs/DATASETS.md has the table. Texts are decoded as UTF-8 with
surrogate escapes, so no output makes a comparison fail by raising.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

Verdict = tuple[bool, str]
CHECK = ""  # the comparison this copy judges by: rlce sets it when it sends the file


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


# -- LiveCodeBench: lcb_runner/evaluation/testing_util.py, grade_stdio -------------------


def _lcb_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def livecodebench(out: bytes, ans: bytes) -> Verdict:
    """Whole text stripped, split on newlines, each line stripped; the line
    counts must match; a line is equal as text, or as a list of Decimals."""
    got, want = _lcb_lines(_text(out)), _lcb_lines(_text(ans))
    if len(got) != len(want):
        return False, f"mismatched output length: {len(got)} lines, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if g == w:
            continue
        dg, dw = _decimals(g), _decimals(w)
        try:
            same = dg is not None and dw is not None and dg == dw
        except InvalidOperation:  # a signalling NaN: LCB's grader raised, a failure
            same = False
        if not same:
            return False, f"line {i + 1}: expected {w[:80]!r}, got {g[:80]!r}"
    return True, ""


# -- APPS / TACO cascade: hendrycks/apps eval/testing_util.py, FlagOpen/TACO ---------------
# metrics/testing_util.py compare_std_results (TACO and DeepCoder pass the stdout as
# one string; APPS passes it as a list of lines, str.splitlines of the captured text).


def _allclose(a: list[float], b: list[float]) -> bool:
    """numpy.allclose with its defaults (rtol 1e-5, atol 1e-8)."""
    for x, y in zip(a, b):
        if math.isinf(x) or math.isinf(y):
            if x != y:
                return False
        elif math.isnan(x) or math.isnan(y) or abs(x - y) > 1e-8 + 1e-5 * abs(y):
            return False
    return True


def cascade(got: str | list[str], want: str) -> bool:
    """The APPS/TACO comparison cascade, first hit wins (see the module notes)."""
    if isinstance(got, str):
        if got.strip() == want.strip():
            return True
    else:
        if "\n".join(got).strip() == want.strip():
            return True
        if "\n".join(g.strip() for g in got).strip() == want.strip():
            return True
        if got == [want]:
            return True
    lines = [x.strip() for x in want.split("\n") if len(x)]
    if isinstance(got, list):
        if got == lines:
            return True
        got = [g for g in got if len(g)]
        if got == lines:
            return True
    try:  # a string is iterated by character here, as the graders do
        got_f = [float(e) for e in got]
        want_f = [float(e) for e in lines]
        if len(got_f) == len(want_f) and _allclose(got_f, want_f):
            return True
    except ValueError:
        pass
    want_sets = [set(line.split()) for line in lines]
    if isinstance(got, list):
        got_sets: list[set[str]] | set[str] = [set(t) for t in (g.split() for g in got) if len(t)]
    else:
        got_sets = {t for t in got.split() if len(t)}  # tokens: frozenset() of each is its characters
    if {frozenset(s) for s in got_sets} == {frozenset(s) for s in want_sets}:
        return True
    try:
        rounded_got = {frozenset(round(float(t), 3) for t in s) for s in got_sets}
        rounded_want = {frozenset(round(float(t), 3) for t in s) for s in want_sets}
        return rounded_got == rounded_want
    except (ValueError, OverflowError):
        return False


def taco(out: bytes, ans: bytes) -> Verdict:
    """TACO: the cascade on the whole stdout string."""
    return (True, "") if cascade(_text(out), _text(ans)) else (False, "output differs (TACO's comparison)")


def deepcoder(out: bytes, ans: bytes) -> Verdict:
    """rllm/DeepCoder taco.py: stdout ``rstrip('\\n')``, then TACO's cascade."""
    ok = cascade(_text(out).rstrip("\n"), _text(ans))
    return (True, "") if ok else (False, "output differs (DeepCoder's TACO comparison)")


def apps(out: bytes, ans: bytes) -> Verdict:
    """APPS (and SandboxFusion's LCB copy): the cascade on the captured lines."""
    ok = cascade(_text(out).splitlines(), _text(ans))
    return (True, "") if ok else (False, "output differs (APPS's comparison)")


# -- DeepMind CodeContests: execution/tester_sandboxer.cc, OutputsMatch / ValuesMatch ------

_INT = re.compile(rb"[+-]?[0-9]+")
_DOUBLE = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.I)


def _int32(token: bytes) -> int | None:
    if not _INT.fullmatch(token):
        return None
    value = int(token)
    return value if -(2**31) <= value < 2**31 else None


def _double(token: bytes) -> float | None:
    return float(token) if _DOUBLE.fullmatch(token) else None


def _values_match(a: bytes, b: bytes) -> bool:
    if a == b:
        return True
    ia, ib = _int32(a), _int32(b)
    if ia is not None and ib is not None:
        return ia == ib
    da, db = _double(a), _double(b)
    return da is not None and db is not None and abs(da - db) < 1e-5


def code_contests(out: bytes, ans: bytes) -> Verdict:
    """Tokens split on `` \\n\\t\\r\\v``, ASCII lower-cased; equal lists, or pairwise:
    both 32-bit integers equal, else both doubles within 1e-5 absolute."""
    got = [t.lower() for t in re.split(rb"[ \n\t\r\v]+", out) if t]
    want = [t.lower() for t in re.split(rb"[ \n\t\r\v]+", ans) if t]
    if got == want:
        return True, ""
    if len(got) != len(want):
        return False, f"expected {len(want)} tokens, got {len(got)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if not _values_match(g, w):
            return False, f"token {i + 1}: expected {w[:80]!r}, got {g[:80]!r}"
    return True, ""


# -- SandboxFusion CommonOJ: sandbox/utils/testing.py, check_stdio_test_case ---------------


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def sandboxfusion(out: bytes, ans: bytes) -> Verdict:
    """Lines of the stripped texts (one extra empty last line forgiven), equal
    counts, each line lower-cased and stripped, or both floats within 1e-5 relative."""
    got, want = _text(out).strip().split("\n"), _text(ans).strip().split("\n")
    if len(got) - len(want) == 1 and got[-1] == "":
        got = got[:-1]
    if len(want) - len(got) == 1 and want[-1] == "":
        want = want[:-1]
    if len(got) != len(want):
        return False, f"expected {len(want)} lines, got {len(got)}"
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = g.lower(), w.lower()
        if g.strip() == w.strip():
            continue
        if _is_float(w) and _is_float(g) and abs(float(g) - float(w)) / max(abs(float(w)), 1e-10) < 1e-5:
            continue
        return False, f"line {i + 1}: expected {w.strip()[:80]!r}, got {g.strip()[:80]!r}"
    return True, ""


# -- open-r1 Codeforces on piston: guipenedo/piston packages/codeforces/1.0.0/run ----------

_YES_NO = re.compile(rb"\b(yes|no)\b", re.I)


def _piston_normal(data: bytes) -> list[bytes]:
    lines = [line for line in data.split(b"\n") if line != b""]  # sed '/^$/d'
    text = _YES_NO.sub(lambda m: m.group(0).upper(), b"\n".join(lines))
    return text.split()


def codeforces(out: bytes, ans: bytes) -> Verdict:
    """No checker: empty lines dropped, whole-word yes/no upper-cased, all
    white space squeezed to one line, then compared (``diff -b``)."""
    got, want = _piston_normal(out), _piston_normal(ans)
    if got == want:
        return True, ""
    return False, "output differs (open-r1 Codeforces comparison)"


# -- open-r1 rewards.py code_reward (verification_info datasets) ---------------------------


def open_r1_code_reward(out: bytes, ans: bytes) -> Verdict:
    """``stdout.strip()`` against the answer line by line over ``zip`` (which stops
    at the shorter: a prefix of the answer passes), each line stripped."""
    for i, (g, w) in enumerate(zip(_text(out).strip().split("\n"), _text(ans).split("\n"))):
        if g.strip() != w.strip():
            return False, f"line {i + 1}: expected {w.strip()[:80]!r}, got {g.strip()[:80]!r}"
    return True, ""


# -- PrimeIntellect genesys: src/genesys/verifiers/code_test_verifier.py ------------------


def _genesys_normal(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().split("\n"))


def genesys(out: bytes, ans: bytes) -> Verdict:
    """Stripped text, each line stripped (stdout and stderr merged by the harness)."""
    if _genesys_normal(_text(out)) == _genesys_normal(_text(ans)):
        return True, ""
    return False, "output differs (genesys comparison)"


# -- PrimeIntellect INTELLECT-3 code-env: compare_stdout_results ---------------------------


def intellect3(out: bytes, ans: bytes) -> Verdict:
    """Trimmed equal; else non-empty stripped lines equal; else tokens per line
    equal; else all tokens Decimals, same count, within 1e-3 absolute."""
    got, want = _text(out).strip(), _text(ans).strip()
    if got == want:
        return True, ""
    gl = [line.strip() for line in got.splitlines() if line.strip()]
    wl = [line.strip() for line in want.splitlines() if line.strip()]
    if gl == wl or [line.split() for line in gl] == [line.split() for line in wl]:
        return True, ""
    gt, wt = got.split(), want.split()
    try:
        if len(gt) == len(wt) and gt and all(abs(Decimal(a) - Decimal(b)) <= Decimal("0.001") for a, b in zip(gt, wt)):
            return True, ""
    except (InvalidOperation, ValueError):
        pass
    return False, "output differs (INTELLECT-3 comparison)"


# -- Code-Contests-Plus via CodeContests-O: utils/helpers.py check_output_equal --------------


def ccplus_fast(out: bytes, ans: bytes) -> Verdict:
    """The text compare CC+'s evaluator tries before any checker: stripped and
    lower-cased equal; else lines right-stripped equal; else without empty lines."""
    got, want = _text(out).strip().lower(), _text(ans).strip().lower()
    if got == want:
        return True, ""
    gl, wl = [x.rstrip() for x in got.split("\n")], [x.rstrip() for x in want.split("\n")]
    if gl == wl or [x for x in gl if x] == [x for x in wl if x]:
        return True, ""
    return False, "output differs (Code-Contests-Plus text compare)"


COMPARISONS: dict[str, Callable[[bytes, bytes], Verdict]] = {
    "livecodebench": livecodebench,
    "taco": taco,
    "deepcoder": deepcoder,
    "apps": apps,
    "code_contests": code_contests,
    "sandboxfusion": sandboxfusion,
    "codeforces": codeforces,
    "open_r1_code_reward": open_r1_code_reward,
    "genesys": genesys,
    "intellect3": intellect3,
    "ccplus_fast": ccplus_fast,
}


def judge(name: str, argv: list[str]) -> int:
    """testlib's checker convention: ``<input> <output> <answer>``; 0 accepts, 1 rejects."""
    with open(argv[1], "rb") as fh:
        out = fh.read()
    with open(argv[2], "rb") as fh:
        ans = fh.read()
    ok, why = COMPARISONS[name](out, ans)
    if not ok:
        print(why)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(judge(CHECK, sys.argv[1:]))
