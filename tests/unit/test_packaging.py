"""A trainer machine installs the client and the adapters without the server's dependencies."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("docker", "pydantic", "pydantic_settings", "rich", "prometheus_client", "grpc_reflection", "redis")

# A Python that refuses to import any server-only module, as on a client-only install.
BLOCKER = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""


def test_core_dependencies_are_the_clients_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {dep.split(">")[0].split("=")[0].split("<")[0].strip() for dep in project["dependencies"]}
    assert core == {"grpcio", "grpcio-health-checking", "protobuf"}
    server = " ".join(project["optional-dependencies"]["server"])
    assert all(name in server for name in ("docker", "pydantic", "rich", "prometheus-client"))


def test_client_adapters_and_score_command_import_nothing_of_the_server():
    code = (
        BLOCKER
        + """
import rlce_server.client, rlce_server.rl.batch, rlce_server.rl.trl, rlce_server.rl.verl, rlce_server.rl.openrlhf
from rlce_server.cli import main
args = ["--language", "python", "--program", sys.argv[1], "--tests", sys.argv[2], "--target", "127.0.0.1:1"]
sys.exit(main(["score", *args]))
"""
    )
    tmp = ROOT / ".pytest-packaging"
    tmp.mkdir(exist_ok=True)
    (tmp / "p.py").write_text("def f():\n    return 1\n")
    (tmp / "t.json").write_text('[{"call": {"entryPoint": "f", "argsJson": "[]", "expectedJson": "1"}}]')
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp / "p.py"), str(tmp / "t.json")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    # no server there: one line naming the address and what to do, exit 2, no traceback
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("rlce: no rlce server answers at 127.0.0.1:1"), done.stderr
    assert "rlce serve" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_server_commands_on_a_client_only_install_say_what_to_install():
    code = BLOCKER + "from rlce_server.cli import main\nsys.exit(main(['images', 'build']))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "pip install 'rlce[server]'" in done.stderr and "Traceback" not in done.stderr
