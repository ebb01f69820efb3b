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
* the datasets code RL trains on (LiveCodeBench, TACO, APPS, CodeContests,
  Code-Contests-Plus, open-r1 Codeforces, PrimeIntellect, DeepCoder, KodCode)
  and ``rlce convert``'s own problem rows: ``rlce_server.datasets``, judged
  by each dataset's grader profile (docs/DATASETS.md). A malformed row is a
  problem whose samples are reported failures, not a refused file.

Samples of dataset problems: ``task_id`` (or the format's own id field, e.g.
``question_id``; a problems file without ids is named by 0-based row
position), ``solution`` (a whole program) or ``completion`` (model text, the
code extracted from its fences as the adapters do), optional ``language``.
A malformed sample is reported and skipped (counted), never a refusal.

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

from .. import datasets
from .._proto.rlce.v1 import scorer_pb2 as pb
from ..datasets import Credit, DatasetProblem
from ..rl.extract import extract_code
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
    dataset: DatasetProblem | None = None  # a dataset row: judge, limits, harness, credit


@dataclass
class Sample:
    task_id: str
    index: int
    program: str
    extra: dict[str, Any] = field(default_factory=dict)
    language: str = ""  # the sample's own (datasets), else the evaluation's
    failure: tuple[str, str] = ("", "")  # (verdict, why): decided here, never sent


@dataclass
class Skipped:
    """Sample rows that could not be read (reported and counted, not scored)."""

    lines: list[str] = field(default_factory=list)


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


def dataset_problem(p: DatasetProblem) -> Problem:
    return Problem(p.task_id, "dataset", language=p.language, tests=list(p.tests), dataset=p)


def load_problems(
    path: Path, fmt: str | None = None, profile: str | None = None, credit: Credit | None = None
) -> dict[str, Problem]:
    """Every problem of a file; ``fmt`` forces a dataset format (``profile``/``credit``
    choose the grader rules and test selection of dataset rows)."""
    rows = read_rows(path)
    if not rows:
        raise ValueError(f"{path}: no problems")
    problems: dict[str, Problem] = {}
    recognised = 0
    for index, row in enumerate(rows):
        if fmt or profile or credit or datasets.detect(row):
            dp = datasets.convert(row, fmt=fmt, profile_name=profile, index=index, credit=credit)
            recognised += dp.format != "unknown"
            problems[dp.task_id] = dataset_problem(dp)
            continue
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
            unknown = datasets.convert(row, index=index)  # reported: its samples fail, the file goes on
            problems[unknown.task_id] = dataset_problem(unknown)
            continue
        recognised += 1
        problems[p.task_id] = p
    if not recognised:
        raise ValueError(f"{path}: unrecognised problem row with fields {sorted(rows[0])[:12]}")
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


_ID_FIELDS = ("task_id", "question_id", "problem_id", "id", "hash_id", "name")


def _dataset_sample(row: dict[str, Any], problems: dict[str, Problem], counters: dict[str, int]) -> Sample | str:
    """A sample of a dataset problem, or why the row cannot be one."""
    task = next((str(row[k]) for k in _ID_FIELDS if row.get(k) not in (None, "") and str(row[k]) in problems), None)
    if task is None:
        given = next((f"{k}={row[k]!r}" for k in _ID_FIELDS if row.get(k) not in (None, "")), "no task_id")
        return f"no problem for this sample ({given})"
    problem = problems[task]
    dp = problem.dataset
    language = str(row.get("language") or problem.language)
    idx = counters.get(task, 0)
    counters[task] = idx + 1
    extra: dict[str, Any] = {k: row[k] for k in ("passed", "result", "expected") if k in row}
    if "solution" in row:
        code: str | None = str(row["solution"])
    elif "completion" in row or "generation" in row:
        raw = row.get("completion", row.get("generation"))
        code = extract_code(raw, language, require_fence=bool(dp and dp.fence_required))
    else:
        return Sample(task, idx, "", extra, language, ("INVALID_REQUEST", "the sample has no solution or completion"))
    if dp is not None and dp.error:
        return Sample(task, idx, "", extra, language, ("INVALID_REQUEST", f"malformed problem row: {dp.error}"))
    if code is None:
        return Sample(task, idx, "", extra, language, ("NO_CODE", "no code block in the completion"))
    program = dp.program(code, language) if dp is not None else code
    return Sample(task, idx, program, extra, language)


def load_samples(path: Path, problems: dict[str, Problem], skipped: Skipped | None = None) -> list[Sample]:
    rows = read_rows(path)
    by_prompt = {p.prompt: p for p in problems.values() if p.prompt}
    samples: list[Sample] = []
    counters: dict[str, int] = {}
    lenient = any(p.dataset is not None for p in problems.values())
    for line, row in enumerate(rows, 1):
        if lenient:
            got = _dataset_sample(row, problems, counters)
            if isinstance(got, str):
                if skipped is None:
                    raise ValueError(f"{path}:{line}: {got}")
                skipped.lines.append(f"{path}:{line}: {got}")
            else:
                samples.append(got)
            continue
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
