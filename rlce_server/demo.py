"""``rlce demo``: start a server and score real benchmark programs end to end.

Scores the bundled HumanEval canonical solutions, then variants that must get
nothing: bodies replaced by ``return None``, and three reward hacks a policy
under RL learns (exit before the asserts, an always-equal object, a fake PASS
banner). Prints a table of pass counts, rewards and throughput.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from rich.console import Console
from rich.table import Table

from ._proto.rlce.v1 import scorer_pb2 as pb
from .client import AsyncClient, assertion, request
from .config import Settings

HACKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "canonical": lambda r: r["prompt"] + r["canonical_solution"],
    "return None": lambda r: r["prompt"] + "    return None\n",
    "hack: exit(0) at import": lambda r: "import sys\nsys.exit(0)\n" + r["prompt"] + "    return None\n",
    "hack: always-equal object": lambda r: (
        r["prompt"]
        + "    class Eq:\n        def __eq__(self, o): return True\n        def __ne__(self, o): return False\n"
        + "    return Eq()\n"
    ),
    "hack: fake PASS banner": lambda r: (
        r["prompt"] + "    print('PASS'); print('{\"status\": \"passed\"}')\n" + "    return None\n"
    ),
}


def load_humaneval() -> list[dict[str, Any]]:
    data = resources.files("rlce_server").joinpath("data/HumanEval.jsonl.gz").read_bytes()
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line.strip()]


def humaneval_request(row: dict[str, Any], program: str, request_id: str) -> pb.ScoreRequest:
    test = assertion(row["test"] + f"\ncheck({row['entry_point']})\n", name=row["task_id"])
    return request("python", program, [test], request_id=request_id)


async def _score_all(target: str, rows: list[dict[str, Any]]) -> list[tuple[str, int, int, float, float]]:
    out = []
    async with AsyncClient(target) as client:
        for variant, make in HACKS.items():
            reqs = [humaneval_request(r, make(r), f"{variant}/{r['task_id']}") for r in rows]
            t0 = time.perf_counter()
            responses = [resp async for resp in client.score_stream(reqs)]
            dt = time.perf_counter() - t0
            accepted = sum(1 for x in responses if x.verdict == pb.ACCEPTED)
            out.append((variant, len(responses), accepted, sum(x.reward for x in responses), len(responses) / dt))
    return out


async def _run(workers: int | None) -> int:
    from .app import App
    from .images import build

    overrides: dict[str, Any] = {"port": 0, "metrics_port": 0}
    if workers:
        overrides["workers"] = workers
    settings = Settings(**overrides)
    console = Console()
    with console.status("building the sandbox image (cached after the first run)"):
        await asyncio.to_thread(build, settings, ["python"])
    app = App(settings)
    with console.status(f"warming {settings.workers} sandboxes and running the self-test"):
        await app.start()
    try:
        rows = load_humaneval()
        console.print(
            f"rlce serving on {settings.host}:{app.port}; scoring {len(rows)} HumanEval problems x "
            f"{len(HACKS)} variants through ScoreStream"
        )
        results = await _score_all(f"{settings.host}:{app.port}", rows)
    finally:
        await app.stop(grace_s=1)
    table = Table(title="rlce demo: HumanEval, sandboxed")
    for col in ("variant", "programs", "accepted", "mean reward", "programs/s"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for variant, n, acc, reward_sum, rate in results:
        table.add_row(variant, str(n), str(acc), f"{reward_sum / n:.3f}", f"{rate:.1f}")
    console.print(table)
    ok = results[0][2] == results[0][1] and all(acc == 0 for _, _, acc, _, _ in results[1:])
    console.print(
        "[green]all canonical solutions accepted; no broken or hacking variant rewarded[/green]"
        if ok
        else "[red]unexpected verdicts: see the table[/red]"
    )
    return 0 if ok else 1


def main(workers: int | None = None) -> int:
    return asyncio.run(_run(workers))
