"""codecontests-cc300: each reference solution on its stdio tests with TOKENS
matching gets, per test, the outcome of a bare run compared the same way.

CI runs every 5th problem (60 problems, ~600 tests); RLCE_FULL=1 runs all 300.

Near the time limit no comparison can be trusted across machines: a test
whose bare run used more than a third of the limit in CPU time (or timed
out) may pass on one machine and not on another, or with the host busy.
Those tests are left out of the comparison (listed in the output); one
that passed bare must come back as a pass or a time limit, never anything
else.
"""

import os
import time

from rlce_server.client import pb, request, stdio
from tests.conftest import dataset

from .bare import parallel, stdio_run

TIME_LIMIT_S = 10.0
DECIDED_BELOW_CPU_S = TIME_LIMIT_S / 3  # a bare run under this is far from the limit on any machine


def outcome_of_bare(program: str, stdin: str, expected: str) -> tuple[str, float]:
    status, out, cpu_s = stdio_run(program, stdin, TIME_LIMIT_S)
    if status == "timeout":
        return "timeout", cpu_s
    if status != "exited":
        return "fail", cpu_s
    return ("pass" if out.split() == expected.split() else "fail"), cpu_s


def outcome_of_verdict(verdict: int) -> str:
    return {pb.ACCEPTED: "pass", pb.TIME_LIMIT_EXCEEDED: "timeout"}.get(verdict, "fail")


def test_codecontests_outcomes_match_bare_runs(client):
    rows = dataset("codecontests-cc300/codecontests_cc300.jsonl.gz")
    assert len(rows) == 300
    if os.environ.get("RLCE_FULL") != "1":
        rows = rows[::5]
    cases = [(r, i, t) for r in rows for i, t in enumerate(r["tests"])]
    t0 = time.monotonic()
    bare = parallel(lambda c: outcome_of_bare(c[0]["solution_python"], c[2]["input"], c[2]["output"]), cases)
    bare_s = time.monotonic() - t0
    expected = {}
    near_limit = set()
    for c, (outcome, cpu_s) in zip(cases, bare):
        key = (c[0]["problem_id"], c[1])
        expected[key] = outcome
        if outcome == "timeout" or cpu_s >= DECIDED_BELOW_CPU_S:
            near_limit.add(key)
    reqs = [
        request(
            "python",
            r["solution_python"],
            [stdio(t["input"], t["output"], pb.TOKENS, name=str(i)) for i, t in enumerate(r["tests"])],
            request_id=r["problem_id"],
            limits=pb.Limits(time_limit_s=TIME_LIMIT_S, total_time_limit_s=600),
        )
        for r in rows
    ]
    t0 = time.monotonic()
    got = {}
    for resp in client.score_stream(reqs):
        for i, t in enumerate(resp.tests):
            got[(resp.request_id, i)] = outcome_of_verdict(t.verdict)
    rlce_s = time.monotonic() - t0
    assert got.keys() == expected.keys()
    mismatches = {k: (expected[k], got[k]) for k in expected if k not in near_limit and expected[k] != got[k]}
    print(
        f"\n{len(cases)} tests: bare {bare_s:.1f}s, rlce {rlce_s:.1f}s; "
        f"pass {sum(v == 'pass' for v in got.values())}, mismatches {len(mismatches)}; "
        f"near the limit, not compared: {sorted(near_limit)}"
    )
    assert len(near_limit) < len(cases) / 20, "most tests must be decided far from the limit"
    # a bare run that timed out decides nothing (its wall clock ran beside the others): only one
    # that passed must come back as a pass or a time limit (623_d test 4: bare timed out at 6.5 s
    # of CPU on a busy machine, and its output is in fact wrong)
    assert all(got[k] in ("pass", "timeout") for k in near_limit if expected[k] == "pass")
    assert not mismatches, f"{len(mismatches)} tests differ (bare, rlce): {dict(list(mismatches.items())[:10])}"
