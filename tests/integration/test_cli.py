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


def rlce(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rlce_server", *args], capture_output=True, text=True, timeout=120)


def test_mistakes_get_one_line_naming_the_file_field_or_address(server, tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("def add(a, b):\n    return a + b\n")
    bad_args = tmp_path / "bad_args.json"
    bad_args.write_text(json.dumps([{"call": {"entryPoint": "add", "argsJson": "[1,", "expectedJson": "3"}}]))
    not_json = tmp_path / "not.json"
    not_json.write_text("tests: nope\n")
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"call": {"entryPoint": "add", "argsJson": "[1, 2]", "expectedJson": "3"}}]))
    score = ["score", "--language", "python", "--program", str(prog)]
    cases = {
        # the server's own INVALID_ARGUMENT message, which names the field
        (*score, "--tests", str(bad_args), "--target", server.target): "tests[0].call.args_json",
        (*score, "--tests", str(not_json), "--target", server.target): f"{not_json}: not JSON",
        (*score, "--tests", str(tmp_path / "missing.json"), "--target", server.target): "missing.json: no such file",
        (*score, "--tests", str(good), "--target", "127.0.0.1:9"): "start one with `rlce serve`",
        ("eval", "--problems", str(tmp_path / "none.jsonl"), "--samples", str(good)): "none.jsonl: no such file",
        ("eval", "--problems", str(good), "--samples", str(good), "--target", "127.0.0.1:9", "--k", "x"): "--k",
    }
    for args, expected in cases.items():
        done = rlce(*args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("rlce: ") and expected in lines[0], (args, done.stderr)
        assert "Traceback" not in done.stderr
    # with --log-level DEBUG the traceback is there for whoever wants it
    done = rlce("--log-level", "DEBUG", *score, "--tests", str(not_json))
    assert done.returncode != 0 and "Traceback" in done.stderr
