"""C++ testlib judges through the real stack (API.md, "Additions"; docs/JUDGES.md).

testlib.h is the user's copy (../shared/datasets/testlib, MIT), sent in the
judge's files; testlib's own standard checkers and A+B interactor are used
as they are. A Polygon-style package (tests/data/polygon/pair-sum: checker,
tests, solutions in C++ and Python) is judged as its solutions' tags say.
C++ judges are static and run in any runtime's sandbox: most candidates here
are Python programs judged by C++ checkers.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Iterator

import grpc
import pytest

from rlce_server.client import Client, interactive, judge, pb, stdio
from rlce_server.evaluation import polygon
from tests.conftest import DATASETS, ROOT, TESTLIB_H
from tests.integration.server import ServerThread

Capture = pytest.CaptureFixture[str]
TESTLIB = {"testlib.h": TESTLIB_H.read_bytes()}
STANDARD = DATASETS / "testlib" / "checkers"


@pytest.fixture()
def client(polyglot: ServerThread) -> Iterator[Client]:
    with Client(polyglot.target) as c:
        yield c


def cpp_judge(source: str, points_max: float = 0.0) -> pb.JudgeProgram:
    return judge("cpp", source, files=TESTLIB, points_max=points_max)


def standard(name: str) -> pb.JudgeProgram:
    return cpp_judge((STANDARD / f"{name}.cpp").read_text())


def score(
    client: Client, program: str, tests: list[pb.TestCase], language: str = "python", **kw: object
) -> pb.ScoreResponse:
    req = pb.ScoreRequest(language=language, program=program, tests=tests, **kw)  # type: ignore[arg-type]
    req.policy.no_cache = True
    return client.score_request(req, timeout_s=300)


def verdicts(resp: pb.ScoreResponse) -> list[str]:
    return [pb.Verdict.Name(t.verdict) for t in resp.tests]


def test_a_polygon_package_is_judged_as_its_tags_say(client: Client) -> None:
    package = polygon.load(ROOT / "tests" / "data" / "polygon" / "pair-sum")
    assert len(package.tests) == 6 and package.checker is not None and package.checker.language == "cpp"
    judged = polygon.judge_all(client, package)
    assert {j.solution.tag for j in judged} >= {"main", "accepted", "wrong-answer", "time-limit-exceeded"}
    wrong = {j.solution.path: (j.verdict, [t.message[:99] for t in j.response.tests]) for j in judged}
    wrong = {
        path: got for path, got in wrong.items() if not next(j for j in judged if j.solution.path == path).as_tagged
    }
    assert not wrong
    by_tag = {j.solution.tag: j.response for j in judged}
    assert "presentation error" in next(t.message for t in by_tag["presentation-error"].tests if t.verdict)
    # the accepted Python solution prints other pairs than the jury's answers, and passes
    assert by_tag["accepted"].reward == 1.0 and by_tag["main"].reward == 1.0


def test_rlce_polygon_command_says_the_package_agrees(polyglot: ServerThread, capsys: Capture) -> None:
    from rlce_server.cli import main

    assert main(["polygon", str(ROOT / "tests" / "data" / "polygon" / "pair-sum"), "--target", polyglot.target]) == 0
    assert "6/6 solutions judged as their tags say" in capsys.readouterr().out


def test_the_worked_example_with_its_testlib_checker(polyglot: ServerThread, capsys: Capture) -> None:
    """docs/JUDGES.md's example with --checker cpp: the same verdicts as with the Python checker."""
    argv = sys.argv
    sys.argv = ["x", "--target", polyglot.target, "--checker", "cpp", "--testlib", str(TESTLIB_H)]
    try:
        runpy.run_path(str(ROOT / "examples" / "codeforces_judge.py"), run_name="__main__")
    finally:
        sys.argv = argv
    lines = {line[:14].strip(): line[14:].split() for line in capsys.readouterr().out.splitlines()}
    assert lines["rotation"][:2] == lines["pair swaps"][:2] == ["ACCEPTED", "reward=1.00"]
    assert lines["identity"][:2] == ["WRONG_ANSWER", "reward=0.00"]
    assert lines["forgets n = 1"][:2] == ["WRONG_ANSWER", "reward=0.80"]
    assert lines["prints words"][:2] == ["WRONG_ANSWER", "reward=0.00"]


POINTS = r"""
#include "testlib.h"
int main(int argc, char* argv[]) {
    registerTestlibCmd(argc, argv);
    int k = ouf.readInt(0, 100, "k");
    if (k >= 10) quitf(_ok, "all ten");
    if (k >= 5) quitp(k * 10.0, "k = %d", k);
    quitf(_pc(k * 10), "k = %d", k);
}
"""


def test_quitp_points_and_pc_partial_credit(client: Client) -> None:
    tests = [stdio("", "10\n", name=str(i)) for i in range(2)]
    checker = cpp_judge(POINTS, points_max=100)
    for printed, share in ((10, 1.0), (7, 0.7), (3, 0.3), (0, 0.0)):
        resp = score(client, f"print({printed})", tests, checker=checker)
        assert [round(t.score, 6) for t in resp.tests] == [share] * 2, (printed, [t.message for t in resp.tests])
        assert abs(resp.reward - share) < 1e-9 and resp.passed == (2 if share == 1.0 else 0)
    malformed = score(client, "print('ten')", tests, checker=checker)
    assert malformed.verdict == pb.WRONG_ANSWER and "presentation error" in malformed.tests[0].message


def test_testlibs_standard_checkers(client: Client) -> None:
    words = [stdio("", "hello  world\n")]
    assert score(client, "print('hello world')", words, checker=standard("wcmp")).verdict == pb.ACCEPTED
    assert score(client, "print('hello there')", words, checker=standard("wcmp")).verdict == pb.WRONG_ANSWER
    reals = [stdio("", "0.3333333333\n")]
    assert score(client, "print(1 / 3)", reals, checker=standard("rcmp6")).verdict == pb.ACCEPTED
    assert score(client, "print(0.3334)", reals, checker=standard("rcmp6")).verdict == pb.WRONG_ANSWER
    yes = [stdio("", "YES\n")]
    assert score(client, "print('yes')", yes, checker=standard("yesno")).verdict == pb.ACCEPTED
    assert score(client, "print('no')", yes, checker=standard("yesno")).verdict == pb.WRONG_ANSWER


def test_a_cpp_program_judged_by_a_cpp_checker(client: Client) -> None:
    program = '#include <cstdio>\nint main() { long long n; scanf("%lld", &n); printf("%lld 1\\n", n - 1); }\n'
    tests = [stdio("10\n", "5 5\n"), stdio("2\n", "1 1\n")]
    checker = cpp_judge(
        '#include "testlib.h"\nint main(int c, char* v[]) { registerTestlibCmd(c, v); long long n = inf.readLong();'
        ' long long a = ouf.readLong(1, n, "a"), b = ouf.readLong(1, n, "b");'
        ' if (a + b != n) quitf(_wa, "%lld + %lld != %lld", a, b, n); quitf(_ok, "ok"); }\n'
    )
    resp = score(client, program, tests, language="cpp", checker=checker)
    assert resp.verdict == pb.ACCEPTED and resp.reward == 1.0, [t.message for t in resp.tests]


@pytest.mark.parametrize(
    "program",
    [
        "import sys\nsys.stdout.write('9' * 1_000_000)\n",
        "import sys\nsys.stdout.buffer.write(bytes(range(256)) * 100)\n",
        "pass\n",
        "print('1 ' * 400000)\n",
        "print('-1 11')\n",
    ],
    ids=["digits", "binary", "nothing", "huge", "negative"],
)
def test_outputs_built_to_break_a_testlib_checker_earn_nothing(client: Client, program: str) -> None:
    package = polygon.load(ROOT / "tests" / "data" / "polygon" / "pair-sum")
    resp = score(client, program, package.tests[:3], checker=package.checker)
    assert resp.verdict not in (pb.ACCEPTED, pb.SANDBOX_ERROR), resp.error
    assert resp.reward == 0.0


QUITS = '#include "testlib.h"\nint main(int c, char* v[]) { registerTestlibCmd(c, v); quitf(%s, "says so"); }\n'


def test_a_testlib_checker_that_rejects_the_jury_answer_is_refused(client: Client) -> None:
    fails = cpp_judge(QUITS % "_fail")
    resp = score(client, "print(5)", [stdio("", "5\n")], checker=fails)
    assert resp.verdict == pb.INVALID_REQUEST and "tests[0]" in resp.error
    wrong = cpp_judge(QUITS % "_wa")
    with pytest.raises(grpc.RpcError) as err:
        client.register_tests([stdio("", "5\n")], checker=wrong)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "checker" in err.value.details()
    broken = cpp_judge("int main() { return }\n")
    resp = score(client, "print(5)", [stdio("", "5\n")], checker=broken)
    assert resp.verdict == pb.INVALID_REQUEST and "checker" in resp.error


A_PLUS_B = (DATASETS / "testlib" / "interactors" / "interactor-a-plus-b.cpp").read_text()
SUMS = [interactive("3\n1 2\n-5 5\n100 23\n", "3\n0\n123\n", name="three"), interactive("1\n7 7\n", "14\n")]


def test_testlibs_a_plus_b_interactor_and_a_checker_on_its_log(client: Client) -> None:
    interactor, checker = cpp_judge(A_PLUS_B), standard("ncmp")
    reads_until_eof = (
        "#include <iostream>\nint main() {\n"
        "    long long a, b;\n    while (std::cin >> a >> b) std::cout << a + b << std::endl;\n}\n"
    )
    good = score(client, reads_until_eof, SUMS, language="cpp", interactor=interactor, checker=checker)
    assert good.verdict == pb.ACCEPTED and good.reward == 1.0, [t.message for t in good.tests]
    py = "import sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b, flush=True)\n"
    assert score(client, py, SUMS, interactor=interactor, checker=checker).verdict == pb.ACCEPTED
    minus = py.replace("a + b", "a - b")
    assert score(client, minus, SUMS, interactor=interactor, checker=checker).verdict == pb.WRONG_ANSWER
    silent = score(
        client,
        "import time\ntime.sleep(30)\n",
        SUMS[:1],
        interactor=interactor,
        checker=checker,
        limits=pb.Limits(time_limit_s=1),
    )
    assert silent.verdict == pb.TIME_LIMIT_EXCEEDED
    crash = score(client, "input()\nraise SystemExit(6)\n", SUMS[:1], interactor=interactor, checker=checker)
    assert crash.verdict == pb.RUNTIME_ERROR


GUESS = r"""
#include "testlib.h"
int main(int argc, char* argv[]) {
    registerInteraction(argc, argv);
    int secret = inf.readInt(), budget = inf.readInt();
    for (int q = 1; q <= budget; q++) {
        int g = ouf.readInt(1, 1000000, "guess");
        if (g == secret) { std::cout << "=" << std::endl; tout << q << std::endl; quitf(_ok, "found in %d", q); }
        std::cout << (g < secret ? "<" : ">") << std::endl;
    }
    quitf(_wa, "more than %d queries", budget);
}
"""
BINARY_SEARCH = """
lo, hi = 1, 1000000
while True:
    m = (lo + hi) // 2
    print(m, flush=True)
    r = input()
    if r == "=":
        break
    lo, hi = (m + 1, hi) if r == "<" else (lo, m - 1)
"""


def test_a_testlib_guessing_game(client: Client) -> None:
    tests = [interactive(f"{s} 20\n", name=str(s)) for s in (1, 424242, 1000000)]
    interactor, limits = cpp_judge(GUESS), pb.Limits(time_limit_s=2)
    good = score(client, BINARY_SEARCH, tests, interactor=interactor, limits=limits)
    assert good.verdict == pb.ACCEPTED, [t.message for t in good.tests]
    linear = "g = 1\nwhile True:\n    print(g, flush=True)\n    if input() == '=':\n        break\n    g += 1\n"
    over = score(client, linear, tests, interactor=interactor, limits=limits)
    assert verdicts(over) == ["ACCEPTED", "WRONG_ANSWER", "WRONG_ANSWER"], [t.message for t in over.tests]
    assert "more than 20 queries" in over.tests[1].message and over.reward == pytest.approx(1 / 3)
    silent = score(client, "import time\ntime.sleep(30)\n", tests[:1], interactor=interactor, limits=limits)
    assert silent.verdict == pb.TIME_LIMIT_EXCEEDED
    crash = score(client, "print(5, flush=True)\ninput()\nimport os\nos.abort()\n", tests[1:2], interactor=interactor)
    assert crash.verdict == pb.RUNTIME_ERROR


# Each answer's work in an orphan: a grandchild (its parent gone at once) that spends 0.3 s of CPU,
# then leaves a file the interactor waits for. ~9 answers: ~2.7 s of the jury's CPU.
ORPHANING_GUESS = r"""
#include "testlib.h"
#include <ctime>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
static void work_in_an_orphan() {
    pid_t p = fork();
    if (p == 0) {
        setsid();
        if (fork() == 0) {
            clock_t t = clock();
            while (clock() - t < CLOCKS_PER_SEC * 3 / 10) {}
            fclose(fopen("done", "w"));
        }
        _exit(0);
    }
    waitpid(p, nullptr, 0);
    struct stat st;
    while (stat("done", &st) != 0) usleep(10000);
    unlink("done");
}
int main(int argc, char* argv[]) {
    registerInteraction(argc, argv);
    int secret = inf.readInt(), budget = inf.readInt();
    for (int q = 1; q <= budget; q++) {
        int g = ouf.readInt(1, 1000000, "guess");
        work_in_an_orphan();
        if (g == secret) { std::cout << "=" << std::endl; quitf(_ok, "found in %d", q); }
        std::cout << (g < secret ? "<" : ">") << std::endl;
    }
    quitf(_wa, "more than %d queries", budget);
}
"""


def test_what_a_compiled_interactor_starts_is_the_jurys_cpu(client: Client) -> None:
    """A compiled judge is a child subreaper too (the spawn helper makes it one before its exec):
    the CPU of an orphan it leaves behind (reparented to it, never to the zygote) is the jury's,
    never the program's (it was charged to the program: TIME_LIMIT_EXCEEDED)."""
    small = BINARY_SEARCH.replace("1000000", "1000")
    tests = [interactive("417 10\n", name="417")]
    resp = score(client, small, tests, interactor=cpp_judge(ORPHANING_GUESS), limits=pb.Limits(time_limit_s=0.5))
    assert resp.verdict == pb.ACCEPTED, [t.message for t in resp.tests]
    assert resp.tests[0].cpu_time_s < 0.5 and resp.tests[0].wall_time_s > 2.0  # (the jury's 2.7 s: not the program's)
