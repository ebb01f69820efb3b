"""Operations with real parts: a real Prometheus scraping a real server, the
deploy files checked by their own tools, and the client spreading calls over
several servers with per-target health."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from rlce_server.client import Client, call, pb
from tests.conftest import free_port

from .prometheus import eventually, prometheus
from .server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ADD = "def add(a, b):\n    return a + b\n"


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        return resp.read().decode()


def exported_names(text: str) -> set[str]:
    """Every series name the server can export (families with no sample yet included)."""
    names = set()
    for fam in text_string_to_metric_families(text):
        names.add(fam.name)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "summary": ["_sum", "_count"]}
        names.update(fam.name + s for s in suffixes.get(fam.type, []))
        names.update(sample.name for sample in fam.samples)
    return names


@pytest.fixture(scope="module")
def metered(images):
    srv = ServerThread(workers=1, metrics_port=free_port()).start()
    yield srv
    srv.stop()


def test_real_prometheus_counts_the_requests_just_sent(metered, tmp_path):
    job = {"job_name": "rlce", "static_configs": [{"targets": [f"127.0.0.1:{metered.settings.metrics_port}"]}]}
    with prometheus([job], tmp_path) as query:
        with Client(metered.target) as client:
            for i in range(7):
                assert client.score("python", ADD, [call("add", [i, 1], i + 1)], no_cache=True).verdict == pb.ACCEPTED
            with pytest.raises(grpc.RpcError) as err:
                client.score("python", ADD, [])
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        q_ok = 'sum(rlce_api_requests_total{rpc="Score",code="OK"})'
        q_bad = 'sum(rlce_api_requests_total{rpc="Score",code="INVALID_ARGUMENT"})'
        q_acc = 'sum(rlce_scoring_verdicts_total{language="python",verdict="ACCEPTED"})'
        # the self-test scored one ACCEPTED job before any request
        eventually(lambda: (query(q_ok), query(q_bad), query(q_acc)), (7.0, 1.0, 8.0), timeout_s=60)


def test_promtool_accepts_the_deploy_config(tmp_path):
    """With the files it names: the compose secrets Prometheus gets, as deploy/make-secrets makes them."""
    exe = shutil.which("promtool")
    assert exe, "promtool is not installed (Debian's prometheus package has it)"
    made = subprocess.run([str(DEPLOY / "make-secrets"), str(tmp_path / "secrets")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    text = (DEPLOY / "prometheus.yml").read_text()
    for name in compose["services"]["prometheus"]["secrets"]:
        text = text.replace(
            f"/run/secrets/{name}", str(tmp_path / "secrets" / Path(compose["secrets"][name]["file"]).name)
        )
    assert "/run/secrets/" not in text, "prometheus.yml names a file compose does not give Prometheus"
    (tmp_path / "prometheus.yml").write_text(text)
    out = subprocess.run([exe, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dashboard_names_only_metrics_the_server_exports(metered):
    names = exported_names(scrape(metered.settings.metrics_port))
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "rlce.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used.update(re.findall(r"\brlce_[a-z0-9_]+", target["expr"]))
    missing = sorted(used - names)
    assert not missing, f"dashboard panels query metrics the server does not export: {missing}"
    wanted = {"throughput", "latency", "verdict", "saturation", "queue"}
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    assert {w for w in wanted if w in titles or (w == "throughput" and "per second" in titles)} == wanted
    provisioning = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/rlce.yml").read_text())
    assert provisioning["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_metrics_follow_the_naming_rule(metered):
    for fam in text_string_to_metric_families(scrape(metered.settings.metrics_port)):
        if fam.name.startswith("rlce_"):
            assert re.fullmatch(r"rlce_(api|scoring|queue|pool|sandbox|cache|session)_[a-z_]+", fam.name), fam.name


def test_kubernetes_manifests_validate_against_the_schemas():
    import kubernetes_validate

    files = sorted(p for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    assert files
    kinds = set()
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, "1.30", strict=True)
            kinds.add(doc["kind"])
    assert {"StatefulSet", "Service"} <= kinds
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in files)


def test_client_spreads_calls_over_several_servers_and_skips_a_stopped_one(images):
    a = ServerThread(workers=1).start()
    b = ServerThread(workers=1).start()
    stopped = False
    try:
        with Client([a.target, b.target]) as client:
            for i in range(20):
                resp = client.score("python", ADD, [call("add", [i, 2], i + 2)], no_cache=True, timeout_s=60)
                assert resp.verdict == pb.ACCEPTED
            counts = [
                srv.app.metrics.requests.labels("Score", "OK")._value.get() for srv in (a, b)
            ]  # fmt: skip
            assert sum(counts) == 20 and min(counts) >= 5, counts
            a.stop()
            stopped = True
            for i in range(10):
                resp = client.score("python", ADD, [call("add", [i, 3], i + 3)], no_cache=True, timeout_s=60)
                assert resp.verdict == pb.ACCEPTED
    finally:
        if not stopped:
            a.stop()
        b.stop()
