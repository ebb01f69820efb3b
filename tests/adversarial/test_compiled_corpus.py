"""The compiled runtimes' adversarial corpus through the real stack.

``compiled/<language>.json`` holds programs a policy under RL learns to write
against HumanEval-X (and MultiPL-E) assertion tests in C++, Java, JavaScript,
Go and Rust: exits before or after the tests, overridden assertion macros and
functions, patched test binaries, forged wire messages and markers, signals
at the test process, readings of the test's source and expected values,
symbol interposition, static initialisers, runaway builds... Each was first
run against the per-language split design (docs/SPLIT_TESTS.md); ``why``
says what it tries. None computes its task honestly, so any reward, an
ACCEPTED verdict, or a SANDBOX_ERROR (the candidate blaming the sandbox) is a
hole, and so is INVALID_REQUEST (a failure passed off as the caller's).
Entries marked ``control`` are honest solutions that must pass in the same
run, so a corpus that fails everything proves nothing.

All attacks of a language are scored in one stream (the server's sandboxes
work on them concurrently); afterwards every control passes again, in
sandboxes that just served the attacks.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from rlce_server.client import Client, assertion, pb
from rlce_server.evaluation.formats import load_problems, read_rows
from tests.conftest import DATASETS
from tests.integration.server import ServerThread

CORPUS = Path(__file__).parent / "compiled"
HUMANEVAL_X = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust"}
MULTIPL_E = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rs"}
LANGUAGES = sorted(p.stem for p in CORPUS.glob("*.json"))


def corpus(language: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((CORPUS / f"{language}.json").read_text())
    return entries


@cache
def humaneval_x(language: str) -> dict[str, Any]:
    (path,) = sorted((DATASETS / "humaneval-x" / HUMANEVAL_X[language]).glob("*.jsonl.gz"))
    return load_problems(path)


@cache
def multipl_e(language: str) -> dict[str, list[pb.TestCase]]:
    path = DATASETS / "multipl-e-humaneval" / f"humaneval-{MULTIPL_E[language]}.jsonl.gz"
    return {row["name"]: [assertion(row["tests"])] for row in read_rows(path)}


def task_tests(language: str, task: str) -> list[pb.TestCase]:
    if task.startswith("MPE/"):
        return multipl_e(language)[task.removeprefix("MPE/")]
    return list(humaneval_x(language)[task].tests)


def requests(language: str, entries: list[dict[str, Any]], tag: str = "") -> list[pb.ScoreRequest]:
    out = []
    for e in entries:
        req = pb.ScoreRequest(
            request_id=tag + e["name"], language=language, program=e["program"], tests=task_tests(language, e["task"])
        )
        req.policy.no_cache = True
        out.append(req)
    return out


BROKE = "the program breaks the sandbox"  # scheduling/scorer.py's last defence
ATTACKS = [(lang, e["name"]) for lang in LANGUAGES for e in corpus(lang)]


def test_the_corpus_is_large_and_well_formed() -> None:
    """Every language has controls and at least 40 attacks, names unique, tasks real."""
    for language in LANGUAGES:
        entries = corpus(language)
        names = [e["name"] for e in entries]
        assert len(set(names)) == len(names), language
        assert sum(e["control"] for e in entries) >= 1, language
        assert sum(not e["control"] for e in entries) >= 40, language
        for e in entries:
            assert task_tests(language, e["task"]), (language, e["name"])
            assert e["why"], (language, e["name"])
    assert set(LANGUAGES) == set(HUMANEVAL_X)


@pytest.fixture(scope="module")
def outcomes(polyglot: ServerThread) -> dict[str, dict[str, pb.ScoreResponse]]:
    """Each language's corpus scored once, then its controls again."""
    results: dict[str, dict[str, pb.ScoreResponse]] = {}
    with Client(polyglot.target) as client:
        for language in LANGUAGES:
            entries = corpus(language)
            got = {x.request_id: x for x in client.score_stream(requests(language, entries), timeout_s=1800)}
            controls = [e for e in entries if e["control"]]
            again = {x.request_id: x for x in client.score_stream(requests(language, controls, "again:"))}
            results[language] = {**got, **again}
    return results


def describe(x: pb.ScoreResponse) -> str:
    first = next((t for t in x.tests if t.verdict != pb.ACCEPTED), None)
    detail = first.message if first else x.error or x.compile.output
    return f"{pb.Verdict.Name(x.verdict)} reward={x.reward}: {detail[:300]}"


@pytest.mark.parametrize(("language", "name"), ATTACKS, ids=[f"{lang}: {name}" for lang, name in ATTACKS])
def test_attack_holds(outcomes: dict[str, dict[str, pb.ScoreResponse]], language: str, name: str) -> None:
    entry = next(e for e in corpus(language) if e["name"] == name)
    x = outcomes[language][name]
    if entry["control"]:
        assert x.verdict == pb.ACCEPTED and x.reward == 1.0, describe(x)
        again = outcomes[language]["again:" + name]
        assert again.verdict == pb.ACCEPTED, f"after the attacks: {describe(again)}"
        return
    # nor may it pass its failure off as the sandbox's or the caller's
    assert x.verdict not in (pb.ACCEPTED, pb.SANDBOX_ERROR, pb.INVALID_REQUEST), f"{entry['why']} -> {describe(x)}"
    # ... nor reach it only after breaking two sandboxes (the last defence, never the design)
    assert not any(BROKE in t.message for t in x.tests), describe(x)
    assert x.reward == 0.0 and x.passed == 0, describe(x)
