"""Each trainer adapter called exactly as its trainer calls it, against a real
rlce server: HumanEval canonical solutions wrapped in markdown as a chat model
writes them earn 1, broken ones 0, and a sandbox failure injected mid-batch
comes back as "no reward", never 0.

TRL is installed (CPU torch) and its own GRPOTrainer reward code calls the
adapter. veRL and OpenRLHF are installed without their dependencies (Ray,
DeepSpeed, vLLM do not belong on a CPU test machine) and the modules that
matter are imported on their own: veRL's ``load_extern_object`` loads the
reward file, OpenRLHF's ``SingleTurnAgentExecutor`` makes the HTTP calls.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import math
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from rlce_server.client import pb
from rlce_server.errors import SandboxFault
from rlce_server.rl.batch import BatchScorer, Sample
from rlce_server.rl.ground_truth import tests_from as to_tests

from .server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
ALWAYS = "# RLCE_TEST_FAULT_ALWAYS\n"
ONCE = "# RLCE_TEST_FAULT_ONCE\n"


def humaneval() -> list[dict]:
    with gzip.open(ROOT / "rlce_server" / "data" / "HumanEval.jsonl.gz", "rt") as fh:
        return [json.loads(line) for line in fh]


ROWS = humaneval()


def chat_answer(code: str) -> str:
    return f"Sure! Here is the implementation:\n\n```python\n{code}```\n\nIt handles the edge cases."


def good(row: dict) -> str:
    return row["prompt"] + row["canonical_solution"]


def broken(row: dict) -> str:
    return row["prompt"] + "    return None\n"


@pytest.fixture(scope="module")
def rl_server(images):
    """A real server; programs carrying a marker meet an injected sandbox fault
    (raised where a real one is, so the answer is a real SANDBOX_ERROR). An
    outage, not the program: the scorer's control run of that request (its
    program replaced by the runtime's own) meets it too."""
    srv = ServerThread(workers=2, cache_max_bytes=0).start()
    real = srv.app.scorer._attempt
    seen: collections.Counter[str] = collections.Counter()
    down: set[str] = set()

    async def attempt(job, start, owner):
        if ALWAYS in job.program or job.request_id.removesuffix("-control") in down:
            down.add(job.request_id)
            raise SandboxFault("injected sandbox fault")
        if ONCE in job.program:
            seen[job.program] += 1
            if seen[job.program] <= 2:  # both of the server's own attempts: one SANDBOX_ERROR answer
                down.add(job.request_id)
                raise SandboxFault("injected sandbox fault, once")
        return await real(job, start, owner)

    srv.app.scorer._attempt = attempt
    yield srv
    srv.stop()


def fast_scorer(target: str) -> BatchScorer:
    return BatchScorer(target, retries=2, backoff_s=0.05)


def test_batch_client_order_registration_retries_and_no_reward(rl_server):
    scorer = fast_scorer(rl_server.target)
    rows = ROWS[:40]
    tests = [to_tests({"test": r["test"], "entry_point": r["entry_point"]}) for r in rows]
    samples = []
    for r, t in zip(rows, tests, strict=True):
        samples += [Sample(good(r), t), Sample(broken(r), t)]  # a group of two per task: registered once
    samples[5] = Sample(ALWAYS + samples[5].program, samples[5].tests)
    samples[8] = Sample(ONCE + samples[8].program, samples[8].tests)
    out = scorer.score_sync(samples)
    assert len(out) == len(samples)
    assert out[5] is None, "a sample whose sandbox keeps failing has no reward, not 0"
    assert out[8] is not None and out[8].verdict == pb.ACCEPTED, "a transient fault is retried"
    for i, resp in enumerate(out):
        if i == 5:
            continue
        why = (i, pb.Verdict.Name(resp.verdict), [t.message for t in resp.tests])
        if i % 2 == 0:
            assert resp.verdict == pb.ACCEPTED and resp.reward == 1.0, why
        else:  # the broken body fails (wrong answer, or a runtime error on None)
            assert resp.verdict != pb.ACCEPTED and resp.reward == 0.0, why
    stats = scorer.last_stats
    assert stats.registered == len(rows) and stats.unscored == 1 and stats.retried >= 2


def test_batch_deadline_and_cancellation_pass_through(rl_server):
    scorer = fast_scorer(rl_server.target)
    slow = [Sample("import time\ntime.sleep(2)\n", [to_tests(["assert True"])[0]]) for _ in range(6)]
    out = scorer.score_sync(slow, timeout_s=0.5)
    assert out == [None] * 6, "past the deadline: no reward, no exception"

    async def cancel_midway() -> None:
        task = asyncio.create_task(scorer.score(slow))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    assert (
        scorer.score_sync(
            [Sample(good(ROWS[0]), to_tests({"test": ROWS[0]["test"], "entry_point": ROWS[0]["entry_point"]}))]
        )[0].verdict
        == pb.ACCEPTED
    )


def test_trl_reward_function_through_grpo_trainers_own_reward_code(rl_server):
    """TRL's real GRPOTrainer._calculate_rewards (trl pinned in the dev extra,
    torch from the CPU wheel), on a stand-in for the trainer's state: it
    builds the keyword arguments from the dataset columns, calls the reward
    function, checks the count and turns None into NaN, exactly as in training."""
    import torch
    from accelerate import PartialState
    from transformers import TrainerState
    from trl import GRPOTrainer

    PartialState()  # what the Trainer's Accelerator sets up (single process, CPU)

    from rlce_server.rl.trl import RlceReward

    reward_func = RlceReward(rl_server.target, scorer=fast_scorer(rl_server.target))
    inputs = []  # a GRPO batch: two completions per prompt, conversational format
    for r in ROWS:
        for code in (good(r), broken(r)):
            inputs.append({**r, "completion": [{"role": "assistant", "content": chat_answer(code)}]})
    inputs[11]["completion"] = [{"role": "assistant", "content": chat_answer(ALWAYS + good(ROWS[5]))}]
    prompts = [[{"role": "user", "content": ex["prompt"]}] for ex in inputs]
    completions = [ex["completion"] for ex in inputs]
    trainer = SimpleNamespace(
        accelerator=SimpleNamespace(device=torch.device("cpu"), is_main_process=True),
        reward_funcs=[reward_func],
        reward_processing_classes=[None],
        reward_func_names=[reward_func.__name__],
        state=TrainerState(),
        args=SimpleNamespace(report_to=[]),
        environments=None,
        _log_completion_extra=lambda *a, **k: None,
        _log_metric=lambda *a, **k: None,
    )
    rewards = GRPOTrainer._calculate_rewards(trainer, inputs, prompts, completions, [[0]] * len(inputs))
    assert tuple(rewards.shape) == (len(inputs), 1)
    got = rewards[:, 0].tolist()
    assert math.isnan(got[11]), "no reward reaches TRL as NaN, which it leaves out of the sum"
    for i, value in enumerate(got):
        if i != 11:
            assert value == (1.0 if i % 2 == 0 else 0.0), (i, inputs[i]["task_id"], value)


def trainer_module(name: str):
    """A module of an installed trainer package (``pip install --no-deps``),
    imported without running the package's own ``__init__`` (which pulls in
    Ray, DeepSpeed or CUDA): the parent packages are bare namespaces."""
    import importlib.util
    import os
    import types

    parts = name.split(".")
    top = sys.modules.get(parts[0])
    if getattr(top, "__rlce_bare__", False):
        root = top.__path__[0]
    else:
        root = importlib.util.find_spec(parts[0]).submodule_search_locations[0]
    for depth in range(1, len(parts)):
        pkg = ".".join(parts[:depth])
        if pkg not in sys.modules or not getattr(sys.modules[pkg], "__rlce_bare__", False):
            bare = types.ModuleType(pkg)
            bare.__path__ = [os.path.join(root, *parts[1:depth])]
            bare.__rlce_bare__ = True
            sys.modules[pkg] = bare
    return importlib.import_module(name)


def load_like_verl(name: str, reward_kwargs: dict | None = None):
    """verl.trainer.ppo.reward.get_custom_reward_fn (verl 0.9.1): raw_fn =
    verl.utils.import_utils.load_extern_object(module_path=path, object_name=name) -- called here for real --
    then partial(_call_with_kwargs, raw_fn, reward_kwargs), which merges reward_kwargs into each call."""
    import functools

    import_utils = trainer_module("verl.utils.import_utils")
    raw_fn = import_utils.load_extern_object(module_path=str(ROOT / "rlce_server" / "rl" / "verl.py"), object_name=name)

    def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):
        return raw_fn(*args, **{**kwargs, **extra_kwargs})

    # (the loaded module is not in sys.modules: its globals are reached through the function)
    return functools.partial(_call_with_kwargs, raw_fn, dict(reward_kwargs or {})), raw_fn.__globals__


def test_verl_compute_score_batch_and_single(rl_server, monkeypatch):
    monkeypatch.setenv("RLCE_TARGETS", rl_server.target)
    batch_fn, module_globals = load_like_verl("compute_score_batch")
    module_globals["_scorer"] = fast_scorer(rl_server.target)
    data_sources, solutions, gts, extras = [], [], [], []
    for r in ROWS:
        for code in (good(r), broken(r)):
            data_sources.append("openai_humaneval")
            solutions.append(chat_answer(code))
            gts.append(json.dumps({"test": r["test"], "entry_point": r["entry_point"]}))
            extras.append({"task_id": r["task_id"]})
    solutions[20] = chat_answer(ALWAYS + good(ROWS[10]))  # task 10's good sample hits a sandbox failure
    # BatchRewardManager: compute_score(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...)
    results = batch_fn(data_sources=data_sources, solution_strs=solutions, ground_truths=gts, extra_infos=extras)
    assert len(results) == len(solutions)
    assert results[20]["rlce_scored"] is False and results[20]["rlce_verdict"] == "UNSCORED"
    assert results[20]["score"] == results[21]["score"] == 0.0, "the group's mean: zero advantage"
    for i, res in enumerate(results):
        if i != 20:
            assert res["score"] == (1.0 if i % 2 == 0 else 0.0), (i, res)
            assert res["rlce_scored"] is True
    # NaiveRewardManager: compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)
    single, single_globals = load_like_verl("compute_score")
    single_globals["_scorer"] = fast_scorer(rl_server.target)
    stdio_gt = json.dumps({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
    sol = chat_answer("a, b = map(int, input().split())\nprint(a + b)\n")
    res = single(data_source="codecontests", solution_str=sol, ground_truth=stdio_gt, extra_info={})
    assert res["score"] == 1.0 and res["acc"] == 1.0
    calls_gt = {"fn_name": "add", "inputs": [[1, 2], [5, 5]], "outputs": [[3], [10]]}
    res = single(
        data_source="taco", solution_str=chat_answer("def add(a, b):\n    return a - b\n"), ground_truth=calls_gt
    )
    assert res["score"] == 0.0 and res["rlce_verdict"] == "WRONG_ANSWER"


def test_openrlhf_remote_reward_endpoint(rl_server):
    """OpenRLHF 0.11.2's own HTTP client, SingleTurnAgentExecutor._fetch_rewards_via_http (aiohttp,
    {"query", "prompts", "labels"} in, the reply dict out), called for real against the endpoint."""
    from rlce_server.rl.openrlhf import RewardService, make_server

    agent = trainer_module("openrlhf.utils.agent")
    http = make_server(RewardService(fast_scorer(rl_server.target)), "127.0.0.1", 0)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{http.server_port}/get_reward"
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=url)
    try:
        queries, prompts, labels = [], [], []
        for r in ROWS:
            for code in (good(r), broken(r)):
                prompt = f"<|user|>Complete:\n{r['prompt']}<|assistant|>"
                prompts.append(prompt)
                queries.append(prompt + chat_answer(code))
                labels.append(json.dumps({"test": r["test"], "entry_point": r["entry_point"]}))
        queries[40] = prompts[40] + chat_answer(ALWAYS + good(ROWS[20]))
        (body,) = asyncio.run(executor._fetch_rewards_via_http(queries, prompts, labels))
        rewards = body["rewards"]
        assert len(rewards) == len(queries) and body["scores"] == rewards
        assert body["extra_logs"]["rlce_unscored"][40] == 1.0
        assert rewards[40] == rewards[41] == 0.0  # its group (same prompt) has only the broken sample scored
        for i, r in enumerate(rewards):
            if i != 40:
                assert r == (1.0 if i % 2 == 0 else 0.0), (i, r)
        # how rollouts call it: one query at a time; the unscored one gets what its prompt got lately
        (one,) = asyncio.run(executor._fetch_rewards_via_http([queries[40]], [prompts[40]], [labels[40]]))
        assert one["extra_logs"]["rlce_unscored"] == [1.0] and one["rewards"] == [0.0]
        (one,) = asyncio.run(executor._fetch_rewards_via_http([queries[2]], [prompts[2]], [labels[2]]))
        assert one["rewards"] == [1.0] and one["extra_logs"]["rlce_unscored"] == [0.0]
        # a malformed body is a 400 naming the field, and the endpoint keeps serving
        bad = requests.post(url=url, json={"query": ["x"], "prompts": ["x"]}, timeout=30)
        assert bad.status_code == 400 and bad.json()["error"].startswith("labels:")
        (again,) = asyncio.run(executor._fetch_rewards_via_http(queries[:2], prompts[:2], labels[:2]))
        assert again["rewards"] == [1.0, 0.0]
    finally:
        http.shutdown()


def test_batch_is_spread_over_several_servers_and_survives_one_going_away(images):
    a = ServerThread(workers=1, cache_max_bytes=0).start()
    b = ServerThread(workers=1, cache_max_bytes=0).start()
    stopped = False
    try:
        scorer = BatchScorer([a.target, b.target], retries=2, backoff_s=0.05)
        rows = ROWS[:10]
        samples = []
        for r in rows:
            tests = to_tests({"test": r["test"], "entry_point": r["entry_point"]})
            samples += [Sample(good(r), tests), Sample(broken(r), tests)]
        out = scorer.score_sync(samples)
        assert [resp.reward for resp in out] == [1.0, 0.0] * len(rows)
        for srv in (a, b):  # each server scored a share, with the test sets registered on it
            assert srv.app.metrics.requests.labels("ScoreStream", "OK")._value.get() == 1
            assert srv.app.metrics.requests.labels("RegisterTests", "OK")._value.get() == len(rows)
        a.stop()
        stopped = True
        out = scorer.score_sync(samples)  # a's share fails over to b
        assert [resp.reward for resp in out] == [1.0, 0.0] * len(rows)
        assert scorer.last_stats.unscored == 0 and any("ScoreStream" in e or "RegisterTests" in e
                                                       for e in scorer.last_stats.errors)  # fmt: skip
    finally:
        if not stopped:
            a.stop()
        b.stop()
