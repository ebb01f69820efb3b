"""Problem and sample files are recognised from their fields."""

from pathlib import Path

import pytest

from rlce_server.evaluation.formats import load_problems, load_samples, truncate

D = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.mark.parametrize(
    ("rel", "count", "kind", "tests"),
    [
        ("humaneval/HumanEval.jsonl.gz", 164, "humaneval", 1),
        ("humaneval-x/python/humaneval_python.jsonl.gz", 164, "humaneval", 1),
        ("mbpp/mbpp.jsonl.gz", 974, "mbpp", 3),
        ("mbpp/sanitized-mbpp.json.gz", 427, "mbpp", None),
        ("codecontests-cc300/codecontests_cc300.jsonl.gz", 300, "stdio", None),
    ],
)
def test_problem_formats(rel, count, kind, tests):
    problems = load_problems(D / rel)
    assert len(problems) == count
    first = next(iter(problems.values()))
    assert first.kind == kind
    if tests is not None:
        assert len(first.tests) == tests
    if kind == "humaneval":
        assert first.tests[0].assertion.code.rstrip().endswith(")")
        assert "check(" in first.tests[0].assertion.code


def test_samples_follow_human_eval_and_evalplus_conventions(tmp_path):
    problems = load_problems(D / "humaneval/example_problem.jsonl")
    f = tmp_path / "s.jsonl"
    f.write_text(
        '{"task_id": "test/0", "completion": "    return 1"}\n'
        '{"task_id": "test/0", "solution": "def return1():\\n    return 2\\n"}\n'
    )
    body, whole = load_samples(f, problems)
    assert body.program == "def return1():\n    return 1" and body.index == 0
    assert whole.program == "def return1():\n    return 2\n" and whole.index == 1


def test_mbpp_samples_get_test_imports_and_evalplus_ids(tmp_path):
    problems = load_problems(D / "mbpp/sanitized-mbpp.json.gz")
    with_imports = next(p for p in problems.values() if p.imports)
    f = tmp_path / "s.jsonl"
    f.write_text(f'{{"task_id": "Mbpp/{with_imports.task_id}", "completion": "pass"}}\n')
    (s,) = load_samples(f, problems)
    assert s.task_id == with_imports.task_id and s.program.startswith(with_imports.imports)


def test_codet_file_maps_every_row_to_its_own_task():
    problems = load_problems(D / "humaneval/HumanEval.jsonl.gz")
    codet = "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_code_solution.jsonl.gz"
    samples = load_samples(D / "published-samples/codet-codegen16b" / codet, problems)
    assert len(samples) == 16400
    per_task = {}
    for s in samples:
        per_task[s.task_id] = per_task.get(s.task_id, 0) + 1
    assert len(per_task) == 164 and set(per_task.values()) == {100}


def test_truncation_at_stop_sequences():
    assert truncate("    return 1\n\ndef other():\n    pass") == "    return 1\n"
    assert truncate("    x = 1\n    return x\nprint(x)") == "    x = 1\n    return x"
    assert truncate("    return 1") == "    return 1"


def test_unknown_rows_are_refused(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"foo": 1}\n')
    with pytest.raises(ValueError, match="unrecognised"):
        load_problems(f)


@pytest.mark.parametrize(
    ("folder", "language"), [("cpp", "cpp"), ("java", "java"), ("js", "javascript"), ("go", "go"), ("rust", "rust")]
)
def test_humaneval_x_languages_are_recognised(folder, language):
    (path,) = (D / "humaneval-x" / folder).glob("*.jsonl.gz")
    problems = load_problems(path)
    assert len(problems) == 164
    assert {p.language for p in problems.values()} == {language}
    first = next(iter(problems.values()))
    assert first.tests[0].assertion.code.strip()
