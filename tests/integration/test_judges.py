"""Problems with a checker or an interactor, through the real stack (API.md, "Additions").

Python judges here (the interpreter is in every image); C++ testlib judges in
test_judges_cpp.py. A judge's verdicts, its partial credit, a problem whose
checker rejects its own answers, candidate outputs built to break a checker,
and interactive problems whose programs talk, overspend, fall silent or crash.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest

from rlce_server.client import Client, pb, stdio
from rlce_server.datasets.problem import DatasetProblem
from rlce_server.rl.batch import BatchScorer, Sample
from tests.conftest import ROOT

# A multi-answer problem: print two positive integers that sum to n.
SUM_CHECKER = r"""
import sys
inp, out, ans = (open(p, "rb").read().split() for p in sys.argv[1:4])
n = int(inp[0])
if len(out) != 2 or not all(t.isdigit() for t in out) or max(len(t) for t in out) > 18:
    print("expected two numbers"); sys.exit(2)
a, b = int(out[0]), int(out[1])
if a > 0 and b > 0 and a + b == n:
    print("ok"); sys.exit(0)
print(f"{a} + {b} != {n}"); sys.exit(1)
"""
SUM_TESTS = [stdio("10\n", "5 5\n", name="ten"), stdio("7\n", "3 4\n", name="seven"), stdio("2\n", "1 1\n")]

# Partial credit: testlib's quitp (exit 7, points first in the message) and _pc(n) (exit 50 + n).
POINTS_CHECKER = r"""
import sys
out = open(sys.argv[2]).read().split()
k = int(out[0]) if out and out[0].isdigit() else 0
if k >= 10:
    sys.exit(0)
if k >= 5:
    sys.stderr.write(f"{k * 10} points\n"); sys.exit(7)
sys.exit(50 + k * 10)
"""

GUESS_INTERACTOR = r"""
import sys
secret, budget = map(int, open(sys.argv[1]).read().split())
log = open(sys.argv[2], "w")
for q in range(1, budget + 1):
    line = sys.stdin.readline()
    if not line:
        print("the program stopped talking", file=sys.stderr); sys.exit(1)
    try:
        guess = int(line)
    except ValueError:
        print(f"not a number: {line[:30]!r}", file=sys.stderr); sys.exit(2)
    if guess == secret:
        print("=", flush=True); log.write(f"{q}\n"); log.close(); sys.exit(0)
    print("<" if guess < secret else ">", flush=True)
print(f"more than {budget} queries", file=sys.stderr); sys.exit(1)
"""
BINARY_SEARCH = """
lo, hi = 1, 1000
while True:
    m = (lo + hi) // 2
    print(m, flush=True)
    r = input()
    if r == "=":
        break
    lo, hi = (m + 1, hi) if r == "<" else (lo, m - 1)
"""
GUESS_TESTS = [
    pb.TestCase(name="417", interactive=pb.InteractiveTest(input=b"417 10\n")),
    pb.TestCase(name="1000", interactive=pb.InteractiveTest(input=b"1000 10\n")),
    pb.TestCase(name="1", interactive=pb.InteractiveTest(input=b"1 10\n")),
]


def judge(source: str, points_max: float = 0.0) -> pb.JudgeProgram:
    return pb.JudgeProgram(language="python", source=source, points_max=points_max)


def score(client: Client, program: str, tests: list[pb.TestCase], **kw: object) -> pb.ScoreResponse:
    req = pb.ScoreRequest(language="python", program=program, tests=tests, **kw)  # type: ignore[arg-type]
    req.policy.no_cache = True
    return client.score_request(req, timeout_s=300)


def verdicts(resp: pb.ScoreResponse) -> list[str]:
    return [pb.Verdict.Name(t.verdict) for t in resp.tests]


def test_a_checker_accepts_every_right_answer_and_nothing_else(client: Client) -> None:
    checker = judge(SUM_CHECKER)
    right = [
        "n = int(input())\nprint(1, n - 1)\n",
        "n = int(input())\nprint(n - 1, 1)\n",
        "n=int(input());print(n//2, n-n//2)",
    ]
    for program in right:
        resp = score(client, program, SUM_TESTS, checker=checker)
        assert resp.verdict == pb.ACCEPTED and resp.reward == 1.0, (program, [t.message for t in resp.tests])
        assert all(t.score == 1.0 for t in resp.tests)
    wrong = score(client, "n = int(input())\nprint(0, n)\n", SUM_TESTS, checker=checker)
    assert verdicts(wrong) == ["WRONG_ANSWER"] * 3 and wrong.reward == 0.0
    assert "0 + 10 != 10" in wrong.tests[0].message, "the judge's words are the message"
    malformed = score(client, "print('five and five')", SUM_TESTS, checker=checker)
    assert malformed.verdict == pb.WRONG_ANSWER and "presentation error" in malformed.tests[0].message
    crash = score(client, "import sys\nprint(1, 9)\nsys.exit(3)\n", SUM_TESTS, checker=checker)
    assert crash.verdict == pb.RUNTIME_ERROR, "a crashed program is not handed to the checker"


def test_points_and_partial_credit_reach_the_score_and_the_reward(client: Client) -> None:
    checker = judge(POINTS_CHECKER, points_max=100)
    tests = [stdio("", "10\n", name=str(k)) for k in range(3)]  # the checker must accept the expected 10
    for printed, share in ((10, 1.0), (7, 0.7), (3, 0.3), (0, 0.0)):
        resp = score(client, f"print({printed})", tests, checker=checker)
        assert [round(t.score, 6) for t in resp.tests] == [share] * 3, (printed, [t.message for t in resp.tests])
        assert abs(resp.reward - share) < 1e-9
        assert resp.passed == (3 if share == 1.0 else 0)
        if 0 < share < 1:
            assert set(verdicts(resp)) == {"WRONG_ANSWER"} and "partial credit" in resp.tests[0].message


def test_a_checker_that_rejects_the_problems_own_answers_is_refused(client: Client) -> None:
    rejects = judge("import sys\nsys.exit(1)\n")
    resp = score(client, "print(5, 5)", SUM_TESTS, checker=rejects)
    assert resp.verdict == pb.INVALID_REQUEST and resp.reward == 0.0
    assert "tests[0]" in resp.error and "own expected answer" in resp.error
    crashes = judge("raise RuntimeError('bug in the checker')\n")
    resp = score(client, "print(5, 5)", SUM_TESTS, checker=crashes)
    assert resp.verdict == pb.INVALID_REQUEST and "fails" in resp.error
    with pytest.raises(grpc.RpcError) as err:
        client.stub.RegisterTests(pb.RegisterTestsRequest(tests=SUM_TESTS, checker=rejects), metadata=client.metadata)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "checker" in err.value.details()


def test_a_problem_registered_once_stands_for_its_checker(client: Client) -> None:
    ref = client.stub.RegisterTests(
        pb.RegisterTestsRequest(tests=SUM_TESTS, checker=judge(SUM_CHECKER)), metadata=client.metadata
    ).tests_ref
    bare = client.register_tests(SUM_TESTS)
    assert ref != bare, "tests with a checker are another problem than the bare tests"
    good = client.score_request(
        pb.ScoreRequest(language="python", program="n=int(input());print(1, n-1)", tests_ref=ref), timeout_s=120
    )
    assert good.verdict == pb.ACCEPTED
    with pytest.raises(grpc.RpcError) as err:
        client.score_request(pb.ScoreRequest(language="python", program="print(1)", tests_ref=ref, checker=judge("")))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "tests_ref" in err.value.details()


def test_the_result_cache_keeps_problems_with_other_judges_apart(client: Client) -> None:
    """A wrong program accepted under a lenient checker (or interactor) is not answered from the
    cache when a strict one, or none, judges it: the judges are part of what decides the answer."""
    wrong = f"n = int(input())\nprint(0, n)  # {uuid.uuid4().hex}\n"
    lenient = judge("import sys\nsys.exit(0)\n")

    def cached(**kw: object) -> pb.ScoreResponse:
        req = pb.ScoreRequest(language="python", program=wrong, **kw)  # type: ignore[arg-type]
        return client.score_request(req, timeout_s=300)

    first = cached(tests=SUM_TESTS, checker=lenient)
    assert first.verdict == pb.ACCEPTED and not first.cached
    assert cached(tests=SUM_TESTS, checker=lenient).cached, "the same problem again is a hit"
    strict = cached(tests=SUM_TESTS, checker=judge(SUM_CHECKER))
    assert strict.verdict == pb.WRONG_ANSWER and not strict.cached and strict.reward == 0.0
    plain = cached(tests=SUM_TESTS)
    assert plain.verdict == pb.WRONG_ANSWER and not plain.cached

    silent = f"pass  # {uuid.uuid4().hex}\n"
    refs = [
        client.stub.RegisterTests(
            pb.RegisterTestsRequest(tests=GUESS_TESTS, interactor=judge(source)), metadata=client.metadata
        ).tests_ref
        for source in ("import sys\nsys.exit(0)\n", GUESS_INTERACTOR)
    ]
    run = [
        client.score_request(pb.ScoreRequest(language="python", program=silent, tests_ref=ref), timeout_s=300)
        for ref in refs
    ]
    assert run[0].verdict == pb.ACCEPTED, "the lenient interactor accepts anything"
    assert run[1].verdict != pb.ACCEPTED and not run[1].cached and run[1].reward == 0.0


@pytest.mark.parametrize(
    "program",
    [
        "import sys\nsys.stdout.write('9' * 1_000_000)\n",  # a 10^6-digit number
        "import sys\nsys.stdout.buffer.write(bytes(range(256)) * 100)\n",  # binary
        "",  # nothing at all (an empty output)
        "print('1 ' * 400000)\n",  # huge
        "print('-1 11')\n",
        "print('\\udcff 5')\n",
    ],
    ids=["digits", "binary", "nothing", "huge", "negative", "surrogates"],
)
def test_outputs_built_to_break_the_checker_earn_nothing(client: Client, program: str) -> None:
    resp = score(client, program or "pass\n", SUM_TESTS, checker=judge(SUM_CHECKER))
    assert resp.verdict not in (pb.ACCEPTED, pb.SANDBOX_ERROR), resp.error
    assert resp.reward == 0.0


def test_an_interactor_judges_the_conversation(client: Client) -> None:
    interactor = judge(GUESS_INTERACTOR)
    limits = pb.Limits(time_limit_s=2)
    good = score(client, BINARY_SEARCH, GUESS_TESTS, interactor=interactor, limits=limits)
    assert good.verdict == pb.ACCEPTED and good.reward == 1.0, [t.message for t in good.tests]
    linear = "for g in range(1, 1001):\n    print(g, flush=True)\n    if input() == '=':\n        break\n"
    over = score(client, linear, GUESS_TESTS, interactor=interactor, limits=limits)
    assert verdicts(over) == ["WRONG_ANSWER", "WRONG_ANSWER", "ACCEPTED"], [t.message for t in over.tests]
    assert "more than 10 queries" in over.tests[0].message
    silent = score(client, "import time\ntime.sleep(60)\n", GUESS_TESTS[:1], interactor=interactor, limits=limits)
    assert silent.verdict == pb.TIME_LIMIT_EXCEEDED
    crash = score(
        client, "print(500, flush=True)\ninput()\nraise SystemExit(4)\n", GUESS_TESTS[:1], interactor=interactor
    )
    assert crash.verdict == pb.RUNTIME_ERROR, "the program's crash decides before the interactor's complaint"
    junk = score(
        client, "print('hello', flush=True)\nimport time\ntime.sleep(5)\n", GUESS_TESTS[:1], interactor=interactor
    )
    assert junk.verdict == pb.WRONG_ANSWER and "presentation error" in junk.tests[0].message


def test_an_interactors_own_cpu_never_runs_out_the_programs_wall_clock(client: Client) -> None:
    """The interactor thinks 0.35 s of CPU per answer (8 answers, 2.8 s: an adaptive jury, say), the
    program answers at once under time_limit_s=0.5 (its wall backstop 2 s): the program waits on
    the jury, and that wait is the jury's, never a TIME_LIMIT_EXCEEDED of the program's."""
    slow = GUESS_INTERACTOR.replace(
        "    if guess == secret:",
        "    import time\n    t = time.process_time()\n    while time.process_time() - t < 0.35:\n"
        "        pass\n    if guess == secret:",
        1,
    )
    resp = score(client, BINARY_SEARCH, GUESS_TESTS[:1], interactor=judge(slow), limits=pb.Limits(time_limit_s=0.5))
    assert resp.verdict == pb.ACCEPTED, [t.message for t in resp.tests]
    assert resp.tests[0].cpu_time_s < 0.5 and resp.tests[0].wall_time_s > 2.0  # (the jury's wait: not the program's)
    sleeper = score(client, "import time\ntime.sleep(60)\n", GUESS_TESTS[:1], interactor=judge(slow),
                    limits=pb.Limits(time_limit_s=0.5))  # fmt: skip
    assert sleeper.verdict == pb.TIME_LIMIT_EXCEEDED  # (a program that sleeps is still stopped)


def test_what_an_interactor_starts_is_the_jurys_cpu(client: Client) -> None:
    """An interactor that does its work in a child process (0.3 s of CPU per answer, 8 answers): that
    CPU is the jury's, never the program's (it was charged to the program: TIME_LIMIT_EXCEEDED)."""
    helper = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
    slow = GUESS_INTERACTOR.replace(
        "    if guess == secret:",
        f"    import subprocess\n    subprocess.run([sys.executable, '-c', {helper!r}])\n    if guess == secret:",
        1,
    )
    resp = score(client, BINARY_SEARCH, GUESS_TESTS[:1], interactor=judge(slow), limits=pb.Limits(time_limit_s=0.5))
    assert resp.verdict == pb.ACCEPTED, [t.message for t in resp.tests]
    assert resp.tests[0].cpu_time_s < 0.5
    # a helper left running in the background (its shell gone: an orphan) stays below the judge
    orphaning = GUESS_INTERACTOR.replace(
        "    if guess == secret:",
        "    import os, subprocess, time\n"
        f"    open('h.py', 'w').write({helper!r})\n"
        "    subprocess.run(['sh', '-c', '(python3 h.py; touch done) &'])\n"
        "    while not os.path.exists('done'):\n        time.sleep(0.01)\n    os.unlink('done')\n"
        "    if guess == secret:",
        1,
    )
    limits = pb.Limits(time_limit_s=0.5)
    resp = score(client, BINARY_SEARCH, GUESS_TESTS[:1], interactor=judge(orphaning), limits=limits)
    assert resp.verdict == pb.ACCEPTED, [t.message for t in resp.tests]


def test_a_checker_then_judges_the_interactors_log(client: Client) -> None:
    """The interactor accepts; the checker reads its log (the number of queries) and wants few."""
    few = "import sys\nq = int(open(sys.argv[2]).read())\nsys.exit(0 if q <= 10 else 1)\n"
    tests = [pb.TestCase(interactive=pb.InteractiveTest(input=b"417 1000\n", answer=b"10\n"))]
    interactor = judge(GUESS_INTERACTOR)
    assert score(client, BINARY_SEARCH, tests, interactor=interactor, checker=judge(few)).verdict == pb.ACCEPTED
    linear = "for g in range(1, 1001):\n    print(g, flush=True)\n    if input() == '=':\n        break\n"
    resp = score(client, linear, tests, interactor=interactor, checker=judge(few))
    assert resp.verdict == pb.WRONG_ANSWER


def test_an_interactive_test_without_an_interactor_is_refused(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as err:
        client.score_request(pb.ScoreRequest(language="python", program="print(1)", tests=GUESS_TESTS[:1]))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tests[0].interactive" in err.value.details()


def test_the_worked_example_of_docs_judges(server, capsys) -> None:
    """examples/codeforces_judge.py, as docs/JUDGES.md shows it: other right outputs pass."""
    import runpy
    import sys

    argv = sys.argv
    sys.argv = ["codeforces_judge.py", "--target", server.target]
    try:
        runpy.run_path(str(ROOT / "examples" / "codeforces_judge.py"), run_name="__main__")
    finally:
        sys.argv = argv
    lines = {line[:14].strip(): line[14:].split() for line in capsys.readouterr().out.splitlines()}
    assert lines["rotation"][:2] == lines["pair swaps"][:2] == ["ACCEPTED", "reward=1.00"]
    assert lines["identity"][:2] == ["WRONG_ANSWER", "reward=0.00"]
    assert lines["forgets n = 1"][:2] == ["WRONG_ANSWER", "reward=0.80"]
    assert lines["prints words"][:2] == ["WRONG_ANSWER", "reward=0.00"] and "presentation" in lines["prints words"]


def test_rlce_eval_and_the_batch_client_take_interactive_problems(server, tmp_path: Path) -> None:
    """A problems file row with an interactor, scored by `rlce eval`, and the same problem
    through the batch client the trainer adapters use (registered once for the group)."""
    problem = DatasetProblem(
        task_id="guess",
        format="rlce",
        profile="strict",
        tests=GUESS_TESTS,
        interactor=judge(GUESS_INTERACTOR),
        limits=pb.Limits(time_limit_s=2),
    )
    assert DatasetProblem.from_json(json.loads(json.dumps(problem.to_json()))).interactor == problem.interactor
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps(problem.to_json()) + "\n")
    samples = tmp_path / "samples.jsonl"
    crash = "print(500, flush=True)\ninput()\nraise SystemExit(4)\n"
    programs = [BINARY_SEARCH, "pass\n", crash]
    samples.write_text("".join(json.dumps({"task_id": "guess", "completion": p}) + "\n" for p in programs))
    out = tmp_path / "results.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "rlce_server", "eval", "--problems", str(problems), "--samples", str(samples)]
        + ["--k", "1", "--target", server.target, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = sorted((json.loads(line) for line in out.read_text().splitlines()), key=lambda r: r["sample"])
    assert [r["passed"] for r in rows] == [True, False, False], rows

    scorer = BatchScorer(server.target, register_min_group=2)
    batch = [
        Sample(p, GUESS_TESTS, "python", limits=pb.Limits(time_limit_s=2), interactor=judge(GUESS_INTERACTOR))
        for p in programs
    ]
    answers = scorer.score_sync(batch, timeout_s=300)
    assert all(a is not None for a in answers)
    assert [a.verdict for a in answers if a] == [pb.ACCEPTED, pb.WRONG_ANSWER, pb.RUNTIME_ERROR]
    assert [a.reward for a in answers if a] == [1.0, 0.0, 0.0]
