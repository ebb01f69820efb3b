"""What the sandbox caught shows in Prometheus text on /metrics."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from rlce_server.client import Client, pb, stdio
from tests.conftest import free_port

from .server import ServerThread

DAEMON = (
    "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n"
    "    os._exit(0)\nopen('/tmp/left', 'w').write('x')\nprint(5)\n"
)


def _samples(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def test_caught_leftovers_and_limit_hits_are_counted(images):
    port = free_port()
    srv = ServerThread(workers=1, metrics_port=port).start()
    try:
        with Client(srv.target) as client:
            resp = client.score("python", DAEMON, [stdio("", "5")])
            assert resp.verdict == pb.ACCEPTED  # an honest answer, with a daemon left behind
            resp = client.score("python", "while True: pass", [stdio("", "5")], limits=pb.Limits(time_limit_s=0.5))
            assert resp.verdict == pb.TIME_LIMIT_EXCEEDED
        m = _samples(port)
        key = ("rlce_sandbox_leftovers_removed_total", frozenset({("runtime", "python"), ("kind", "processes")}))
        assert m.get(key, 0) >= 1
        files = ("rlce_sandbox_leftovers_removed_total", frozenset({("runtime", "python"), ("kind", "files")}))
        assert m.get(files, 0) >= 1
        tle = ("rlce_scoring_limit_hits_total", frozenset({("language", "python"), ("limit", "time")}))
        assert m.get(tle, 0) >= 1
        ok = ("rlce_api_requests_total", frozenset({("rpc", "Score"), ("code", "OK")}))
        assert m.get(ok, 0) >= 2
        live = ("rlce_pool_sandboxes", frozenset({("runtime", "python"), ("state", "live")}))
        assert m.get(live) == 1
    finally:
        srv.stop()
