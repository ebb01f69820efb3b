"""Many stdio tests, few round trips (RunBatch) through the real stack.

A problem with hundreds of stdio tests is run in batches that double while
they pass: the verdicts must be exactly those of one test at a time, the
request's total time limit must still cut a batch short, and a failure must
stop a stop-on-first-failure request where it happened.
"""

from __future__ import annotations

import pytest

from rlce_server.client import Client, pb, stdio

SQUARE = {
    "python": "print(int(input()) ** 2)\n",
    "cpp": ('#include <cstdio>\nint main() { long long n; std::scanf("%lld", &n); std::printf("%lld\\n", n * n); }\n'),
}


def squares(n: int) -> list[pb.TestCase]:
    return [stdio(f"{k}\n", f"{k * k}\n", name=f"k={k}") for k in range(n)]


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_hundreds_of_stdio_tests_judge_as_one_at_a_time(polyglot, language: str) -> None:
    with Client(polyglot.target) as client:
        good = client.score(language, SQUARE[language], squares(300), no_cache=True, timeout_s=600)
        assert good.verdict == pb.ACCEPTED and good.passed == 300, [t.message for t in good.tests if t.message][:3]
        tests = squares(300)
        tests[137] = stdio("137\n", "18770\n", name="wrong answer")  # 137**2 is 18769
        resp = client.score(language, SQUARE[language], tests, no_cache=True, timeout_s=600)
        verdicts = [t.verdict for t in resp.tests]
        assert verdicts[137] == pb.WRONG_ANSWER and verdicts.count(pb.ACCEPTED) == 299
        policy = pb.ScoringPolicy(stop_on_first_failure=True)
        stopped = client.score(language, SQUARE[language], tests, no_cache=True, policy=policy, timeout_s=600)
        verdicts = [t.verdict for t in stopped.tests]
        assert verdicts[:137] == [pb.ACCEPTED] * 137 and verdicts[137] == pb.WRONG_ANSWER
        assert verdicts[138:] == [pb.SKIPPED] * 162


def test_the_total_time_limit_cuts_a_batch_short(polyglot) -> None:
    """0.4 s of sleep per test, 3 s for the request: some pass, the rest are over the total."""
    program = "import time\ntime.sleep(0.4)\nprint(int(input()) ** 2)\n"
    limits = pb.Limits(time_limit_s=1, total_time_limit_s=3)
    with Client(polyglot.target) as client:
        resp = client.score("python", program, squares(40), limits=limits, no_cache=True, timeout_s=300)
    verdicts = [t.verdict for t in resp.tests]
    passed = verdicts.count(pb.ACCEPTED)
    assert 0 < passed < 40 and verdicts[:passed] == [pb.ACCEPTED] * passed
    assert all(v == pb.TIME_LIMIT_EXCEEDED for v in verdicts[passed:])
    assert "total time limit" in resp.tests[-1].message
