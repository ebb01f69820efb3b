"""Operations with real parts: a real Prometheus scraping a real server, the
deploy files checked by their own tools, and the client spreading calls over
several servers with per-target health."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import grpc
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from rlce_server.client import Client, call, pb
from tests.conftest import free_port

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
    exe = shutil.which("prometheus")
    assert exe, "prometheus is not installed (scripts/setup installs Debian's prometheus)"
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "rlce",
                        "static_configs": [{"targets": [f"127.0.0.1:{metered.settings.metrics_port}"]}],
                    }
                ],
            }
        )
    )
    prom = subprocess.Popen(
        [
            exe,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def query(q: str) -> float | None:
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                data = json.load(resp)
        except OSError:
            return None
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    try:
        with Client(metered.target) as client:
            for i in range(7):
                assert client.score("python", ADD, [call("add", [i, 1], i + 1)], no_cache=True).verdict == pb.ACCEPTED
            with pytest.raises(grpc.RpcError) as err:
                client.score("python", ADD, [])
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        q_ok = 'sum(rlce_api_requests_total{rpc="Score",code="OK"})'
        q_bad = 'sum(rlce_api_requests_total{rpc="Score",code="INVALID_ARGUMENT"})'
        q_acc = 'sum(rlce_scoring_verdicts_total{language="python",verdict="ACCEPTED"})'
        deadline = time.monotonic() + 60
        while True:
            got = (query(q_ok), query(q_bad), query(q_acc))
            # the self-test scored one ACCEPTED job before any request
            if got == (7.0, 1.0, 8.0):
                break
            assert prom.poll() is None, "prometheus exited"
            assert time.monotonic() < deadline, f"Prometheus saw {got}, expected (7, 1, 8)"
            time.sleep(0.5)
    finally:
        prom.terminate()
        prom.wait(30)


def test_promtool_accepts_the_deploy_config():
    exe = shutil.which("promtool")
    assert exe, "promtool is not installed (Debian's prometheus package has it)"
    out = subprocess.run([exe, "check", "config", str(DEPLOY / "prometheus.yml")], capture_output=True, text=True)
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
            assert re.fullmatch(r"rlce_(api|scoring|queue|pool|sandbox|cache)_[a-z_]+", fam.name), fam.name


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
