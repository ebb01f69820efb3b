"""The zygote's C loop through the real stack (sandbox_images/spawn/forkloop.c, docs/RUNTIMES.md).

Every Python process of a test (script, program server, test driver, judge) is
forked by the zygote's loop in C, set up there by spawn.c's steps, and goes on
in Python; an exec, a denied call and the rare helpers without descriptors
(kill, wipe) are served by the zygote's Python. What must hold: the loop is the
one in use, a forked process is set up exactly as the Python path set it up
(uid, groups, session, umask, limits, signals, descriptors, Python's own
signal state), draws its own randomness, and exits, kills and denied calls are
reported as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rlce_server.client import Client, assertion, pb, request, stdio
from tests.conftest import serving

from .server import ServerThread

PROBE = r"""
import json, os, random, resource, signal
def soft(which):
    value = resource.getrlimit(which)[0]
    return "unlimited" if value == resource.RLIM_INFINITY else value
facts = {
    "uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
    "session_leader": os.getsid(0) == os.getpid(), "umask": os.umask(0o22),
    "nofile": soft(resource.RLIMIT_NOFILE), "core": soft(resource.RLIMIT_CORE),
    "cpu": soft(resource.RLIMIT_CPU), "as": soft(resource.RLIMIT_AS), "nproc": soft(resource.RLIMIT_NPROC),
    "oom": open("/proc/self/oom_score_adj").read().strip(),
    "fds": sorted(int(f) for f in os.listdir("/proc/self/fd"))[:-1],
    "wakeup_fd": signal.set_wakeup_fd(-1),
    "handlers": [signal.getsignal(s) == signal.SIG_DFL for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT)],
    "sigblk": [l.split()[1] for l in open("/proc/self/status") if l.startswith("SigBlk")][0],
    "random": [random.random(), os.urandom(8).hex()],
}
print(json.dumps(facts))
"""


@pytest.fixture(scope="module")
def python_server(engine: Any) -> Iterator[ServerThread]:
    yield from serving(engine, runtimes=["python"], workers=1)


@pytest.fixture()
def client(python_server: ServerThread) -> Iterator[Client]:
    with Client(python_server.target) as c:
        yield c


def test_the_zygote_runs_the_c_loop(python_server: ServerThread, engine: Any) -> None:
    """The library is mapped in the zygote (a fallback to the Python loop would not map it);
    read from the host: the zygote is not dumpable, so nothing in the container reads its maps."""
    box = python_server.sandbox(engine, "python")
    runner = int(box.attrs["State"]["Pid"])
    (zygote,) = [int(p) for p in Path(f"/proc/{runner}/task/{runner}/children").read_text().split()]
    assert "/usr/lib/rlce/forkloop.so" in Path(f"/proc/{zygote}/maps").read_text()


def probe(client: Client, tests: int, memory_mb: int = 256) -> list[dict[str, Any]]:
    req = pb.ScoreRequest(
        request_id="probe", language="python", program=PROBE, tests=[stdio("", "", name=f"t{i}") for i in range(tests)]
    )
    req.limits.memory_limit_mb = memory_mb
    req.limits.cpu_time_limit_s = 3
    req.policy.no_cache = True
    resp = client.score_request(req)
    assert resp.verdict == pb.WRONG_ANSWER, resp  # ran, and printed (the expected output is empty)
    return [json.loads(t.stdout) for t in resp.tests]


def test_a_forked_script_is_set_up_as_the_python_path_set_it_up(client: Client) -> None:
    [me] = probe(client, 1)
    assert len(set(me["uid"])) == 1 and me["uid"][0] != 0 and len(set(me["gid"])) == 1 and me["gid"][0] != 0
    assert me["groups"] in ([], [me["gid"][0]]) and me["session_leader"] is True
    assert me["umask"] == 0o77
    assert (me["nofile"], me["core"], me["cpu"]) == (256, 0, 4)  # cpu: the limit's whole seconds + 1
    assert me["as"] != "unlimited" and me["nproc"] != "unlimited"
    assert me["oom"] == "1000"
    assert me["fds"] == [0, 1, 2], me["fds"]  # payload, ready pipe, the zygote's sockets: all closed
    assert me["wakeup_fd"] == -1  # Python's own signal state too: no write to a descriptor number
    assert me["handlers"] == [True, True, True]
    assert int(me["sigblk"], 16) == 0


def test_the_address_space_backstop_follows_the_memory_limit(client: Client) -> None:
    [small] = probe(client, 1, memory_mb=64)
    [large] = probe(client, 1, memory_mb=512)
    assert large["as"] - small["as"] == (512 - 64) << 20, (small["as"], large["as"])


def test_every_forked_process_draws_its_own_randomness(client: Client) -> None:
    draws = [tuple(map(str, p["random"])) for p in probe(client, 3) + probe(client, 2)]
    values = [v for d in draws for v in d]
    assert len(set(values)) == len(values), draws


def test_exits_kills_and_the_python_side_still_answer(client: Client) -> None:
    """A program server and a driver (forked in C) judge; a program that leaves a process
    behind is killed through the kill helper (served in Python); a denied call is counted."""
    ok = request("python", "def f(x):\n    return x + 1\n", [assertion("assert f(1) == 2")], no_cache=True)
    assert client.score_request(ok).verdict == pb.ACCEPTED
    wrong = request("python", "def f(x):\n    return x\n", [assertion("assert f(1) == 2")], no_cache=True)
    assert client.score_request(wrong).verdict == pb.WRONG_ANSWER
    left = request(
        "python",
        "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nprint('ok')\n",
        [stdio("", "ok\n")],
        no_cache=True,
    )
    assert client.score_request(left).verdict == pb.ACCEPTED  # (what it left is killed after it)
    denied = request(
        "python",
        # tee(2): allowed by Docker's own profile, denied by rlce's filter through its listener
        "import ctypes, sys\nctypes.CDLL(None).tee(0, 1, 1, 0)\nsys.exit(3)\n",
        [stdio("", "")],
        no_cache=True,
    )
    resp = client.score_request(denied)
    assert resp.verdict == pb.RUNTIME_ERROR and "tee x1" in resp.tests[0].message, resp
    assert client.score_request(ok).verdict == pb.ACCEPTED  # and the sandbox serves on


# 33 threads making a denied call without end: the zygote's listener always has one waiting.
FLOOD = r"""
#include <thread>
#include <vector>
#include <unistd.h>
#include <sys/syscall.h>
static void spin() { for (;;) syscall(SYS_tee, 0, 1, 1, 0); }
int main() { std::vector<std::thread> t; for (int i = 0; i < 32; i++) t.emplace_back(spin); spin(); }
"""


def test_a_flood_of_denied_calls_never_keeps_the_runner_waiting(polyglot: ServerThread) -> None:
    """Each pass of the loop serves one request and one denied call (red team: a loop that
    always answered the listener first never read the runner's kill): the program is stopped
    at its wall-clock limit, its calls counted, and the sandbox serves the next job."""
    flood = request("cpp", FLOOD, [stdio("", "ok\n")], no_cache=True)
    flood.limits.wall_time_limit_s = 1
    ok = request("cpp", '#include <cstdio>\nint main() { std::puts("ok"); }\n', [stdio("", "ok\n")], no_cache=True)
    with Client(polyglot.target) as c:
        for _ in range(2):
            resp = c.score_request(flood)
            assert resp.verdict == pb.TIME_LIMIT_EXCEEDED and "tee x" in resp.tests[0].message, resp
        assert c.score_request(ok).verdict == pb.ACCEPTED
