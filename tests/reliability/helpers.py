"""A real `rlce serve` process for fault tests, and engine control."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from rlce_server.client import wait_serving
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServeProcess:
    """A real ``rlce serve`` process. The result cache is off unless asked
    for: these tests repeat identical requests and need every one to run."""

    def __init__(self, workers: int = 2, **env: str) -> None:
        env.setdefault("RLCE_CACHE_MAX_BYTES", "0")
        env.setdefault("RLCE_METRICS_PORT", "0")
        self.port = free_port()
        self.instance = f"rel{os.getpid()}{self.port}"
        self.env = dict(
            os.environ,
            RLCE_PORT=str(self.port),
            RLCE_WORKERS=str(workers),
            RLCE_INSTANCE_ID=self.instance,
            **env,
        )
        # the log goes to a file: a pipe nobody reads would block the server once full
        self.log = Path(tempfile.mkdtemp(prefix="rlce-serve-")) / "serve.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rlce_server", "serve"],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.target = f"127.0.0.1:{self.port}"
        try:
            wait_serving(self.target, alive=lambda: self.proc.poll() is None)
        except RuntimeError:
            raise RuntimeError(self.log.read_text()[-3000:]) from None

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def containers(self, engine: docker.DockerClient) -> list:
        return engine.containers.list(all=True, filters={"label": f"rlce.server={self.instance}"}, ignore_removed=True)

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout)


def engine_up() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def stop_engine(timeout: float = 90) -> None:
    subprocess.run(["pkill", "-TERM", "-x", "dockerd"], check=False)
    deadline = time.time() + timeout
    while time.time() < deadline:
        alive = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True).returncode == 0
        if not alive and not engine_up():
            return
        time.sleep(0.5)
    raise RuntimeError("dockerd did not stop")


def start_engine() -> None:
    subprocess.run([str(ROOT / "scripts" / "ensure-docker")], check=True, timeout=120)
