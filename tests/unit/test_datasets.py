"""Dataset rows to rlce problems, and the graders' comparisons, without a server."""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from rlce_server import datasets
from rlce_server.client import pb
from rlce_server.datasets import pytest_split
from rlce_server.datasets.files import convert_file
from rlce_server.datasets.problem import DatasetProblem
from rlce_server.datasets.profiles import PROFILES, Credit, harness_program, profile
from rlce_server.datasets.shipped import textcmp
from rlce_server.evaluation.formats import Skipped, load_problems, load_samples
from rlce_server.rl.extract import extract_code
from rlce_server.rl.ground_truth import problem_from
from tests.conftest import DATASETS

ROOT = Path(__file__).resolve().parents[2]


def ok(name: str, out: str, ans: str) -> bool:
    return textcmp.COMPARISONS[name](out.encode(), ans.encode())[0]


def test_each_grader_comparison_as_its_grader_decides():
    # LiveCodeBench: line counts matter, Decimal equality, no tolerance, case matters
    assert ok("livecodebench", " 1.0 2\n", "1 2.00\n") and not ok("livecodebench", "0.3333333", "0.33333333")
    assert not ok("livecodebench", "1\n\n2\n", "1\n2\n") and not ok("livecodebench", "yes", "YES")
    # TACO: strip-equal; its character-set fallback accepts 12 for "1 2"
    assert ok("taco", "\n\nabc  \n", "abc") and ok("taco", "12\n", "1 2") and not ok("taco", "YES", "yes")
    # APPS: lines as sets of token sets, rounding to 3 places
    assert ok("apps", "Yes\n4 1\n", "Yes\n1 4 \n") and ok("apps", "4 1\nYes\n", "Yes\n1 4 ")
    assert ok("apps", "0.5001\n", "0.5\n") and not ok("apps", "YES\n", "yes\n")
    # DeepCoder: stdout rstrip('\n') first, then TACO's cascade
    assert ok("deepcoder", "1 2\n", "1 2") and not ok("deepcoder", "1 3\n", "1 2")
    # DeepMind CodeContests: case-free tokens, 1e-5 absolute, the int32 parse that lets 64-bit answers pass
    assert ok("code_contests", "abc DEF", "abc def") and ok("code_contests", "123", "123.000001")
    assert not ok("code_contests", "123", "123.1") and not ok("code_contests", "abc def", "abc def 123")
    assert ok("code_contests", "10000000000000001", "10000000000000000") and ok("code_contests", "1e5", "100000")
    assert not ok("code_contests", "2147483647", "2147483646")
    # SandboxFusion: lines, lower-cased, whole-line floats within 1e-5 relative
    assert ok("sandboxfusion", "YES\n1.000001\n", "yes\n1.0\n") and not ok("sandboxfusion", "1 2\n", "1\n2\n")
    # open-r1 Codeforces (piston): yes/no in any case, line structure ignored, other tokens exact
    assert ok("codeforces", "yes\n\n1 2\n", "YES 1\n2") and not ok("codeforces", "Nope", "NOPE")
    assert not ok("codeforces", "1.0", "1")
    # open-r1 code_reward: zip stops at the shorter, so a prefix passes
    assert ok("open_r1_code_reward", "1\n", "1\n2\n") and not ok("open_r1_code_reward", "1\n3\n", "1\n2\n")
    # genesys: stripped lines; INTELLECT-3: Decimal within 1e-3
    assert ok("genesys", " a \n b", "a\nb\n") and not ok("genesys", "a b", "a\nb")
    assert ok("intellect3", "1.5004", "1.5") and not ok("intellect3", "1.502", "1.5")
    # Code-Contests-Plus's text compare before any checker
    assert ok("ccplus_fast", "YES  \n\nno\n", "yes\nno") and not ok("ccplus_fast", "yes no", "yes\nno")
    for name, compare in textcmp.COMPARISONS.items():  # every checker accepts the answer itself
        assert compare(b"3\n1 2\nYES\n", b"3\n1 2\nYES\n")[0], name


def test_the_shipped_checker_runs_as_a_testlib_checker(tmp_path):
    src = profile("livecodebench")
    checker = datasets.profiles.checker_for(src.compare).source
    (tmp_path / "judge.py").write_text(checker)
    files = [tmp_path / n for n in ("in", "out", "ans")]
    for f, data in zip(files, ("", "1 2\n", "1  2\n"), strict=True):
        f.write_text(data)
    run = subprocess.run([sys.executable, tmp_path / "judge.py", *map(str, files)], capture_output=True)
    assert run.returncode == 0
    files[1].write_text("1\n2\n")
    assert (
        subprocess.run([sys.executable, tmp_path / "judge.py", *map(str, files)], capture_output=True).returncode == 1
    )


def run_harness(program: str, stdin: str) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-c", program], input=stdin, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def test_the_graders_harnesses_run_programs_as_the_graders_do():
    lcb = profile("livecodebench").run
    main_block = "def f():\n    return int(input()) * 2\nif __name__ == '__main__':\n    print(f())\n"
    assert run_harness(harness_program(lcb, main_block), "21\n")[:2] == (0, "42\n")
    assert run_harness(harness_program(lcb, "print(1)\nimport sys\nsys.exit(3)\n"), "")[:2] == (0, "1\n")
    assert run_harness(harness_program(lcb, "print(List)\n"), "")[0] == 0, "LCB's header has typing's names"
    assert run_harness(harness_program(lcb, "print(input()[:-1])\n"), "abc\n")[1] == "ab\n", "readline has no newline"
    assert run_harness(harness_program(lcb, "print(1)\nraise ValueError\n"), "")[0] == 1
    assert run_harness(harness_program(lcb, "import os\nos.write(1, b'x')\n"), "")[1] == "", "fd 1 is not captured"
    apps = profile("apps").run
    assert run_harness(harness_program(apps, "exit()\n"), "")[0] == 1, "APPS sets exit to None"
    assert run_harness(harness_program(apps, "if __name__ == '__main__':\n    print(1)\n"), "")[1] == ""
    taco = profile("taco").run
    assert run_harness(harness_program(taco, "import sys\nsys.exit(2)\n"), "")[0] == 2
    assert run_harness(harness_program(taco, "# c\nfrom __future__ import annotations\nprint(1)\n"), "")[0] == 1
    deep = profile("deepcoder").run
    assert run_harness(harness_program(deep, "print(5)\nraise SystemExit(7)\n"), "")[:2] == (0, "5\n")
    genesys = profile("genesys").run
    code, out, _ = run_harness(
        harness_program(genesys, "import sys\nprint(1, flush=True)\nprint('w', file=sys.stderr)\n"), ""
    )
    assert code == 0 and out == "1\nw\n"
    cf_file = datasets.profiles.replace_run(profile("open_r1_codeforces"), file_io=True).run
    program = "a = open('input.txt').read()\nprint('noise')\nopen('output.txt', 'w').write(a.upper())\n"
    assert run_harness(harness_program(cf_file, program), "abc\n")[:2] == (0, "ABC\n")


def _lcb_hf_row(private: list[dict[str, str]]) -> dict[str, object]:
    blob = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(private)))).decode()
    return {
        "question_id": "2727",
        "question_title": "count seniors",
        "platform": "leetcode",
        "starter_code": "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        ",
        "public_test_cases": json.dumps([{"input": '["7868190130M7522"]', "output": "1", "testtype": "functional"}]),
        "private_test_cases": blob,
        "metadata": json.dumps({"func_name": "countSeniors"}),
    }


def test_livecodebench_rows_decode_private_tests_and_make_leetcode_calls():
    row = _lcb_hf_row([{"input": '["1313579440F2036"]', "output": "0", "testtype": "functional"}])
    p = datasets.convert(row)
    assert (p.format, p.profile, p.task_id, len(p.tests)) == ("livecodebench", "livecodebench", "2727", 2)
    assert "Solution()" in p.tests[1].assertion.code and "countSeniors" in p.tests[1].assertion.code
    strict = datasets.convert(row, profile_name="strict")
    assert strict.tests[0].call.entry_point == "Solution.countSeniors" and strict.tests[0].call.expected_json == "1"
    evil = dict(row, private_test_cases=base64.b64encode(zlib.compress(pickle.dumps(Path("/")))).decode())
    assert "only plain values" in datasets.convert(evil).error, "a pickle that wants a class is refused"


def test_taco_apps_fn_name_and_selection_and_malformed_rows():
    io_ = {"fn_name": "add", "inputs": [[1, 2], [3, 4]], "outputs": [[3], 7]}
    taco = datasets.convert({"input_output": json.dumps(io_), "starter_code": "", "skill_types": "[]"})
    assert taco.format == "taco" and "_expected[0]" in taco.tests[0].assertion.code
    strict = datasets.convert({"input_output": json.dumps(io_), "problem_id": 1}, profile_name="strict")
    assert [t.call.expected_json for t in strict.tests] == ["3", "7"] and strict.format == "apps"
    many = {"inputs": [str(i) * i for i in range(1, 21)], "outputs": ["x"] * 20}
    deep = datasets.convert({"problem": "p", "tests": json.dumps(many)})
    assert deep.profile == "deepcoder" and len(deep.tests) == 15, "the 15 longest inputs"
    assert deep.tests[0].stdio.stdin == b"20" * 20
    every = datasets.convert({"problem": "p", "tests": json.dumps(many)}, credit=Credit(select="all"))
    assert len(every.tests) == 20
    assert datasets.convert({"input_output": "", "problem_id": 3}).error.startswith("input_output: empty")
    assert "no known dataset" in datasets.convert({"foo": 1}).error


def test_pytest_files_split_one_test_per_function():
    text = (
        "import pytest\nfrom solution import *\n\ndef helper():\n    return 1\n\n"
        "@pytest.mark.parametrize('x', [1, 2])\ndef test_a(x):\n    assert x\n\ndef test_b():\n    assert helper()\n\n"
        "class TestC:\n    def setup_method(self, method):\n        self.v = 1\n"
        "    def test_d(self):\n        assert self.v\n\n    def test_e(self):\n        assert self.v\n\n"
        "if __name__ == '__main__':\n    pytest.main([__file__])\n"
    )
    parts = dict(pytest_split.split(text))
    assert list(parts) == ["test_a", "test_b", "TestC::test_d", "TestC::test_e"]
    assert (
        "def test_b" not in parts["test_a"] and "def helper" in parts["test_a"] and "class TestC" not in parts["test_a"]
    )
    # a test method is its class with that one method in it (rlce runs test classes pytest's way)
    assert "def setup_method" in parts["TestC::test_d"] and "def test_e" not in parts["TestC::test_d"]
    assert "def test_e" in parts["TestC::test_e"] and "pytest.main" not in parts["test_b"]
    assert parts["test_b"].count("\n") == text.count("\n"), "line numbers stay the file's"
    with pytest.raises(datasets.RowError, match="no test function"):
        pytest_split.split("from solution import *\nassert f(1) == 2\n")
    row = {"question_id": "q1", "question": "?", "test": "def check():\n    assert f(1)\n"}
    assert "no test function" in datasets.convert(row).error


def test_every_shipped_row_is_recognised_with_its_default_profile():
    for path in sorted((DATASETS / "rl-formats").glob("*/samples.jsonl")):
        for i, line in enumerate(path.read_text().splitlines()):
            row = json.loads(line)["row"]
            p = datasets.convert(row, index=i)
            assert not p.error and p.tests and p.profile in PROFILES, (path.parent.name, i, p.error)
    for path in sorted((ROOT / "tests" / "data" / "datasets").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            p = datasets.convert(entry["row"])
            assert p.format != "unknown", (path.name, entry["sample_id"])


def test_convert_round_trips_through_the_problems_file(tmp_path):
    rows = [json.loads(line)["row"] for line in (DATASETS / "rl-formats/taco/samples.jsonl").read_text().splitlines()]
    rows.append({"broken": True})
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "problems.jsonl"
    assert convert_file(src, out) == (len(rows), 1)
    back = [DatasetProblem.from_json(json.loads(line)) for line in out.read_text().splitlines()]
    assert back == [datasets.convert(r, index=i) for i, r in enumerate(rows)]
    problems = load_problems(out)
    assert problems[back[0].task_id].dataset == back[0]


def test_samples_as_users_write_them(tmp_path):
    rows = [
        {"problem_id": 7, "input_output": json.dumps({"inputs": ["1\n"], "outputs": ["1\n"]})},
        {"input_output": "x"},
    ]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    samples = [
        {"problem_id": 7, "completion": "<think>```python\nprint(0)\n```</think>```python\nprint(1)\n```"},
        {"task_id": "1", "solution": "print(1)"},
        {"task_id": "7", "completion": "no code at all ```"},
        {"task_id": "99", "solution": "x"},
        {"task_id": "7"},
    ]
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    problems = load_problems(tmp_path / "p.jsonl")
    assert set(problems) == {"7", "1"} and problems["1"].dataset and problems["1"].dataset.error
    skipped = Skipped()
    got = load_samples(tmp_path / "s.jsonl", problems, skipped)
    assert [s.failure[0] for s in got] == ["", "INVALID_REQUEST", "NO_CODE", "INVALID_REQUEST"]
    assert "print(1)" in got[0].program and "print(0)" not in got[0].program
    assert len(skipped.lines) == 1 and "task_id='99'" in skipped.lines[0]


def test_ground_truth_rows_for_the_adapters_and_credit():
    row = {"problem": "p", "tests": json.dumps([{"input": "1\n", "output": "1\n", "testtype": "stdin"}])}
    p = problem_from(json.dumps(row))
    assert p.profile == "deepcoder_lcb" and p.fence_required and p.checker is not None
    assert problem_from({"input_output": {"inputs": ["1"], "outputs": ["1"]}}).format == "tests", "old shape kept"
    assert problem_from(row, fmt="deepcoder", profile="strict").checker is None
    assert extract_code("print(1)", require_fence=True) is None and extract_code("print(1)") == "print(1)"
    weighted = DatasetProblem("t", "open_r1_codeforces", "open_r1_codeforces", credit=Credit(mode="weighted_sum"))
    half = pb.ScoreResponse(verdict=pb.WRONG_ANSWER, tests=[pb.TestResult(score=1.0), pb.TestResult(score=0.0)])
    assert weighted.reward(half) == pytest.approx(0.05)
    assert weighted.reward(pb.ScoreResponse(verdict=pb.COMPILE_ERROR)) == -0.1
    assert weighted.policy().reward_mode == pb.PARTIAL and DatasetProblem("t", "f", "p").policy().reward_mode == (
        pb.ALL_OR_NOTHING
    )


def test_a_testlib_checker_takes_the_users_testlib_h(monkeypatch, tmp_path):
    """rlce ships no testlib.h: a C++ testlib checker row needs the user's copy, named."""
    from rlce_server.datasets import code_contests_plus
    from rlce_server.datasets.problem import RowError

    monkeypatch.delenv("RLCE_TESTLIB_H", raising=False)
    with pytest.raises(RowError, match="--testlib"):
        code_contests_plus.checker("int main() {}", fast_path=False)
    header = tmp_path / "testlib.h"
    header.write_text("// mine\n")
    monkeypatch.setenv("RLCE_TESTLIB_H", str(header))
    assert code_contests_plus.checker("int main() {}", fast_path=True).files["testlib.h"] == b"// mine\n"
