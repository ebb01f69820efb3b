"""The zygote's fork servers through the real stack (docs/RUNTIMES.md, "Fork servers", "Pre-linked node").

Every exec'd process of a sandbox starts as a fork of one of two resident
fork servers (sandbox_images/spawn/forkserver.c) that runs the spawn
helper's set-up and execs the program; in the JavaScript image the server is
its node (sandbox_images/javascript/prefork.c), which loaded libnode once and
starts node in the forked child instead of exec'ing it. What must hold: the
process is set up exactly as an exec'd one (uid, groups, session, limits,
signals, descriptors: none of the server's; tests/integration/test_exec_start.py
checks a C++ program's), is the zygote's own child, draws its own randomness
(nothing seeded in the server is shared), a node it starts itself
(``process.execPath``) is node, the servers outlive jobs under root and hold
no sandbox uid, the program's process and the test's are copies of different
servers (a program's memory map tells it nothing of the test's), and a
sandbox whose server is gone is replaced rather than run on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rlce_server.client import Client, pb, stdio
from tests.conftest import serving

from .server import ServerThread

# What the process was given, as one JSON line (checked below), and the same read by a
# node it starts itself through process.execPath (exec'd as any program's child is).
PROBE = r"""
const fs = require('fs');
const status = Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\n')
  .filter((l) => l.includes(':')).map((l) => [l.split(':')[0], l.slice(l.indexOf(':') + 1).trim()]));
const limits = fs.readFileSync('/proc/self/limits', 'utf8');
const soft = (name) => (limits.split('\n').find((l) => l.startsWith(name)) || '').slice(26).trim().split(/\s+/)[0];
const link = (fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch (_) { return 'gone'; } };
const fds = fs.readdirSync('/proc/self/fd').map(link);
const readable = (f) => { try { return fs.readFileSync(f).length > 0; } catch (e) { return e.code; } };
const facts = {
  uid: [process.getuid(), process.geteuid()], gid: [process.getgid(), process.getegid()],
  groups: process.getgroups().filter((g) => g !== process.getgid()),
  session_leader: fs.readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' ')[3] === String(process.pid),
  umask: process.umask(), nofile: soft('Max open files'), core: soft('Max core file size'),
  cpu: soft('Max cpu time'), as: soft('Max address space'),
  oom: fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim(),
  sigblk: status.SigBlk, sigign: status.SigIgn, sockets: fds.filter((f) => f.startsWith('socket:')).length,
  cmdline: fs.readFileSync('/proc/self/cmdline', 'latin1').split('\0').filter(Boolean),
  comm: fs.readFileSync('/proc/self/comm', 'latin1').trim(),
  own_environ: readable('/proc/self/environ'),
  random: [require('crypto').randomBytes(16).toString('hex'), Math.random(), require('crypto').randomUUID()],
};
if (process.argv[2] === 'child') {
  console.log(JSON.stringify(facts));
} else {
  const child = require('child_process').execFileSync(process.execPath, [__filename, 'child'], { encoding: 'utf8' });
  console.log(JSON.stringify({ self: facts, child: JSON.parse(child) }));
}
"""


@pytest.fixture(scope="module")
def node(engine: Any) -> Iterator[ServerThread]:
    yield from serving(engine, runtimes=["javascript"], workers=1)


@pytest.fixture()
def client(node: ServerThread) -> Iterator[Client]:
    with Client(node.target) as c:
        yield c


def probe(client: Client, tests: int) -> list[dict[str, Any]]:
    req = pb.ScoreRequest(
        request_id="probe",
        language="javascript",
        program=PROBE,
        tests=[stdio("", "", name=f"t{i}") for i in range(tests)],
    )
    req.policy.no_cache = True
    resp = client.score_request(req)
    assert resp.verdict == pb.WRONG_ANSWER, resp  # ran, and printed (the expected output is empty)
    return [json.loads(t.stdout) for t in resp.tests]


def test_a_preforked_node_starts_as_an_execd_one_would(client: Client) -> None:
    [seen] = probe(client, 1)
    me, child = seen["self"], seen["child"]
    assert "--rlce-prefork-serve" in me["cmdline"], me["cmdline"]  # forked by the server, not exec'd
    assert "--rlce-prefork-serve" not in child["cmdline"], child["cmdline"]  # its own child: exec'd node
    assert me["uid"][0] == me["uid"][1] != 0 and me["gid"][0] == me["gid"][1] != 0
    assert me["groups"] == [] and me["session_leader"] is True
    assert me["umask"] == 0o77
    assert (me["nofile"], me["core"]) == ("256", "0")
    assert me["cpu"] != "unlimited" and me["as"] != "unlimited"
    assert me["oom"] == "1000"
    assert int(me["sigblk"], 16) == 0
    assert me["sockets"] == 0  # the server's socket is closed before any program code runs
    # what node itself ignores, and nothing the server or posix_spawn left behind: the same as
    # in a node exec'd from scratch
    assert me["sigign"] == child["sigign"], (me["sigign"], child["sigign"])
    # dumpable and named as an exec'd node is (red team: a non-dumpable one could not read
    # its own /proc/self/environ)
    assert (me["comm"], me["own_environ"]) == (child["comm"], child["own_environ"]) == ("node", True), (me, child)
    assert child["uid"] == me["uid"] and child["random"] != me["random"]


def test_every_preforked_node_draws_its_own_randomness(client: Client) -> None:
    """OpenSSL's generator, V8's Math.random and the UUIDs are seeded in each process, never
    in the server every process is a copy of."""
    draws = [tuple(map(str, p["self"]["random"])) for p in probe(client, 3) + probe(client, 2)]
    values = [v for d in draws for v in d]
    assert len(set(values)) == len(values), draws


def test_a_program_that_rewrites_its_title_only_changes_its_title(client: Client) -> None:
    """libuv gives process.title the span of node's argv; the split program side's argv is
    built by the front end (``--rlce-serve``), as one block."""
    req = pb.ScoreRequest(
        request_id="title",
        language="javascript",
        program="process.title = 'x'.repeat(5000);\nfunction add(a, b) { return a + b; }\n",
        tests=[pb.TestCase(name="t", assertion=pb.AssertTest(code="console.assert(add(2, 3) === 5);"))],
    )
    req.policy.no_cache = True
    assert client.score_request(req).verdict == pb.ACCEPTED


def test_the_program_learns_nothing_of_where_the_test_process_has_its_libraries(client: Client) -> None:
    """Each side's processes are copies of its own server: the same libnode address in both
    would mean a program's memory map told it the trusted side's layout."""
    base = (
        "(() => { const l = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n')"
        ".find((x) => x.includes('libnode')); return l.split('-')[0]; })()"
    )
    req = pb.ScoreRequest(
        request_id="layout",
        language="javascript",
        program=f"function where() {{ return {base}; }}\n",
        tests=[
            pb.TestCase(
                name="t",
                assertion=pb.AssertTest(
                    code=f"const mine = {base};\nconsole.assert(/^[0-9a-f]+$/.test(where()) && where() !== mine);"
                ),
            )
        ],
    )
    req.policy.no_cache = True
    resp = client.score_request(req)
    assert resp.verdict == pb.ACCEPTED, resp


# A C++ program's own command line and its parent's: exec'd (its own), the zygote's child
# (CLONE_PARENT: not the server's).
CPP_PROBE = r"""
#include <cstdio>
#include <string>
#include <unistd.h>
static std::string cmdline(const std::string& pid) {
    std::string out;
    FILE* f = std::fopen(("/proc/" + pid + "/cmdline").c_str(), "r");
    for (int c; f && (c = std::fgetc(f)) != EOF;) out += c ? (char)c : ' ';
    return out;
}
int main() { std::printf("%s\n%s\n", cmdline("self").c_str(), cmdline(std::to_string(getppid())).c_str()); }
"""


@pytest.fixture(scope="module")
def cpp(engine: Any) -> Iterator[ServerThread]:
    yield from serving(engine, runtimes=["cpp"], workers=1)


def cpp_probe(target: str) -> list[str]:
    req = pb.ScoreRequest(request_id="cpp-probe", language="cpp", program=CPP_PROBE, tests=[stdio("", "", name="t")])
    req.policy.no_cache = True
    with Client(target) as c:
        resp = c.score_request(req)
    assert resp.verdict == pb.WRONG_ANSWER, resp  # ran, and printed (the expected output is empty)
    return resp.tests[0].stdout.decode().splitlines()


def test_a_compiled_program_is_execd_by_a_child_of_the_zygote(cpp: ServerThread) -> None:
    own, parent = cpp_probe(cpp.target)
    assert own.split()[0].endswith("/prog") and "rlce-prefork-serve" not in own, own  # exec'd: its own image
    assert "rlce_runner" in parent and "rlce-prefork-serve" not in parent, parent  # the zygote's child


def servers_outlive_jobs(server: ServerThread, engine: Any, runtime: str, run: Callable[[], object]) -> None:
    """Two single-threaded root servers, the same before and after a job; one killed takes its
    sandbox with it, and the next job is served by a replacement's servers."""
    box = server.sandbox(engine, runtime)
    find = [
        "sh",
        "-c",
        "for p in /proc/[0-9]*; do [ $p != /proc/$$ ] && grep -qa rlce-prefork-serve $p/cmdline 2>/dev/null && "
        "grep -q '^Threads:[[:space:]]*1$' $p/status && echo ${p#/proc/} $(awk '/^Uid/ {print $2}' $p/status); done",
    ]
    before = servers(box, find)
    woken = switches(box, before[0])
    run()
    after = servers(box, find)
    # two single-threaded servers (the candidate's, everyone else's), root, the same processes
    # before and after a job (their forked children, gone by now, were the only other processes
    # with their command line)
    assert len(before) == 4 and before == after and before[1] == before[3] == "0", (before, after)
    # and the candidate's process came from its server (the first started): it woke for the
    # request (one that slept through the job would mean the program was started some other way)
    assert switches(box, before[0]) > woken, woken
    assert box.exec_run(["sh", "-c", f"kill -9 {before[2]}"]).exit_code == 0
    # Served all the same: the killed server's zygote ended with it, so the sandbox that
    # answers is a replacement with servers of its own, not that one run on without its server.
    run()
    # the replacement that just served (a server of one worker: the only other one running)
    labels = [f"rlce.server={server.settings.instance_id}", f"rlce.runtime={runtime}"]
    live = engine.containers.list(filters={"label": labels, "status": "running"}, ignore_removed=True)
    [again] = [b for b in live if b.id != box.id]
    assert len(servers(again, find)) == 4


def servers(box: Any, find: list[str]) -> list[str]:
    """The fork servers' pids and uids, in the order they started: pid, uid, pid, uid."""
    found = box.exec_run(find).output.decode().split()
    pairs = sorted(zip(found[::2], found[1::2], strict=True), key=lambda pair: int(pair[0]))
    return [x for pair in pairs for x in pair]


def switches(box: Any, pid: str) -> int:
    """How often a process of the container went to sleep waiting (its voluntary context switches)."""
    status = box.exec_run(["cat", f"/proc/{pid}/status"]).output.decode()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("voluntary_ctxt_switches")))


def test_the_node_servers_are_root_and_outlive_jobs_and_a_sandbox_without_one_is_replaced(
    client: Client, node: ServerThread, engine: Any
) -> None:
    servers_outlive_jobs(node, engine, "javascript", lambda: probe(client, 1))
    [seen] = probe(client, 1)
    assert "--rlce-prefork-serve" in seen["self"]["cmdline"]  # a node forked by a server, not exec'd


def test_the_servers_of_a_compiled_runtime_are_root_and_outlive_jobs_and_a_sandbox_without_one_is_replaced(
    cpp: ServerThread, engine: Any
) -> None:
    servers_outlive_jobs(cpp, engine, "cpp", lambda: cpp_probe(cpp.target))
