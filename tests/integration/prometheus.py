"""A real Prometheus for the tests: started on scrape configs, asked over its HTTP API."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import free_port

Query = Callable[[str], float | None]


@contextmanager
def prometheus(scrape_configs: list[dict[str, Any]], workdir: Path) -> Iterator[Query]:
    """Prometheus scraping every second; yields ``query(promql)``: the first
    result's value, 0.0 for none, None while Prometheus does not answer."""
    exe = shutil.which("prometheus")
    assert exe, "prometheus is not installed (scripts/setup installs Debian's prometheus)"
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": scrape_configs}))
    port = free_port()
    flags = [f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}"]
    proc = subprocess.Popen(
        [exe, *flags, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def query(q: str) -> float | None:
        assert proc.poll() is None, "prometheus exited"
        url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                data = json.load(resp)
        except OSError:
            return None
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if result else 0.0

    try:
        yield query
    finally:
        proc.terminate()
        proc.wait(30)


def eventually(probe: Callable[[], Any], wanted: Any, timeout_s: float = 120) -> None:
    """Ask ``probe`` until it answers ``wanted`` (a scrape comes every second)."""
    deadline = time.monotonic() + timeout_s
    while (got := probe()) != wanted:
        assert time.monotonic() < deadline, f"Prometheus saw {got}, expected {wanted}"
        time.sleep(0.5)
