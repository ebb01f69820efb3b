"""The long-lived judge (one test driver per sandbox): it is recycled without
a fault, replaced when a test leaves it in doubt, and never carries a test's
state into the next."""

from __future__ import annotations

import pytest

from rlce_server.client import Client, assertion, pb, stdio

from .server import ServerThread

ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def one(images):
    srv = ServerThread(workers=1).start()
    yield srv
    srv.stop()


def faults(srv) -> float:
    return srv.app.metrics.sandbox_failures.labels("python", "run")._value.get()


# Run as a stdio test (no judge involved): the pids of the sandbox's judge
# processes, whose uid is the program's + 1 -- visible in /proc, untouchable.
JUDGE_PIDS = r"""
import os
for p in sorted(os.listdir('/proc')):
    if p.isdigit():
        try:
            status = open(f'/proc/{p}/status').read()
        except OSError:
            continue
        uid = int([line for line in status.splitlines() if line.startswith('Uid:')][0].split()[1])
        if uid == os.getuid() + 1:
            print(p)
"""


def judge_pids(client: Client) -> list[str]:
    resp = client.score("python", JUDGE_PIDS, [stdio("", "")], no_cache=True)
    return resp.tests[0].stdout.decode().split()


def test_recycling_the_judge_is_not_a_fault(one):
    from rlce_server.sandbox.rlce_runner.runner import JUDGE_MAX_TESTS

    n = JUDGE_MAX_TESTS + 20
    tests = [assertion(f"assert add({i}, 1) == {i + 1}") for i in range(n)]
    before = faults(one)
    with Client(one.target) as client:
        assert client.score("python", ADD, [assertion("assert add(1, 1) == 2")], no_cache=True).verdict == pb.ACCEPTED
        (first_judge,) = judge_pids(client)
        resp = client.score("python", ADD, tests, no_cache=True, timeout_s=300)
        (judge_after,) = judge_pids(client)
    assert resp.verdict == pb.ACCEPTED and resp.passed == n
    assert judge_after != first_judge, "past its budget the judge was replaced"
    assert faults(one) == before, "a judge retired at its test budget must not cost a sandbox fault"


def test_state_left_by_a_test_is_gone_in_the_next(one):
    leave = "import builtins\nbuiltins.add = lambda a, b: 42\nbuiltins.MARK = 1\n"
    leave += "import sys\nsys.setrecursionlimit(50)\n"
    check = "import sys\nassert not hasattr(__builtins__ if isinstance(__builtins__, dict) else __builtins__, 'MARK')\n"
    check += "assert sys.getrecursionlimit() > 50\nassert add(2, 2) == 4\n"
    with Client(one.target) as client:
        first = client.score("python", ADD, [assertion(leave)], no_cache=True)
        second = client.score("python", ADD, [assertion(check)], no_cache=True)
    assert first.verdict == pb.ACCEPTED
    assert second.verdict == pb.ACCEPTED, [t.message for t in second.tests]


def test_a_test_that_leaves_a_thread_retires_the_judge(one):
    spawn = "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
    before = faults(one)
    with Client(one.target) as client:
        assert client.score("python", ADD, [assertion("assert add(1, 1) == 2")], no_cache=True).verdict == pb.ACCEPTED
        assert len(judge_pids(client)) == 1
        first = client.score("python", ADD, [assertion(spawn + "assert add(1, 1) == 2")], no_cache=True)
        assert judge_pids(client) == [], "the judge that ran a thread-leaving test is gone"
        second = client.score("python", ADD, [assertion("assert add(1, 2) == 3")], no_cache=True)
    assert (first.verdict, second.verdict) == (pb.ACCEPTED, pb.ACCEPTED)
    assert faults(one) == before
