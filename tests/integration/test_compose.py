"""deploy/docker-compose.yml: validated by docker-compose, and its rlce
service built from the repository and brought up for real on this engine,
with the secrets deploy/make-secrets makes (TLS and tokens on both ports).

Prometheus and Grafana come from a registry; where none answers (as on the
development machine) only their configuration is checked here (promtool,
dashboard test in test_ops.py), not their containers.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rlce_server.client import Client, call, pb, wait_serving
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
SECRETS = ROOT / "deploy" / "secrets"
ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def compose_cmd() -> list[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (scripts/setup installs Debian's docker-compose)"
    made = subprocess.run([str(ROOT / "deploy" / "make-secrets")], capture_output=True, text=True)  # keeps what exists
    assert made.returncode == 0, made.stderr
    return [exe, "-f", str(COMPOSE), "-p", f"rlcetest{os.getpid()}"]


def test_compose_file_is_valid(compose_cmd):
    out = subprocess.run([*compose_cmd, "config", "-q"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    services = subprocess.run([*compose_cmd, "config", "--services"], capture_output=True, text=True).stdout.split()
    assert set(services) == {"rlce", "prometheus", "grafana"}


def test_compose_rlce_service_serves_and_cleans_up(images, engine, compose_cmd):
    grpc_port, metrics_port = free_port(), free_port()
    instance = f"compose{os.getpid()}"
    env = dict(
        os.environ,
        RLCE_GRPC_PORT=str(grpc_port),
        RLCE_METRICS_PORT=str(metrics_port),
        RLCE_INSTANCE_ID=instance,
        RLCE_WORKERS="1",
        # no registry here: build the server image on the locally imported Debian base
        RLCE_BASE_IMAGE=os.environ.get("RLCE_BASE_IMAGE", "rlce-base:bookworm"),
    )
    # the server image installs from wheels made here, so its build needs no network
    wheels = subprocess.run([sys.executable, str(ROOT / "deploy" / "wheelhouse.py")], capture_output=True, text=True)
    assert wheels.returncode == 0, wheels.stderr[-3000:]
    up = subprocess.run([*compose_cmd, "up", "-d", "--build", "rlce"], env=env, capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        target, ca = f"127.0.0.1:{grpc_port}", SECRETS / "ca.crt"
        wait_serving(target, timeout_s=300, tls_ca=ca)
        with Client(target, token=(SECRETS / "trainer.token").read_text().strip(), tls_ca=ca) as client:
            resp = client.score("python", ADD, [call("add", [2, 3], 5), call("add", [2, 2], 5)], timeout_s=60)
            assert (resp.verdict, resp.passed) == (pb.WRONG_ANSWER, 1)
        scrape = urllib.request.Request(
            f"https://127.0.0.1:{metrics_port}/metrics",
            headers={"Authorization": f"Bearer {(SECRETS / 'prometheus.token').read_text().strip()}"},
        )
        with urllib.request.urlopen(scrape, timeout=10, context=ssl.create_default_context(cafile=str(ca))) as r:
            assert 'rlce_api_requests_total{code="OK",rpc="Score"} 1.0' in r.read().decode()
        # its health check (wait_serving over TLS) passes: the container turns healthy
        (container,) = subprocess.run(
            [*compose_cmd, "ps", "-q", "rlce"], env=env, capture_output=True, text=True
        ).stdout.split()
        deadline = time.monotonic() + 120
        while (status := engine.containers.get(container).attrs["State"]["Health"]["Status"]) != "healthy":
            assert status == "starting" and time.monotonic() < deadline, status
            time.sleep(1)
        sandboxes = engine.containers.list(filters={"label": f"rlce.server={instance}"}, ignore_removed=True)
        assert sandboxes, "the server in compose made its sandboxes on the host engine"
    finally:
        logs = subprocess.run([*compose_cmd, "logs", "--no-color", "rlce"], env=env, capture_output=True, text=True)
        down = subprocess.run([*compose_cmd, "down", "--timeout", "30"], env=env, capture_output=True, text=True)
    assert down.returncode == 0, down.stderr
    left = engine.containers.list(all=True, filters={"label": f"rlce.server={instance}"}, ignore_removed=True)
    assert not left, f"sandboxes left after compose down: {[c.name for c in left]}\n{logs.stdout[-3000:]}"
