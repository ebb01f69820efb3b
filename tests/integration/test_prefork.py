"""The JavaScript image's pre-linked node through the real stack (docs/RUNTIMES.md, "Pre-linked node").

Every node process of a JavaScript request (stdio program, split program and
test, build step) is forked by the zygote's resident fork server
(sandbox_images/javascript/prefork.c), which loaded libnode once, instead of
an exec that links it again. What must hold: the process is set up exactly
as an exec'd one (uid, groups, session, limits, signals, descriptors: none of
the server's), draws its own randomness (nothing seeded in the server is
shared), a node it starts itself (``process.execPath``) is node, the server
outlives jobs under root and holds no sandbox uid, the program's process and
the test's are copies of different servers (a program's memory map tells it
nothing of the test's), and a sandbox whose server is gone is replaced rather
than run on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def test_the_server_is_root_and_outlives_jobs_and_a_sandbox_without_it_is_replaced(
    client: Client, node: ServerThread, engine: Any
) -> None:
    box = node.sandbox(engine, "javascript")
    find = [
        "sh",
        "-c",
        "for p in /proc/[0-9]*; do [ $p != /proc/$$ ] && grep -qa rlce-prefork-serve $p/cmdline 2>/dev/null && "
        "grep -q '^Threads:[[:space:]]*1$' $p/status && echo ${p#/proc/} $(awk '/^Uid/ {print $2}' $p/status); done",
    ]
    before = box.exec_run(find).output.decode().split()
    probe(client, 1)
    after = box.exec_run(find).output.decode().split()
    # two single-threaded servers (the candidate's, everyone else's), root, the same processes
    # before and after a job (their forked children, gone by now, were the only other processes
    # with their command line)
    assert len(before) == 4 and before == after and before[1] == before[3] == "0", (before, after)
    assert box.exec_run(["sh", "-c", f"kill -9 {before[2]}"]).exit_code == 0
    # Served all the same, by a fork server: the killed server's zygote ended with it, so the
    # sandbox that answered is a replacement, not that one run on without its server.
    [seen] = probe(client, 1)
    assert "--rlce-prefork-serve" in seen["self"]["cmdline"]
