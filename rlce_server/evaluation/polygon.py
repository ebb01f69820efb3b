"""A Polygon (Codeforces) problem package as an rlce problem, and its solutions' tags as verdicts.

A package is a directory: ``problem.xml`` names the testset (input and answer
path patterns, CPU time limit in ms, memory limit in bytes), the checker and
interactor sources (testlib programs), the resources beside them
(``testlib.h``) and the solutions, each with a tag saying how it must be
judged. ``rlce polygon DIR`` judges every solution and says whether it got
what its tag says -- what a problem setter checks before a round, and a
problem's sanity check before an RL run trains on it.

testlib.h comes from the package's resources when it has them (a full
package does), else from ``RLCE_TESTLIB_H``: rlce ships none.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..client import Client, request

# Polygon source types by prefix -> rlce runtimes
LANGUAGES = {
    "cpp": "cpp",
    "c.": "cpp",
    "python": "python",
    "java": "java",
    "rust": "rust",
    "go": "go",
    "js": "javascript",
}
# a tag -> the overall verdicts it allows (Polygon's invocation rules; "rejected": anything but ACCEPTED)
TAGS: dict[str, frozenset[str]] = {
    "main": frozenset({"ACCEPTED"}),
    "accepted": frozenset({"ACCEPTED"}),
    "wrong-answer": frozenset({"WRONG_ANSWER"}),
    "presentation-error": frozenset({"WRONG_ANSWER"}),
    "time-limit-exceeded": frozenset({"TIME_LIMIT_EXCEEDED"}),
    "time-limit-exceeded-or-accepted": frozenset({"TIME_LIMIT_EXCEEDED", "ACCEPTED"}),
    "time-limit-exceeded-or-memory-limit-exceeded": frozenset({"TIME_LIMIT_EXCEEDED", "MEMORY_LIMIT_EXCEEDED"}),
    "memory-limit-exceeded": frozenset({"MEMORY_LIMIT_EXCEEDED"}),
    "rejected": frozenset({"WRONG_ANSWER", "TIME_LIMIT_EXCEEDED", "MEMORY_LIMIT_EXCEEDED", "RUNTIME_ERROR"}),
}


class PackageError(ValueError):
    """A package rlce cannot read, with the file or element at fault."""


@dataclass(frozen=True)
class Solution:
    path: str
    tag: str
    language: str
    source: str

    @property
    def allowed(self) -> frozenset[str]:
        return TAGS[self.tag]


@dataclass
class Package:
    name: str
    tests: list[pb.TestCase]
    limits: pb.Limits
    checker: pb.JudgeProgram | None = None
    interactor: pb.JudgeProgram | None = None
    solutions: list[Solution] = field(default_factory=list)


def language_of(source_type: str, where: str) -> str:
    for prefix, language in LANGUAGES.items():
        if source_type.startswith(prefix):
            return language
    raise PackageError(f"{where}: source type {source_type!r} is not a language rlce serves")


def _read(root: Path, rel: str, where: str) -> bytes:
    path = (root / rel).resolve()
    if root.resolve() not in path.parents:
        raise PackageError(f"{where}: {rel} is outside the package")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PackageError(f"{where}: {rel}: {exc.strerror}") from None


def _resources(root: Path, xml: ET.Element) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for f in xml.findall("./files/resources/file"):
        rel = f.get("path", "")
        if (root / rel).is_file():
            files[Path(rel).name] = _read(root, rel, "files/resources")
    if "testlib.h" not in files and os.environ.get("RLCE_TESTLIB_H"):
        files["testlib.h"] = Path(os.environ["RLCE_TESTLIB_H"]).read_bytes()
    return files


def _judge(root: Path, xml: ET.Element, which: str, files: dict[str, bytes]) -> pb.JudgeProgram | None:
    source = xml.find(f"./assets/{which}/source")
    if source is None:
        return None
    where = f"assets/{which}"
    text = _read(root, source.get("path", ""), where).decode("utf-8", "replace")
    if '"testlib.h"' in text and "testlib.h" not in files:
        raise PackageError(f"{where}: includes testlib.h; the package has none: set RLCE_TESTLIB_H (or --testlib)")
    return pb.JudgeProgram(language=language_of(source.get("type", ""), where), source=text, files=files)


def load(root: Path) -> Package:
    """The package's tests, limits, judges and tagged solutions."""
    try:
        xml = ET.parse(root / "problem.xml").getroot()
    except (OSError, ET.ParseError) as exc:
        raise PackageError(f"{root / 'problem.xml'}: {exc}") from None
    testset = xml.find("./judging/testset[@name='tests']")
    if testset is None:
        raise PackageError("problem.xml: no judging/testset named 'tests'")

    def number(tag: str) -> int:
        node = testset.find(tag)
        if node is None or not (node.text or "").strip().isdigit():
            raise PackageError(f"problem.xml: testset/{tag} is missing or not a number")
        return int(node.text or "0")

    inputs = testset.findtext("input-path-pattern") or ""
    answers = testset.findtext("answer-path-pattern") or ""
    files = _resources(root, xml)
    interactor = _judge(root, xml, "interactor", files)
    tests = []
    for k in range(1, number("test-count") + 1):
        stdin = _read(root, inputs % k, f"test {k}")
        answer = _read(root, answers % k, f"test {k}")
        kind = {"interactive": pb.InteractiveTest(input=stdin, answer=answer)} if interactor else {}
        stdio = {} if interactor else {"stdio": pb.StdioTest(stdin=stdin, expected_stdout=answer)}
        tests.append(pb.TestCase(name=f"test {k}", **kind, **stdio))  # type: ignore[arg-type]
    limits = pb.Limits(time_limit_s=number("time-limit") / 1000, memory_limit_mb=max(1, number("memory-limit") >> 20))
    solutions = []
    for s in xml.findall("./assets/solutions/solution"):
        src = s.find("source")
        tag = s.get("tag", "")
        if src is None or tag not in TAGS:
            continue  # tags rlce has no verdict for (e.g. "failed") are not judged
        rel = src.get("path", "")
        text = _read(root, rel, "assets/solutions").decode("utf-8", "replace")
        solutions.append(Solution(rel, tag, language_of(src.get("type", ""), rel), text))
    return Package(
        name=xml.get("short-name", root.name),
        tests=tests,
        limits=limits,
        checker=_judge(root, xml, "checker", files),
        interactor=interactor,
        solutions=solutions,
    )


@dataclass(frozen=True)
class Judged:
    solution: Solution
    response: pb.ScoreResponse

    @property
    def verdict(self) -> str:
        return pb.Verdict.Name(self.response.verdict)

    @property
    def as_tagged(self) -> bool:
        return self.verdict in self.solution.allowed


def judge_all(client: Client, package: Package) -> list[Judged]:
    """Register the problem once, then judge every tagged solution against it."""
    ref = client.register_tests(package.tests, checker=package.checker, interactor=package.interactor)
    requests = [
        request(s.language, s.source, tests_ref=ref, request_id=s.path, limits=package.limits, no_cache=True)
        for s in package.solutions
    ]
    by_id = {r.request_id: r for r in client.score_stream(requests)}
    return [Judged(s, by_id[s.path]) for s in package.solutions]
