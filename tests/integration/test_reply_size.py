"""What a program prints and returns, each at the largest limit a request may set, comes back
as the program's verdict: never a runner reply too large for the host (red team, 2026-12-03).

A reply carries the program's two streams, its returned value and, for a split test, the
trusted test's output. Before, a Python call's value of two-byte characters was re-escaped to
six bytes each, and a Go test's testify diff of the program's 16 MiB string filled two more
streams at the request's cap: the reply passed 64 MiB, two sandboxes were lost, and the
program's failure read as "the program breaks the sandbox". Each attack runs beside its
honest control under the same limits.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rlce_server.client import Client, call, pb
from tests.adversarial.test_compiled_corpus import task_tests

from .server import ServerThread

BROKE = "the program breaks the sandbox"
MIB = 1 << 20

PY_FLOOD = """import sys
def add(a, b):
    block = b'o' * (1 << 20)
    for _ in range(%d):
        sys.stdout.buffer.write(block)
        sys.stderr.buffer.write(block)
    sys.stdout.flush()
    sys.stderr.flush()
    return '\\u00e9' * (8 * 1024 * 1024 - 64)  # 16 MiB of UTF-8: the largest value a call returns
"""

GO_FLOOD = """package main

import (
    "os"
    "strings"
)

var calls = 0

func Concatenate(strs []string) string {
    calls++
    if calls > 1 {
        return strings.Join(strs, "")
    }
    block := []byte(strings.Repeat("o", 1<<20))
    for i := 0; i < 16; i++ {
        os.Stdout.Write(block)
        os.Stderr.Write(block)
    }
    return strings.Repeat(strings.Repeat("x", 99)+"\\n", (16<<20-64)/100)
}
"""
GO_HONEST = (
    'package main\n\nimport "strings"\n\nfunc Concatenate(strs []string) string { return strings.Join(strs, "") }\n'
)


@pytest.fixture(scope="module")
def client(polyglot: ServerThread) -> Iterator[Client]:
    with Client(polyglot.target) as c:
        yield c


def _score(client: Client, language: str, program: str, tests: list[pb.TestCase], output_mib: int) -> pb.ScoreResponse:
    req = pb.ScoreRequest(language=language, program=program, tests=tests)
    req.limits.output_limit_bytes = output_mib * MIB
    req.policy.no_cache = True
    return client.score_request(req, timeout_s=600)


def _is_the_programs_failure(x: pb.ScoreResponse) -> None:
    shown = [(pb.Verdict.Name(t.verdict), t.message[:200]) for t in x.tests]
    assert x.verdict not in (pb.ACCEPTED, pb.SANDBOX_ERROR, pb.INVALID_REQUEST), (x.error, shown)
    assert not any(BROKE in t.message for t in x.tests) and BROKE not in x.error, shown
    assert x.reward == 0.0, shown


@pytest.mark.parametrize("output_mib", [8, 16])
def test_a_python_calls_value_and_full_streams_are_the_programs(client: Client, output_mib: int) -> None:
    tests = [call("add", [2, 3], 5)]
    _is_the_programs_failure(_score(client, "python", PY_FLOOD % output_mib, tests, output_mib))
    honest = _score(client, "python", "def add(a, b):\n    return a + b\n", tests, output_mib)
    assert honest.verdict == pb.ACCEPTED, [t.message for t in honest.tests]


def test_a_split_tests_output_swollen_by_the_programs_value_is_the_programs(client: Client) -> None:
    tests = task_tests("go", "Go/28")
    _is_the_programs_failure(_score(client, "go", GO_FLOOD, tests, 16))
    honest = _score(client, "go", GO_HONEST, tests, 16)
    assert honest.verdict == pb.ACCEPTED, [t.message for t in honest.tests]
