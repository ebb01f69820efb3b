"""Build servers through the real stack (docs/RUNTIMES.md, "Build servers").

A split Java assertion test's two builds (the program's, the test's) are
served by resident JVMs instead of a JVM per step; a split JavaScript test's
syntax check by a resident node. What must hold: each side
has its own server under a uid of its own (none of the candidate's, the
tests' or the judges'); a server is stopped whenever none of its builds runs
and outlives jobs; what a build prints reads as a step process's would; a
compile that breaks the compiler is the program's COMPILE_ERROR and the next
build is served as before; verdicts are those of a process per step.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from rlce_server.client import Client, pb
from rlce_server.config import Settings
from rlce_server.evaluation.formats import load_problems, read_rows
from rlce_server.images import build
from tests.conftest import DATASETS, serving

from .server import ServerThread

# (pid, uid, state) of every build server in a sandbox, read from its /proc
PROBE = r"""
import json, os
found = []
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")
        status = dict(l.split(":", 1) for l in open(f"/proc/{p}/status").read().splitlines() if ":" in l)
    except OSError:
        continue
    if (b"RlceBuild" in argv and b"serve" in argv) or (argv[0] == b"node" and b"builds" in argv):
        found.append([int(p), int(status["Uid"].split()[0]), status["State"].split()[0]])
print(json.dumps(sorted(found)))
"""


@pytest.fixture(scope="module")
def java(engine: Any) -> Iterator[ServerThread]:
    build(Settings(), ["java", "javascript"], client=engine)
    yield from serving(engine, runtimes=["java", "javascript"], workers=1)


@pytest.fixture()
def client(java: ServerThread) -> Iterator[Client]:
    with Client(java.target) as c:
        yield c


def servers(box: Any) -> list[list[int | str]]:
    code, out = box.exec_run(["python3", "-I", "-c", PROBE])
    assert code == 0, out
    return json.loads(out)


def uids(box: Any) -> dict[str, int]:
    env = dict(e.split("=", 1) for e in box.attrs["Config"]["Env"])
    return {k: int(v) for k, v in env.items() if k.endswith("_UID")}


def task(n: int, folder: str = "java") -> pb.ScoreRequest:
    path = sorted((DATASETS / "humaneval-x" / folder).rglob("*.jsonl.gz"))[0]
    rows = {r["task_id"]: r for r in read_rows(path)}
    tid, p = list(load_problems(path).items())[n]
    req = pb.ScoreRequest(request_id=tid, language=p.language, program=p.prompt + rows[tid]["canonical_solution"])
    req.tests.extend(p.tests)
    req.policy.no_cache = True
    return req


def with_program(req: pb.ScoreRequest, program: str) -> pb.ScoreRequest:
    other = pb.ScoreRequest()
    other.CopyFrom(req)
    other.program = program
    return other


def test_each_side_has_a_stopped_server_of_its_own_uid_that_outlives_jobs(
    client: Client, java: ServerThread, engine: Any
) -> None:
    assert client.score_request(task(0)).verdict == pb.ACCEPTED
    box = java.sandbox(engine, "java")
    first = servers(box)
    assert len(first) == 2, first  # the program side's and the test side's
    ids = uids(box)
    sandbox_uids = {ids["RLCE_CANDIDATE_UID"], ids["RLCE_TEST_UID"], ids["RLCE_JUDGE_UID"]}
    server_uids = {int(u) for _, u, _ in first}
    assert len(server_uids) == 2 and not server_uids & sandbox_uids and 0 not in server_uids
    assert all(state == "T" for _, _, state in first), first  # stopped: no build of theirs runs
    assert client.score_request(task(1)).verdict == pb.ACCEPTED
    assert servers(box) == first  # the same processes served the next job, and are stopped again


def test_what_a_served_build_prints_reads_as_a_step_process(client: Client) -> None:
    req = with_program(task(0), "import java.util.*;\nclass Solution {\n  int f() { return missing; }\n}\n")
    x = client.score_request(req)
    assert x.verdict == pb.COMPILE_ERROR and x.reward == 0.0
    assert "Solution.java:3: error: cannot find symbol" in x.compile.output, x.compile.output
    assert "/w/" not in x.compile.output  # no path of the server's build directory


def program_server(box: Any) -> int:
    """The pid of the program side's server (uid U+3)."""
    side = uids(box)["RLCE_CANDIDATE_UID"] + 3
    [pid] = [p for p, u, _ in servers(box) if u == side]
    return int(pid)


def canonical_with(n: int, member: str) -> pb.ScoreRequest:
    """Task ``n``'s canonical solution with one more member in class Solution."""
    req = task(n)
    cut = req.program.rindex("}")
    return with_program(req, req.program[:cut] + member + "\n}\n")


@pytest.mark.parametrize(
    "member",
    [
        # javac's parser overflows its stack (an Error javac catches and reports)
        "int deep() { return " + "(" * 60000 + "1" + ")" * 60000 + "; }",
        # javac folds the chain into one constant of 18 MB per step: out of heap (red team)
        'static final String A = "'
        + "a" * 60000
        + '";\nint big() { String s = '
        + " + ".join(["A"] * 300)
        + "; return s.length(); }",
    ],
    ids=["stack-overflow", "out-of-memory"],
)
def test_an_error_inside_javac_is_a_compile_error_and_ends_that_server(
    client: Client, java: ServerThread, engine: Any, member: str
) -> None:
    """javac catches an Error of its own and answers as for a compile error; the server must
    not serve on in whatever state it left (a heap grown by half a gigabyte, say)."""
    assert client.score_request(canonical_with(1, f"// {secrets.token_hex(8)}")).verdict == pb.ACCEPTED
    box = java.sandbox(engine, "java")
    before = program_server(box)
    x = client.score_request(canonical_with(0, member))
    assert x.verdict == pb.COMPILE_ERROR and x.reward == 0.0
    assert "com.sun.tools.javac" in x.compile.output, x.compile.output[-500:]  # javac's own report of it
    fresh = canonical_with(2, f"// {secrets.token_hex(8)}")  # a program no build of this sandbox has made
    assert client.score_request(fresh).verdict == pb.ACCEPTED
    assert program_server(box) != before  # a fresh server built it


def test_how_deep_an_expression_javac_takes_never_depends_on_earlier_builds(client: Client) -> None:
    """A fresh JVM's javac overflowed now and then on 1,200 nested additions, a warm one (whose
    compiled frames are larger) on 1,100: each served build has a fixed 16 MiB stack of its own."""
    chain = "int pad(int x) { return " + " + ".join(["x"] * 1500) + "; }"
    for _ in range(3):
        x = client.score_request(canonical_with(0, chain))
        assert x.verdict == pb.ACCEPTED, x.compile.output[-500:]


def test_a_build_that_prints_megabytes_keeps_its_diagnostics_and_its_server(
    client: Client, java: ServerThread, engine: Any
) -> None:
    """javac echoes each error's source line: 50 errors on a 60 KB line are 3 MB of output,
    whose end comes back as a step process's would (the runner keeps the last 16 KiB)."""
    assert client.score_request(canonical_with(1, f"// {secrets.token_hex(8)}")).verdict == pb.ACCEPTED
    box = java.sandbox(engine, "java")
    before = program_server(box)
    line = " ".join(f"int a{k} = undefinedSym{k};" for k in range(60)) + " // " + "z" * 60000
    x = client.score_request(with_program(task(0), f"class Solution {{\n{line}\n}}\n"))
    assert x.verdict == pb.COMPILE_ERROR
    assert x.compile.output.endswith(
        "only showing the first 50 errors, of 60 total; use -Xmaxerrs if you would like to see more\n"
    )
    assert "killed" not in x.compile.output
    assert program_server(box) == before


def test_javascript_checks_are_served_by_one_stopped_node_of_its_own_uid(
    client: Client, java: ServerThread, engine: Any
) -> None:
    assert client.score_request(task(0, "js")).verdict == pb.ACCEPTED
    box = java.sandbox(engine, "javascript")
    first = servers(box)
    assert len(first) == 1, first  # the program side only: the test build has no step
    ids = uids(box)
    assert first[0][1] not in {ids["RLCE_CANDIDATE_UID"], ids["RLCE_TEST_UID"], ids["RLCE_JUDGE_UID"], 0}
    assert first[0][2] == "T"
    bad = client.score_request(with_program(task(1, "js"), "const f = (a => {\n  return a;\n"))
    assert bad.verdict == pb.COMPILE_ERROR
    assert bad.compile.output.startswith("program.js:"), bad.compile.output  # as `node check` prints it
    assert "SyntaxError" in bad.compile.output and "/w/" not in bad.compile.output
    assert client.score_request(task(1, "js")).verdict == pb.ACCEPTED
    assert servers(box) == first


def test_a_javascript_check_that_quotes_a_program_of_the_largest_size_is_a_compile_error(
    client: Client, java: ServerThread, engine: Any
) -> None:
    """V8's syntax error quotes the offending line; a program of one line at the size limit made
    the check's answer longer than a server may give, read as our fault (red team, 2026-12-03).
    The server keeps the answer's last 64 KiB, as the Java server does."""
    assert client.score_request(task(2, "js")).verdict == pb.ACCEPTED
    box = java.sandbox(engine, "javascript")
    first = servers(box)
    head, tail = "function add(a, b) { return a + b }; var x = 1;", " @@@;"
    program = head + " " * (Settings().max_program_bytes - len(head) - len(tail)) + tail
    bad = client.score_request(with_program(task(2, "js"), program))
    assert bad.verdict == pb.COMPILE_ERROR, (bad.error, bad.compile.output[-300:])
    assert "SyntaxError" in bad.compile.output
    assert servers(box) == first
