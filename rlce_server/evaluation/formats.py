"""Problem and sample files: recognised from their fields, turned into requests.

Problems (one row per task):

* HumanEval and HumanEval-X python (``task_id, prompt, test, entry_point``):
  one assertion test, ``test + check(entry_point)``; HumanEval-X rows whose
  ``test`` already calls ``check`` are used as they are.
* HumanEval-X in another language (``task_id`` like ``CPP/0``, ``Go/0``; no
  ``check`` call): the program is ``prompt + completion`` and one assertion
  test carries the benchmark's ``test`` text (with what it needs of the
  declaration, ``humaneval_x``), which that language's runtime runs in its
  own test style; the language comes from the task id.
* MBPP full (``code, test_list, test_setup_code``) and sanitized MBPP
  (``test_list, test_imports``): one assertion test per assert (partial
  credit shows; a sample passes when all pass). Sample ids ``Mbpp/N``
  (EvalPlus) match task ``N``.
* stdio sets (``tests: [{input, output}]``, e.g. codecontests-cc300): one
  stdio test per pair, compared by tokens.

Samples: JSONL with ``task_id`` and one of ``completion`` / ``generation``
(human-eval convention: the program is ``prompt + completion``; a completion
that restates the whole function still works, since the later ``def`` wins)
or ``solution`` (EvalPlus convention: a whole program, used as it is). CodeT
files (``prompt`` + ``samples`` list, no ``task_id``) are matched to tasks by
prompt, or, since CodeT dropped the doctest examples from its prompts, by the
longest common prefix (which must reach the entry point's ``def``);
completions are truncated
at the first stop sequence, as the Codex evaluation did, and appended to the
task's own prompt.
For MBPP, ``test_imports`` go before the completion.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._proto.rlce.v1 import scorer_pb2 as pb
from . import humaneval_x

STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
# HumanEval-X task id prefix -> rlce runtime name
HUMANEVAL_X = {"CPP": "cpp", "Java": "java", "JavaScript": "javascript", "Go": "go", "Rust": "rust"}


@dataclass
class Problem:
    task_id: str
    kind: str  # humaneval | mbpp | stdio
    language: str = "python"
    prompt: str = ""
    entry_point: str = ""
    tests: list[pb.TestCase] = field(default_factory=list)
    imports: str = ""


@dataclass
class Sample:
    task_id: str
    index: int
    program: str
    extra: dict[str, Any] = field(default_factory=dict)


def read_rows(path: Path) -> list[dict[str, Any]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        text = fh.read()
    stripped = text.lstrip()
    rows: list[dict[str, Any]]
    if stripped.startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{path}: every row must be a JSON object")
    return rows


def _mbpp_id(task_id: Any) -> str:
    return str(task_id).split("/")[-1]


def load_problems(path: Path) -> dict[str, Problem]:
    rows = read_rows(path)
    if not rows:
        raise ValueError(f"{path}: no problems")
    problems: dict[str, Problem] = {}
    for row in rows:
        called = re.findall(r"^check\((\w+)\)", str(row.get("test", "")), re.M)
        if "test" in row and "prompt" in row and ("entry_point" in row or called):
            # HumanEval gives entry_point; HumanEval-X's test already ends in check(name)
            test = row["test"]
            if not called:
                test = f"{test}\ncheck({row['entry_point']})\n"
            p = Problem(
                str(row["task_id"]),
                "humaneval",
                prompt=row["prompt"],
                entry_point=row.get("entry_point") or called[-1],
                tests=[pb.TestCase(name="check", assertion=pb.AssertTest(code=test))],
            )
        elif "test" in row and "prompt" in row and str(row.get("task_id", "")).split("/")[0] in HUMANEVAL_X:
            lang = HUMANEVAL_X[str(row["task_id"]).split("/")[0]]
            p = Problem(
                str(row["task_id"]),
                "humaneval",
                language=lang,
                prompt=humaneval_x.prompt(row),
                tests=[pb.TestCase(name="test", assertion=pb.AssertTest(code=humaneval_x.assertion_test(lang, row)))],
            )
        elif "test_list" in row:
            setup = row.get("test_setup_code", "") or ""
            tests = [
                pb.TestCase(name=f"assert-{i}", assertion=pb.AssertTest(code=f"{setup}\n{a}\n"))
                for i, a in enumerate(row["test_list"])
            ]
            p = Problem(
                _mbpp_id(row["task_id"]), "mbpp", tests=tests, imports="\n".join(row.get("test_imports", []) or [])
            )
        elif isinstance(row.get("tests"), list) and ("problem_id" in row or "task_id" in row):
            tests = [
                pb.TestCase(
                    name=f"case-{i}",
                    stdio=pb.StdioTest(
                        stdin=t["input"].encode(), expected_stdout=t["output"].encode(), match=pb.TOKENS
                    ),
                )
                for i, t in enumerate(row["tests"])
            ]
            p = Problem(str(row.get("problem_id", row.get("task_id"))), "stdio", tests=tests)
        else:
            raise ValueError(f"{path}: unrecognised problem row with fields {sorted(row)[:12]}")
        problems[p.task_id] = p
    return problems


def truncate(completion: str) -> str:
    """Cut a raw completion at the first stop sequence (Codex/CodeT style)."""
    cut = len(completion)
    for stop in STOP_SEQUENCES:
        i = completion.find(stop)
        if i != -1:
            cut = min(cut, i)
    return completion[:cut]


def _program(problem: Problem, text: str, whole: bool) -> str:
    if problem.kind == "mbpp":
        return f"{problem.imports}\n{text}" if problem.imports else text
    if problem.kind == "humaneval" and not whole:
        return problem.prompt + text
    return text


def _closest(prompt: str, problems: dict[str, Problem]) -> Problem | None:
    """The task whose prompt shares the longest prefix with ``prompt``, if that
    prefix already contains the task's ``def entry_point(``."""
    best, best_len = None, -1
    for p in problems.values():
        n = len(os.path.commonprefix([p.prompt, prompt]))
        if n > best_len:
            best, best_len = p, n
    if best is None or f"def {best.entry_point}(" not in prompt[:best_len]:
        return None
    return best


def load_samples(path: Path, problems: dict[str, Problem]) -> list[Sample]:
    rows = read_rows(path)
    by_prompt = {p.prompt: p for p in problems.values() if p.prompt}
    samples: list[Sample] = []
    counters: dict[str, int] = {}
    for line, row in enumerate(rows, 1):
        if "samples" in row and "prompt" in row and "task_id" not in row:  # CodeT
            problem = by_prompt.get(row["prompt"]) or _closest(row["prompt"], problems)
            if problem is None:
                raise ValueError(f"{path}:{line}: no problem has this prompt")
            raw = row["samples"]
            completions = ast.literal_eval(raw) if isinstance(raw, str) else list(raw)
            for text in completions:
                idx = counters.get(problem.task_id, 0)
                counters[problem.task_id] = idx + 1
                samples.append(Sample(problem.task_id, idx, _program(problem, truncate(str(text)), False)))
            continue
        if "task_id" not in row:
            raise ValueError(f"{path}:{line}: a sample needs task_id")
        task = str(row["task_id"])
        problem = problems.get(task) or problems.get(_mbpp_id(task))
        if problem is None:
            raise ValueError(f"{path}:{line}: unknown task_id {task!r}")
        if "solution" in row:
            text, whole = row["solution"], True
        elif "completion" in row:
            text, whole = row["completion"], False
        elif "generation" in row:
            text, whole = row["generation"], False
        else:
            raise ValueError(f"{path}:{line}: a sample needs completion, generation or solution")
        idx = counters.get(problem.task_id, 0)
        counters[problem.task_id] = idx + 1
        extra: dict[str, Any] = {k: row[k] for k in ("passed", "result") if k in row}
        samples.append(Sample(problem.task_id, idx, _program(problem, str(text), whole), extra))
    return samples
