"""``rlce score`` against a real server, as a user runs it."""

import json
import subprocess
import sys


def test_rlce_score_prints_json(server, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("def add(a, b):\n    return a + b\n")
    tests = tmp_path / "tests.json"
    tests.write_text(
        json.dumps(
            [
                {"call": {"entryPoint": "add", "argsJson": "[1, 2]", "expectedJson": "3"}},
                {"assertion": {"code": "assert add(2, 2) == 5"}},
            ]
        )
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlce_server",
            "score",
            "--language",
            "python",
            "--program",
            str(prog),
            "--tests",
            str(tests),
            "--target",
            server.target,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    resp = json.loads(out.stdout)
    assert resp["verdict"] == "WRONG_ANSWER"
    assert resp["reward"] == 0.5
    assert [t["verdict"] for t in resp["tests"]] == ["ACCEPTED", "WRONG_ANSWER"]


def test_rlce_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "rlce_server", "--help"], capture_output=True, text=True, check=True)
    for cmd in ("serve", "score", "images", "demo"):
        assert cmd in out.stdout
