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


def sandbox(engine: Any, srv: ServerThread, runtime: str = "java") -> Any:
    labels = [f"rlce.server={srv.settings.instance_id}", f"rlce.runtime={runtime}"]
    [box] = engine.containers.list(filters={"label": labels}, ignore_removed=True)
    return box


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
    box = sandbox(engine, java)
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


@pytest.mark.parametrize("depth", [3000, 60000])
def test_a_program_that_breaks_the_compiler_is_a_compile_error_and_the_next_is_served(
    client: Client, depth: int
) -> None:
    """Expressions nested deep enough overflow javac's stack (an Error in the server's JVM)."""
    deep = "(" * depth + "1" + ")" * depth
    req = with_program(task(0), f"class Solution {{\n  int f() {{ return {deep}; }}\n}}\n")
    assert client.score_request(req).verdict == pb.COMPILE_ERROR
    assert client.score_request(task(2)).verdict == pb.ACCEPTED


def test_javascript_checks_are_served_by_one_stopped_node_of_its_own_uid(
    client: Client, java: ServerThread, engine: Any
) -> None:
    assert client.score_request(task(0, "js")).verdict == pb.ACCEPTED
    box = sandbox(engine, java, "javascript")
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
