"""Compiled runtimes: image size, compile time, programs/s, against ``docker run``.

For each runtime, a real server (its own process, that runtime only, one
sandbox per core) scores all 164 HumanEval-X canonical solutions over
``ScoreStream`` (``no_cache``): programs/s, how many passed, build time
p50/p90 from ``compile.time_s``. A second pass of the same requests shows the
sandboxes' artifact cache (a program built on a sandbox is not rebuilt
there). The baseline, in the same run, is what a per-job sandbox does: one
``docker run --rm --network none`` per program of the same image, building
with the same steps and running the same harness, two at once, over the
first ``--baseline`` tasks.

    python3 bench/runtimes.py [--languages cpp,java,...] [--baseline 24]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shlex
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import percentile, start_server  # noqa: E402

from rlce_server.client import Client, pb  # noqa: E402
from rlce_server.config import Settings  # noqa: E402
from rlce_server.evaluation.formats import load_problems, read_rows  # noqa: E402
from rlce_server.runtimes import load_runtimes  # noqa: E402
from rlce_server.runtimes.registry import RuntimeSpec  # noqa: E402

FOLDERS = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust"}
DATASETS = ROOT.parent / "shared" / "datasets" / "humaneval-x"


def requests_for(language: str) -> list[pb.ScoreRequest]:
    path = next((DATASETS / FOLDERS[language]).rglob("*.jsonl.gz"))
    rows = {r["task_id"]: r for r in read_rows(path)}
    out = []
    for tid, p in load_problems(path).items():
        req = pb.ScoreRequest(
            request_id=tid, language=language, program=p.prompt + rows[tid]["canonical_solution"], tests=p.tests
        )
        req.policy.no_cache = True
        out.append(req)
    return out


def rlce_pass(target: str, reqs: list[pb.ScoreRequest]) -> tuple[float, int, list[float]]:
    with Client(target) as client:
        t0 = time.perf_counter()
        answers = list(client.score_stream(reqs))
        wall = time.perf_counter() - t0
    builds = [a.compile.time_s for a in answers if a.compile.time_s > 0]
    return wall, sum(1 for a in answers if a.verdict == pb.ACCEPTED), builds


def baseline_script(spec: RuntimeSpec, nonce: str) -> str:
    """The runtime's assertion build and run as one shell script, for ``docker run``."""
    b = spec.build["assertion"]
    lines = ["set -e", "mkdir -p /job/b && cp /job/in/. /job/b -r && cd /job/b"]
    lines += [f"export {k}={shlex.quote(v.replace('{dir}', '/job/b'))}" for k, v in b.env.items()]
    lines += [shlex.join([a.replace("{dir}", "/job/b") for a in step]) for step in b.steps]
    run = [a.replace("{build}", "/job/b").replace("{memory_mb}", "512") for a in b.run]
    env = " ".join(f"{k}={shlex.quote(v.replace('{memory_mb}', '512'))}" for k, v in b.run_env.items())
    lines.append(f"printf %s {nonce} > /job/nonce")
    lines.append(f"{env} {shlex.join(run)} 3</job/nonce 4>/job/record </dev/null >/dev/null 2>&1")
    return "\n".join(lines) + "\n"


def docker_run_one(client: docker.DockerClient, image: str, spec: RuntimeSpec, req: pb.ScoreRequest) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp)
        (job / "in").mkdir()
        for name, source in spec.build["assertion"].files.items():
            if source == "program":
                (job / "in" / name).write_text(req.program)
            elif source == "test":
                (job / "in" / name).write_text(req.tests[0].assertion.code)
            else:
                (job / "in" / name).write_bytes((spec.folder / str(source["runtime"])).read_bytes())
        nonce = secrets.token_hex(16)
        try:
            client.containers.run(
                image,
                entrypoint=["sh", "-c", baseline_script(spec, nonce)],
                network_mode="none",
                volumes={tmp: {"bind": "/job", "mode": "rw"}},
                remove=True,
            )
        except docker.errors.ContainerError:
            return False
        record = job / "record"
        return record.exists() and record.read_text() == nonce


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--languages", default=",".join(FOLDERS))
    ap.add_argument("--baseline", type=int, default=24, help="programs run with one docker run each")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    settings = Settings()
    specs = load_runtimes(settings.images_dir)
    engine = docker.from_env(timeout=600)
    console = Console(width=200)
    table = Table(title="HumanEval-X canonical solutions, 2 cores")
    for col in (
        "runtime",
        "image MB",
        "passed",
        "build p50 s",
        "build p90 s",
        "rlce prog/s",
        "2nd pass prog/s",
        f"docker run prog/s ({args.baseline})",
        "rlce vs docker run",
    ):
        table.add_column(col, justify="right")
    for language in args.languages.split(","):
        spec = specs[language]
        image = settings.image_name(language)
        size_mb = engine.images.get(image).attrs["Size"] / 1e6
        reqs = requests_for(language)
        proc, target, _ = start_server(args.workers, RLCE_RUNTIMES=json.dumps([language]))
        try:
            wall, passed, builds = rlce_pass(target, reqs)
            wall2, _, _ = rlce_pass(target, reqs)
        finally:
            proc.terminate()
            proc.wait(60)
        sample = reqs[: args.baseline]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            ok = list(
                pool.map(docker_run_one, [engine] * len(sample), [image] * len(sample), [spec] * len(sample), sample)
            )
        base_wall = time.perf_counter() - t0
        rate, base_rate = len(reqs) / wall, len(sample) / base_wall
        table.add_row(
            language,
            f"{size_mb:.0f}",
            f"{passed}/{len(reqs)} (docker run {sum(ok)}/{len(sample)})",
            f"{statistics.median(builds):.2f}",
            f"{percentile(builds, 0.9):.2f}",
            f"{rate:.2f}",
            f"{len(reqs) / wall2:.2f}",
            f"{base_rate:.2f}",
            f"{rate / base_rate:.2f}x",
        )
        console.print(f"{language}: done")
    console.print(table)


if __name__ == "__main__":
    main()
