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


WRONG_ADD = "def add(a, b):\n    return a - b\n"
# pytest collects Test* classes and unittest.TestCase subclasses: their methods are tests too
PYTEST_CLASS = (
    "import pytest\nfrom solution import add\n\nclass TestAdd:\n    def setup_method(self, method):\n"
    "        self.base = 1\n\n    @pytest.mark.parametrize('a, b', [(2, 3), (10, -4)])\n"
    "    def test_pairs(self, a, b):\n        assert add(a, b) == a + b\n\n    def test_base(self):\n"
    "        assert add(self.base, 1) == 2\n"
)
TESTCASE = (
    "import unittest\n\nclass Checks(unittest.TestCase):\n    @classmethod\n    def setUpClass(cls):\n"
    "        cls.cases = [(2, 3, 5), (10, -4, 6)]\n\n    def setUp(self):\n        self.seen = 0\n\n"
    "    def test_add(self):\n        for a, b, want in self.cases:\n            with self.subTest(a=a):\n"
    "                self.assertEqual(add(a, b), want)\n"
)


def test_test_classes_run_as_pytest_runs_them(one):
    """A test whose checks live in a ``Test*`` class or a ``unittest.TestCase`` subclass runs them:
    the right program passes, a wrong one fails (it used to pass: the class was defined, nothing ran)."""
    with Client(one.target) as client:
        for test in (PYTEST_CLASS, TESTCASE):
            good = client.score("python", ADD, [assertion(test)], no_cache=True)
            assert good.verdict == pb.ACCEPTED, [t.message for t in good.tests]
            bad = client.score("python", WRONG_ADD, [assertion(test)], no_cache=True)
            assert bad.verdict == pb.WRONG_ANSWER, [t.message for t in bad.tests]
        helper = "class Helper:\n    def test_looks_like_one(self):\n        assert False\n\nassert add(2, 3) == 5\n"
        assert client.score("python", ADD, [assertion(helper)], no_cache=True).verdict == pb.ACCEPTED
        skipped = TESTCASE.replace("        for a, b, want", "        self.skipTest('later')\n        for a, b, want")
        resp = client.score("python", ADD, [assertion(skipped)], no_cache=True)
        assert resp.verdict == pb.WRONG_ANSWER and "skipped" in resp.tests[0].message
        # a test class whose name the program's own took (`from solution import *` after it), and a
        # test with an empty parameter set: neither runs a check, so neither passes (red team round 6)
        shadowing = "def Checks():\n    return 0\n" + ADD
        replaced = TESTCASE + "from solution import *\n"
        empty = "import pytest\n\n@pytest.mark.parametrize('a', [])\ndef test_add(a):\n    assert add(a, 1) == a + 1\n"
        for program, test in ((shadowing, replaced), (ADD, empty)):
            resp = client.score("python", program, [assertion(test)], no_cache=True)
            assert resp.verdict == pb.WRONG_ANSWER, (pb.Verdict.Name(resp.verdict), [t.message for t in resp.tests])


def test_async_and_generator_test_functions_are_refused(one):
    """Called plainly, an async or generator test function runs no line of its body: the test is
    refused (INVALID_REQUEST naming it) rather than passed with nothing checked."""
    with Client(one.target) as client:
        for head in ("async def test_add():", "def test_add():\n    yield"):
            test = f"{head}\n    assert add(2, 3) == 6\n"
            resp = client.score("python", ADD, [assertion(test)], no_cache=True)
            assert resp.verdict == pb.INVALID_REQUEST and "test_add" in resp.error, (resp.verdict, resp.error)
