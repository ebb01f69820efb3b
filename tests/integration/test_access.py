"""Access through the real stack: tokens, TLS and mutual TLS on the gRPC and
metrics ports and the OpenRLHF endpoint, real Prometheus scraping with a
token, and the signed Redis tier on a real redis-server. Keys and
certificates come from deploy/make-secrets (openssl), run here."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis
import requests
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from rlce_server.access import ServerAccess
from rlce_server.client import Client, call, pb, request, wait_serving
from rlce_server.rl.batch import BatchScorer, Sample
from rlce_server.scheduling.cache import TAG_BYTES, sign
from rlce_server.service import SERVICE_NAME
from tests.conftest import free_port, wait_listening

from .prometheus import eventually, prometheus
from .server import ServerThread
from .test_rl_adapters import trainer_module

ROOT = Path(__file__).resolve().parents[2]
ADD = "def add(a, b):\n    return a + b\n"
SUB = "def add(a, b):\n    return a - b\n"
TESTS = [call("add", [1, 2], 3)]


def unique(program: str) -> str:
    return f"# {uuid.uuid4().hex}\n{program}"


def make_secrets(path: Path) -> Path:
    done = subprocess.run([str(ROOT / "deploy" / "make-secrets"), str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_secrets(tmp_path_factory.mktemp("access") / "secrets")


@pytest.fixture(scope="module")
def strangers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another CA's certificates: what this deployment must not trust."""
    return make_secrets(tmp_path_factory.mktemp("access") / "strangers")


def token(secrets: Path, who: str = "trainer") -> str:
    return (secrets / f"{who}.token").read_text().strip()


def started(**settings: Any) -> Iterator[ServerThread]:
    srv = ServerThread(workers=1, metrics_port=free_port(), **settings).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def guarded(images: dict[str, str], secrets: Path) -> Iterator[ServerThread]:
    """Tokens, no TLS."""
    yield from started(auth_tokens_file=secrets / "tokens")


@pytest.fixture(scope="module")
def tls_server(images: dict[str, str], secrets: Path) -> Iterator[ServerThread]:
    """Tokens and TLS."""
    yield from started(auth_tokens_file=secrets / "tokens", tls_cert=secrets / "tls.crt", tls_key=secrets / "tls.key")


@pytest.fixture(scope="module")
def mtls_server(images: dict[str, str], secrets: Path) -> Iterator[ServerThread]:
    """Mutual TLS and no tokens: the client certificate is the key."""
    yield from started(tls_cert=secrets / "tls.crt", tls_key=secrets / "tls.key", tls_client_ca=secrets / "ca.crt")


@pytest.fixture()
def no_env_access(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RLCE_TOKEN", "RLCE_TLS_CA", "RLCE_TLS_CERT", "RLCE_TLS_KEY"):
        monkeypatch.delenv(name, raising=False)


def reflect(client: Client) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(client.channel)
    ask = reflection_pb2.ServerReflectionRequest(list_services="")
    (answer,) = list(stub.ServerReflectionInfo(iter([ask]), metadata=client.metadata, timeout=30))
    return [s.name for s in answer.list_services_response.service]


def every_rpc(client: Client) -> dict[str, Callable[[], Any]]:
    return {
        "Score": lambda: client.score("python", unique(ADD), TESTS, timeout_s=30),
        "ScoreStream": lambda: list(client.score_stream([request("python", unique(ADD), TESTS)], timeout_s=30)),
        "ListRuntimes": lambda: client.list_runtimes(),
        "RegisterTests": lambda: client.register_tests(TESTS),
        "reflection": lambda: reflect(client),
    }


def refused(call: Callable[[], Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    code: grpc.StatusCode = err.value.code()
    return code


def state(srv: ServerThread) -> tuple[dict[Any, float], int]:
    """Every metric but the refusal counter, and the jobs the sandboxes ran,
    once every sandbox is back in its pool (a job's reset ends after its answer)."""
    assert srv.app is not None
    deadline = time.monotonic() + 60
    while not all(len(pool.idle) == pool.live for pool in srv.app.pools.values()):
        assert time.monotonic() < deadline, "the sandboxes did not come back to their pools"
        time.sleep(0.05)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in srv.app.registry.collect()
        for s in family.samples
        if not s.name.startswith("rlce_api_unauthenticated")
    }
    jobs = sum(sandbox.jobs_run for pool in srv.app.pools.values() for sandbox in pool.idle)
    return samples, jobs


def unauthenticated(srv: ServerThread, port: str) -> float:
    assert srv.app is not None
    value: float = srv.app.metrics.unauthenticated.labels(port)._value.get()
    return value


def scrape(url: str, auth: str | None = None, context: ssl.SSLContext | None = None) -> tuple[int, str, Any]:
    req = urllib.request.Request(url, headers={"Authorization": auth} if auth else {})
    try:
        with urllib.request.urlopen(req, timeout=30, context=context) as resp:
            return resp.status, resp.read().decode(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


def metrics_url(srv: ServerThread, scheme: str = "http") -> str:
    assert srv.app is not None
    return f"{scheme}://127.0.0.1:{srv.app.metrics_port}/metrics"


# -- tokens -------------------------------------------------------------------


def test_without_a_valid_token_every_rpc_is_refused_and_nothing_runs(guarded, secrets, no_env_access):
    before, jobs = state(guarded)
    refusals = unauthenticated(guarded, "grpc")
    basic_without_token = (("authorization", "Basic cmxjZTo="),)
    for client in (Client(guarded.target), Client(guarded.target, token="f" * 64)):
        with client:
            for rpc, attempt in every_rpc(client).items():
                assert refused(attempt) == grpc.StatusCode.UNAUTHENTICATED, rpc
            client.metadata += basic_without_token
            assert refused(client.list_runtimes) == grpc.StatusCode.UNAUTHENTICATED
            # the health service stays open: load balancers and probes carry no token
            status = health_pb2_grpc.HealthStub(client.channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=30
            )
            assert status.status == health_pb2.HealthCheckResponse.SERVING
    wait_serving(guarded.target, timeout_s=30)
    assert state(guarded) == (before, jobs), "a refused call changed a metric or ran a job"
    assert unauthenticated(guarded, "grpc") - refusals == 12


def test_a_valid_token_opens_every_rpc_from_the_argument_the_environment_and_the_batch_client(
    guarded, secrets, no_env_access, monkeypatch
):
    for who in ("trainer", "prometheus"):  # each client its own token
        with Client(guarded.target, token=token(secrets, who)) as client:
            answers = {rpc: attempt() for rpc, attempt in every_rpc(client).items()}
            assert answers["Score"].verdict == pb.ACCEPTED
            assert [r.verdict for r in answers["ScoreStream"]] == [pb.ACCEPTED]
            assert [r.name for r in answers["ListRuntimes"].runtimes] == ["python"]
            assert answers["RegisterTests"].startswith("sha256:")
            assert SERVICE_NAME in answers["reflection"]
    with pytest.raises(grpc.RpcError) as err:  # no token: an error, never a None reward
        BatchScorer(guarded.target, retries=0).score_sync([Sample(ADD, TESTS)])
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    monkeypatch.setenv("RLCE_TOKEN", token(secrets))
    with Client(guarded.target) as client:
        assert client.score("python", unique(ADD), TESTS).verdict == pb.ACCEPTED
    monkeypatch.delenv("RLCE_TOKEN")
    samples = [Sample(unique(ADD), TESTS), Sample(unique(SUB), TESTS)] * 2
    out = BatchScorer(guarded.target, token=token(secrets)).score_sync(samples)
    assert [r.reward for r in out] == [1.0, 0.0, 1.0, 0.0]


def test_metrics_port_wants_a_token(guarded, secrets):
    refusals = unauthenticated(guarded, "metrics")
    status, _, headers = scrape(metrics_url(guarded))
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    assert scrape(metrics_url(guarded), "Bearer " + "f" * 64)[0] == 401
    status, text, _ = scrape(metrics_url(guarded), f"Bearer {token(secrets, 'prometheus')}")
    assert status == 200 and 'rlce_api_unauthenticated_requests_total{port="metrics"} 2.0' in text
    assert unauthenticated(guarded, "metrics") - refusals == 2


# -- TLS ----------------------------------------------------------------------


def tls_context(secrets: Path, client_cert: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(secrets / "ca.crt"))
    if client_cert is not None:
        context.load_cert_chain(client_cert / "client.crt", client_cert / "client.key")
    return context


def test_tls_server_answers_clients_that_trust_its_ca_only(tls_server, secrets, strangers, no_env_access):
    ca = secrets / "ca.crt"
    wait_serving(tls_server.target, timeout_s=30, tls_ca=ca)
    with Client(tls_server.target, token=token(secrets), tls_ca=ca) as client:
        assert client.score("python", unique(ADD), TESTS, timeout_s=60).verdict == pb.ACCEPTED
    with Client(tls_server.target, tls_ca=ca) as client:
        assert refused(client.list_runtimes) == grpc.StatusCode.UNAUTHENTICATED
    _, jobs = state(tls_server)
    plaintext = Client(tls_server.target, token=token(secrets))
    for client in (plaintext, Client(tls_server.target, tls_ca=strangers / "ca.crt")):
        with client:  # plaintext, or a CA that did not sign the server's certificate
            assert refused(lambda c=client: c.score("python", unique(ADD), TESTS, timeout_s=30)) == (
                grpc.StatusCode.UNAVAILABLE
            )
    assert state(tls_server)[1] == jobs
    url = metrics_url(tls_server, "https")
    assert scrape(url, f"Bearer {token(secrets, 'prometheus')}", tls_context(secrets))[0] == 200
    assert scrape(url, None, tls_context(secrets))[0] == 401
    with pytest.raises((OSError, http.client.HTTPException)) as err:
        scrape(metrics_url(tls_server), f"Bearer {token(secrets, 'prometheus')}")  # plain HTTP
    assert not isinstance(err.value, urllib.error.HTTPError)


def test_mutual_tls_refuses_clients_without_a_certificate_of_its_ca(
    mtls_server, secrets, strangers, no_env_access, monkeypatch
):
    ca = secrets / "ca.crt"
    before, jobs = state(mtls_server)
    for cert in (None, strangers):
        extra = {"tls_cert": cert / "client.crt", "tls_key": cert / "client.key"} if cert else {}
        with Client(mtls_server.target, tls_ca=ca, **extra) as client:
            assert refused(lambda c=client: c.score("python", unique(ADD), TESTS, timeout_s=30)) == (
                grpc.StatusCode.UNAVAILABLE
            )
        with pytest.raises(OSError) as err:
            scrape(metrics_url(mtls_server, "https"), context=tls_context(secrets, cert))
        assert not isinstance(err.value, urllib.error.HTTPError)
    assert state(mtls_server) == (before, jobs)
    mine = {"tls_ca": ca, "tls_cert": secrets / "client.crt", "tls_key": secrets / "client.key"}
    with Client(mtls_server.target, **mine) as client:
        assert client.score("python", unique(ADD), TESTS, timeout_s=60).verdict == pb.ACCEPTED
    assert scrape(metrics_url(mtls_server, "https"), context=tls_context(secrets, secrets))[0] == 200
    # the environment, as a trainer's (wait_serving too: health over mutual TLS)
    for name, path in mine.items():
        monkeypatch.setenv(f"RLCE_{name.upper()}", str(path))
    wait_serving(mtls_server.target, timeout_s=30)
    with Client(mtls_server.target) as client:
        assert client.score("python", unique(SUB), TESTS, timeout_s=60).verdict == pb.WRONG_ANSWER


# -- Prometheus ---------------------------------------------------------------


def test_real_prometheus_scrapes_with_its_token_over_tls(tls_server, secrets, tmp_path):
    """As deploy/prometheus.yml does: scheme https, authorization.credentials_file, tls_config.ca_file."""
    deploy = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())["scrape_configs"][0]
    assert deploy["scheme"] == "https" and "credentials_file" in deploy["authorization"]
    assert tls_server.app is not None
    job = {
        "job_name": "rlce",
        "scheme": "https",
        "authorization": {"credentials_file": str(secrets / "prometheus.token")},
        "tls_config": {"ca_file": str(secrets / "ca.crt")},
        "static_configs": [{"targets": [f"127.0.0.1:{tls_server.app.metrics_port}"]}],
    }
    with prometheus([job], tmp_path) as query:
        eventually(lambda: query('up{job="rlce"}'), 1.0)


# -- OpenRLHF -----------------------------------------------------------------


def reward_body() -> dict[str, Any]:
    prompt = "Write add(a, b).\n"
    code = [f"```python\n{unique(p)}```" for p in (ADD, SUB)]
    return {"query": [prompt + c for c in code], "prompts": [prompt] * 2, "labels": [["assert add(1, 2) == 3"]] * 2}


def test_rlce_openrlhf_rm_wants_a_token_over_tls(guarded, secrets, tmp_path):
    port = free_port()
    env = dict(os.environ, RLCE_TOKEN=token(secrets))  # its own calls to the rlce server
    log = tmp_path / "openrlhf-rm.log"
    args = ["--auth-tokens-file", "tokens", "--tls-cert", "tls.crt", "--tls-key", "tls.key"]
    cmd = [sys.executable, "-m", "rlce_server", "openrlhf-rm", "--target", guarded.target, "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, *args], env=env, stdout=out, stderr=out, cwd=secrets)
    try:
        wait_listening(port, lambda: proc.poll() is None, f"rlce openrlhf-rm (its log: {log})")
        url = f"https://127.0.0.1:{port}/get_reward"
        ca = str(secrets / "ca.crt")
        assert guarded.app is not None
        streams = guarded.app.metrics.requests.labels("ScoreStream", "OK")
        before = streams._value.get()
        bad = requests.post(url, json=reward_body(), verify=ca, timeout=60)
        forged = {"Authorization": "Bearer " + "f" * 64}
        wrong = requests.post(url, json=reward_body(), verify=ca, headers=forged, timeout=60)
        assert (bad.status_code, wrong.status_code) == (401, 401) and "token" in bad.json()["error"]
        assert streams._value.get() == before, "a refused request was scored"
        mine = {"Authorization": f"Bearer {token(secrets)}"}
        good = requests.post(url, json=reward_body(), verify=ca, headers=mine, timeout=60)
        assert good.status_code == 200 and good.json()["rewards"] == [1.0, 0.0]
        with_url = f"https://rlce:{token(secrets)}@127.0.0.1:{port}/get_reward"  # Basic, from the URL
        assert requests.post(with_url, json=reward_body(), verify=ca, timeout=60).json()["rewards"] == [1.0, 0.0]
    finally:
        proc.terminate()
        proc.wait(30)


def test_openrlhf_own_client_authenticates_with_the_token_in_the_url(guarded, secrets):
    """OpenRLHF 0.11.2's SingleTurnAgentExecutor sends no headers of its own: the token goes in the URL."""
    import asyncio

    from rlce_server.rl.openrlhf import RewardService, make_server

    agent = trainer_module("openrlhf.utils.agent")
    service = RewardService(BatchScorer(guarded.target, token=token(secrets)))
    http = make_server(service, "127.0.0.1", 0, ServerAccess.load(secrets / "tokens"))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        url = f"http://rlce:{token(secrets)}@127.0.0.1:{http.server_port}/get_reward"
        body = reward_body()
        executor = agent.SingleTurnAgentExecutor(remote_rm_url=url)
        (answer,) = asyncio.run(executor._fetch_rewards_via_http(body["query"], body["prompts"], body["labels"]))
        assert answer["rewards"] == [1.0, 0.0]
    finally:
        http.shutdown()
        http.server_close()


# -- the signed Redis tier ----------------------------------------------------


def accepted(value: bytes) -> bytes:
    """A failing answer rewritten as a pass: what a forger would store."""
    resp = pb.ScoreResponse.FromString(value)
    resp.verdict, resp.reward, resp.passed = pb.ACCEPTED, 1.0, len(resp.tests)
    for t in resp.tests:
        t.verdict = pb.ACCEPTED
    return resp.SerializeToString()


def test_redis_entries_not_signed_with_the_servers_key_are_misses(images, redis_url, secrets):
    url, _ = redis_url
    key = secrets / "cache-hmac.key"
    a = ServerThread(workers=1, cache_redis_url=url, cache_hmac_key_file=key).start()
    b = ServerThread(workers=1, cache_redis_url=url, cache_hmac_key_file=key).start()
    store = redis.Redis.from_url(url)
    try:
        assert a.app is not None and b.app is not None
        rejected = b.app.metrics.cache_rejected
        with Client(a.target) as ca, Client(b.target) as cb:
            good = unique(ADD)
            assert not ca.score("python", good, TESTS).cached
            assert cb.score("python", good, TESTS).cached, "servers with one key share entries"
            (good_name,) = store.keys()
            forgeries: dict[str, Callable[[str, bytes], bytes]] = {
                "unsigned": lambda name, entry: accepted(entry[TAG_BYTES:]),
                "another key": lambda name, entry: sign(b"x" * 32, name, accepted(entry[TAG_BYTES:])),
                "a signed entry moved": lambda name, entry: store.get(good_name),
                "garbage": lambda name, entry: b"\x00",
            }
            for n, (what, forge) in enumerate(forgeries.items(), 1):
                program = unique(SUB)
                known = set(store.keys())
                assert ca.score("python", program, TESTS).verdict == pb.WRONG_ANSWER
                (name,) = set(store.keys()) - known
                store.set(name, forge(name.decode(), store.get(name)))
                answer = cb.score("python", program, TESTS)
                assert (answer.verdict, answer.reward, answer.cached) == (pb.WRONG_ANSWER, 0.0, False), what
                assert rejected._value.get() == n, what
        assert b.app.metrics.cache_hits.labels("python", "shared")._value.get() == 1
    finally:
        a.stop()
        b.stop()
