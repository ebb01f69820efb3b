"""Comparison profiles: each official grader's pass/fail rules, named after it.

A profile says how a dataset's tests are judged and how its programs are
run: the stdout comparison (a checker rlce ships, ``shipped/textcmp.py``, or
one of rlce's match modes), how a stdin program is executed (the grader's
own harness reproduced by ``shipped/harness.py``: in-process wrapping,
ignored exit codes, merged stderr, file I/O), the import header the grader
puts before the program, how call-based tests compare, whether a completion
must carry a fenced code block, and the grader's time limit when a row has
none. ``strict`` judges what is right instead of what a grader did (tokens,
exact integers, exit code 0, type-strict call results).

docs/DATASETS.md lists each profile with the grader file it mirrors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .._proto.rlce.v1 import scorer_pb2 as pb
from .shipped import source


def _guarded(module: str, alias: str) -> str:
    """One line that imports an optional module if the image has it (numpy is not in
    rlce's Python image; a grader's ``import numpy as np`` must not fail every program)."""
    return f'{alias} = __import__("{module}") if __import__("importlib.util").util.find_spec("{module}") else None'


# LiveCodeBench lcb_runner/evaluation/testing_util.py `import_string`
LCB_HEADER = (
    "".join(
        f"from {m} import *\n"
        for m in (
            *("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics"),
            *("itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing"),
        )
    )
    + "".join(
        f"import {m}\n"
        for m in (
            *("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics"),
            *("itertools", "functools", "operator", "io", "sys", "json"),
        )
    )
    + "sys.setrecursionlimit(50000)\n"
)

# APPS / TACO testing_util.py: the import lines of synthesize_std_code / synthesize_cb_code
TACO_HEADER = (
    "import sys\nimport time\nimport itertools\n"
    "from itertools import accumulate, product, permutations, combinations\n"
    "import collections\nfrom collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n"
    "from functools import lru_cache\nimport math\n"
    "from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2\n"
    "import fractions\nfrom typing import List, Tuple\n" + _guarded("numpy", "np") + "\nimport random\nimport heapq\n"
    "from heapq import *\n"
)

# rllm rewards/code_utils/utils.py BASE_IMPORTS (DeepCoder); numpy and pandas guarded
RLLM_HEADER = (
    "from itertools import accumulate, chain, combinations, count, permutations, product, groupby, islice, repeat\n"
    "from copy import deepcopy\nfrom string import ascii_lowercase, ascii_uppercase\n"
    "from math import floor, log2, log10, sqrt, comb, gcd, ceil, inf, isqrt, factorial, atan2, pi\n"
    "from collections import defaultdict, deque, Counter\n"
    "from bisect import bisect, bisect_left, bisect_right, insort\n"
    "from heapq import heappush, heappop, heapify, merge, nlargest, nsmallest, heapreplace\n"
    "from functools import reduce, cache, lru_cache, cmp_to_key, reduce\n"
    "from random import randrange, shuffle\nfrom operator import itemgetter, sub, xor, or_\n"
    "from re import search as re_search\nfrom os.path import commonprefix\n"
    "from typing import List, Tuple, Dict, Set, Optional, Union, Any, Callable, Iterable, Iterator, Generator, Deque\n"
    "import copy\nimport string\nimport math\nimport collections\nimport bisect\nimport heapq\nimport functools\n"
    "import random\nimport itertools\nimport operator\nimport re\nimport datetime\nfrom time import time\n"
    + _guarded("numpy", "np")
    + "\n"
    + _guarded("pandas", "pd")
    + "\nfrom math import log, prod\nfrom collections import deque, defaultdict, Counter, OrderedDict\n"
    "from itertools import accumulate, permutations, combinations, product, groupby, islice, chain, repeat, "
    "zip_longest, cycle, pairwise\nfrom functools import lru_cache, reduce, partial\nfrom operator import iand\n"
    "import sys\nimport io, os\n"
)

# rllm BASE_LEETCODE_IMPORTS: the helpers LeetCodeDataset's tests call (written for rlce)
LEETCODE_HELPERS = """
class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def list_node(values):
    head = None
    for value in reversed(list(values)):
        head = ListNode(value, head)
    return head


def is_same_list(a, b):
    while a is not None and b is not None:
        if a.val != b.val:
            return False
        a, b = a.next, b.next
    return a is None and b is None


def tree_node(values):
    values = list(values)
    if not values:
        return None
    root = TreeNode(values[0])
    level, i = deque([root]), 1
    while level and i < len(values):
        node = level.popleft()
        for side in ("left", "right"):
            if i < len(values) and values[i] is not None:
                child = TreeNode(values[i])
                setattr(node, side, child)
                level.append(child)
            i += 1
    return root


def is_same_tree(p, q):
    if p is None or q is None:
        return p is q
    return p.val == q.val and is_same_tree(p.left, q.left) and is_same_tree(p.right, q.right)
"""

STRICT_CALL_HEADER = "from typing import *\n"


@dataclass(frozen=True)
class Run:
    """How a stdin program runs (``shipped/harness.py``); ``plain``: the header, then the program."""

    mode: str = "plain"  # plain | lcb | apps | taco
    header: str = ""
    prefix: str = ""  # put before the program before the harness wraps it (rllm's BASE_IMPORTS)
    ignore_exit: bool = False
    merge_stderr: bool = False
    file_io: bool = False
    stdin_buffer: bool = True

    @property
    def needs_harness(self) -> bool:
        return self.mode != "plain" or self.ignore_exit or self.merge_stderr or self.file_io


@dataclass(frozen=True)
class Credit:
    """Which tests run and how their outcomes become the reward.

    ``select``: ``all`` or ``longest:N`` (the N tests with the longest input,
    DeepCoder's rule). ``mode``: ``all_or_nothing`` (1 only if every test
    passes), ``fraction`` (share passed), ``weighted_sum`` (open-r1's
    ``pass_fail + 0.1 * fraction``; a compile error -0.1). ``stop_early``:
    skip the tests after the first failure (graders that stop there)."""

    select: str = "all"
    mode: str = "all_or_nothing"
    stop_early: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    grader: str  # the grader file it mirrors (docs/DATASETS.md)
    compare: str = ""  # a shipped/textcmp.py comparison; "" means `match`
    match: int = pb.TOKENS
    run: Run = field(default_factory=Run)
    call_rule: str = "strict"  # strict | lcb | apps | genesys | intellect3
    call_header: str = ""  # prepended to programs of call-based and assertion problems
    fence_required: bool = False  # a completion without a fenced block has no code
    time_limit_s: float = 10.0  # CPU seconds per test when the row states none
    credit: Credit = field(default_factory=Credit)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "livecodebench",
            "LiveCodeBench lcb_runner/evaluation/testing_util.py (grade_stdio, grade_call_based)",
            compare="livecodebench",
            run=Run("lcb", LCB_HEADER),
            call_rule="lcb",
            call_header=LCB_HEADER,
            time_limit_s=6.0,
            credit=Credit(stop_early=True),
        ),
        Profile(
            "deepcoder_lcb",
            "rllm rllm/rewards/code_utils/livecodebench.py (LCB's grader at 998c52d, no stdin.buffer)",
            compare="livecodebench",
            run=Run("lcb", LCB_HEADER, stdin_buffer=False),
            call_rule="lcb",
            call_header=LCB_HEADER,
            fence_required=True,
            time_limit_s=6.0,
            credit=Credit(stop_early=True),
        ),
        Profile(
            "taco",
            "FlagOpen/TACO metrics/testing_util.py (run_test, compare_std_results)",
            compare="taco",
            run=Run("taco", TACO_HEADER),
            call_rule="apps",
            call_header=TACO_HEADER,
            time_limit_s=4.0,
        ),
        Profile(
            "apps",
            "hendrycks/apps eval/testing_util.py (run_test)",
            compare="apps",
            run=Run("apps", TACO_HEADER),
            call_rule="apps",
            call_header=TACO_HEADER,
            time_limit_s=4.0,
        ),
        Profile(
            "deepcoder",
            "rllm rllm/rewards/code_utils/taco.py (run_test) via code_reward.py",
            compare="deepcoder",
            run=Run("taco", TACO_HEADER, prefix=RLLM_HEADER + "\n", ignore_exit=True),
            call_rule="apps",
            call_header=RLLM_HEADER + TACO_HEADER,
            fence_required=True,
            time_limit_s=12.0,
            credit=Credit(select="longest:15", stop_early=True),
        ),
        Profile(
            "deepcoder_leetcode",
            "rllm rllm/rewards/code_reward.py leetcode_check_correctness (firejail python3 -c, exit 0)",
            call_header=RLLM_HEADER + LEETCODE_HELPERS,
            fence_required=True,
            time_limit_s=30.0,
        ),
        Profile(
            "code_contests",
            "google-deepmind/code_contests execution/tester_sandboxer.cc (OutputsMatch)",
            compare="code_contests",
            time_limit_s=10.0,
        ),
        Profile(
            "sandboxfusion",
            "bytedance/SandboxFusion sandbox/utils/testing.py (check_stdio_test_case)",
            compare="sandboxfusion",
            time_limit_s=20.0,
            credit=Credit(stop_early=True),
        ),
        Profile(
            "sandboxfusion_lcb",
            "bytedance/SandboxFusion sandbox/datasets/live_code_bench.py (APPS-style cascade)",
            compare="apps",
            run=Run("lcb", LCB_HEADER),
            call_rule="lcb",
            call_header=LCB_HEADER,
            time_limit_s=6.0,
            credit=Credit(stop_early=True),
        ),
        Profile(
            "code_contests_plus",
            "cai-jianfeng/CodeContests-O src/codecontests_o/utils/helpers.py + core/validator.py",
            compare="ccplus_fast",
            time_limit_s=20.0,
        ),
        Profile(
            "open_r1_codeforces",
            "guipenedo/piston packages/codeforces/1.0.0/run; open-r1 cf_scoring.py",
            compare="codeforces",
            credit=Credit(mode="weighted_sum", stop_early=False),
        ),
        Profile(
            "open_r1_code_reward",
            "huggingface/open-r1 src/open_r1/rewards.py (code_reward)",
            compare="open_r1_code_reward",
            call_rule="apps",
            time_limit_s=5.0,
            credit=Credit(mode="fraction"),
        ),
        Profile(
            "genesys",
            "PrimeIntellect-ai/genesys src/genesys/verifiers/code_test_verifier.py",
            compare="genesys",
            run=Run("plain", ignore_exit=True, merge_stderr=True),
            call_rule="genesys",
            fence_required=True,
            time_limit_s=10.0,
            credit=Credit(mode="fraction"),
        ),
        Profile(
            "intellect3",
            "PrimeIntellect research-environments environments/code_env (compare_stdout_results)",
            compare="intellect3",
            call_rule="intellect3",
            call_header=RLLM_HEADER,
            time_limit_s=10.0,
            credit=Credit(mode="fraction"),
        ),
        Profile(
            "kodcode",
            "KodCode-AI/kodcode pipeline/run_test.sh (pytest exit 0) + step2.2_gen_unit_tests.py",
            time_limit_s=30.0,
        ),
        Profile(
            "strict",
            "rlce: tokens (floats within 1e-6 when the answer has them), exit 0, type-strict calls",
            call_header=STRICT_CALL_HEADER,
        ),
    )
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; one of {', '.join(sorted(PROFILES))}") from None


def with_credit(p: Profile, credit: Credit | None) -> Profile:
    return p if credit is None else replace(p, credit=credit)


def checker_for(compare: str) -> pb.JudgeProgram:
    """The Python checker that judges stdout as ``compare`` (shipped/textcmp.py)."""
    text = source("textcmp.py").replace('CHECK = ""', f"CHECK = {compare!r}", 1)
    return pb.JudgeProgram(language="python", source=text)


def harness_program(run: Run, code: str) -> str:
    """The program rlce sends for a stdin program run the grader's way."""
    code = run.prefix + code
    if not run.needs_harness:
        return run.header + code if run.header else code
    args = [repr(code), repr(run.mode), repr(run.header)]
    for flag in ("ignore_exit", "merge_stderr", "file_io"):
        if getattr(run, flag):
            args.append(f"{flag}=True")
    if not run.stdin_buffer:
        args.append("stdin_buffer=False")
    return source("harness.py") + f"\n\nrun({', '.join(args)})\n"


def replace_run(p: Profile, **changes: object) -> Profile:
    return replace(p, run=replace(p.run, **changes))  # type: ignore[arg-type]
