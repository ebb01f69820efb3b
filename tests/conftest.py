"""Shared fixtures and helpers of every test tier.

Fixtures for tests through the real stack: the Docker engine, the images, a
real server. These tests never skip for want of Docker: a missing engine is a
failure, so a green run always means the sandbox really ran. Helpers (free
ports, benchmark data) are imported from here by the tiers that need them.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import docker
import pytest

from rlce_server.client import Client
from rlce_server.config import Settings
from rlce_server.images import build

from .integration.server import ServerThread

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"  # ../shared/datasets beside the checkout


def image_script(runtime: str, name: str) -> ModuleType:
    """A runtime's in-image Python script (sandbox_images/<runtime>/<name>.py), imported for its logic."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "sandbox_images" / runtime / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TESTLIB_H = DATASETS / "testlib" / "testlib.h"  # the user's copy: rlce ships none
os.environ.setdefault("RLCE_TESTLIB_H", str(TESTLIB_H))


def free_port() -> int:
    """A TCP port nothing listens on right now (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, alive: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Block until ``what`` (a process the test started) accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert alive(), f"{what} exited"
            assert time.monotonic() < deadline, f"{what} does not listen on {port}"
            time.sleep(0.05)


def dataset(rel: str) -> list[dict[str, Any]]:
    """Rows of a benchmark file under ../shared/datasets (JSONL, JSON, gzipped or not)."""
    path = DATASETS / rel
    if not path.exists():
        pytest.fail(f"benchmark data missing: {path} (../shared/datasets must sit beside the checkout)")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        if rel.endswith(".json.gz") or rel.endswith(".json"):
            data: Any = json.load(fh)
            return list(data)
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture()
def redis_url() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real redis-server on a free loopback port, for one test: (url, process)."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server is not installed (scripts/setup installs Debian's redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, lambda: proc.poll() is None, "redis-server")
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.kill()
    proc.wait(10)


@pytest.fixture(scope="session")
def engine() -> Any:
    client = docker.from_env(timeout=120)
    client.ping()  # no engine: fail, never skip
    return client


@pytest.fixture(scope="session")
def images(engine: Any) -> dict[str, str]:
    return build(Settings(), ["python"], client=engine)


def serving(engine: Any, **overrides: Any) -> Iterator[ServerThread]:
    """A real server for a fixture's lifetime; no container of it may outlive it."""
    srv = ServerThread(**overrides).start()
    yield srv
    instance = srv.settings.instance_id
    srv.stop()
    left = engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"}, ignore_removed=True)
    assert not left, f"containers leaked: {[c.name for c in left]}"


@pytest.fixture(scope="session")
def server(images: dict[str, str], engine: Any) -> Iterator[ServerThread]:
    yield from serving(engine)


COMPILED = ["cpp", "java", "javascript", "go", "rust"]


@pytest.fixture(scope="session")
def polyglot(images: dict[str, str], engine: Any) -> Iterator[ServerThread]:
    """One server of every runtime, Python and the compiled ones (their images built as
    `rlce images build` does): compiled candidates, and judges in another runtime than
    the candidate's."""
    build(Settings(), COMPILED, client=engine)
    yield from serving(engine, runtimes=["python", *COMPILED])


@pytest.fixture()
def client(server: ServerThread) -> Iterator[Client]:
    with Client(server.target) as c:
        yield c
