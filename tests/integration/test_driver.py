"""The Python test driver: one per request, forked from the clean zygote; it is
recycled without a fault, replaced when a test leaves it in doubt, and never
carries one request's state into the next."""

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


# Run as a stdio test (no driver involved): the pids of the sandbox's test-uid
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


def test_no_driver_outlives_its_request(one):
    """A fresh test driver per request, forked from the clean zygote: after a
    request no test-uid process is left, and within one a driver past its test
    budget is replaced without a fault."""
    from rlce_server.sandbox.rlce_runner.settings import DRIVER_MAX_TESTS

    n = DRIVER_MAX_TESTS + 20
    tests = [assertion(f"assert add({i}, 1) == {i + 1}") for i in range(n)]
    before = faults(one)
    with Client(one.target) as client:
        assert client.score("python", ADD, [assertion("assert add(1, 1) == 2")], no_cache=True).verdict == pb.ACCEPTED
        assert judge_pids(client) == [], "the request's driver went with it"
        resp = client.score("python", ADD, tests, no_cache=True, timeout_s=300)
        assert judge_pids(client) == []
    assert resp.verdict == pb.ACCEPTED and resp.passed == n
    assert faults(one) == before, "a driver retired at its test budget must not cost a sandbox fault"


def test_one_requests_tests_never_judge_the_next(one):
    """The red team's case: test code that patches math.isclose (or builtins)
    in one request must not change how a later request -- another client's --
    is judged."""
    patch = "import math\nmath.isclose = lambda *a, **k: True\nimport builtins\nbuiltins.MARK = 1\n"
    patch += "import sys\nsys.setrecursionlimit(50)\n"
    judged = "import math, sys, builtins\nassert not hasattr(builtins, 'MARK')\n"
    judged += "assert sys.getrecursionlimit() > 50\nassert math.isclose(add(0.1, 0.2), 0.3)\n"
    wrong = "def add(a, b):\n    return a - b\n"
    with Client(one.target) as first_client, Client(one.target) as other_client:
        assert first_client.score("python", ADD, [assertion(patch)], no_cache=True).verdict == pb.ACCEPTED
        honest = other_client.score("python", ADD, [assertion(judged)], no_cache=True)
        cheat = other_client.score("python", wrong, [assertion(judged)], no_cache=True)
    assert honest.verdict == pb.ACCEPTED, [t.message for t in honest.tests]
    assert cheat.verdict == pb.WRONG_ANSWER


def test_a_test_that_leaves_a_thread_retires_the_driver(one):
    spawn = "import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
    before = faults(one)
    with Client(one.target) as client:
        tests = [assertion(spawn + "assert add(1, 1) == 2"), assertion("assert add(1, 2) == 3")]
        resp = client.score("python", ADD, tests, no_cache=True)
        assert judge_pids(client) == []
    assert resp.verdict == pb.ACCEPTED and resp.passed == 2
    assert faults(one) == before
