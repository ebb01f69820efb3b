"""From an rlce answer to the number a trainer learns from.

The base reward is rlce's own (``ScoreResponse.reward``: partial credit or
all-or-nothing, as the request's policy says). Shaping is optional and off
by default: a penalty for programs that do not compile, a small reward for
answering in the expected format (a fenced code block), and a speed bonus
from the server's own measured CPU time, for accepted programs only.

``None`` -- no reward -- when the sample could not be scored (our failure,
after retries); a completion with no code in it is the model's failure and
gets ``no_code_reward`` (0 unless set).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..client import pb
from ..datasets import DatasetProblem
from .batch import BatchScorer, Sample
from .extract import completion_text, extract_code

log = logging.getLogger("rlce.rl")


@dataclass(frozen=True)
class Shaping:
    compile_error_penalty: float = 0.0
    format_reward: float = 0.0
    speed_bonus: float = 0.0
    speed_reference_s: float = 1.0
    no_code_reward: float = 0.0


def reward_of(
    resp: pb.ScoreResponse | None,
    shaping: Shaping = Shaping(),
    *,
    formatted: bool = True,
    base: float | None = None,
) -> float | None:
    """``base``: the reward before shaping when not rlce's own (a dataset's credit rule)."""
    if resp is None:
        return None
    reward = float(resp.reward) if base is None else base
    if resp.verdict == pb.COMPILE_ERROR:
        reward -= shaping.compile_error_penalty
    if formatted:
        reward += shaping.format_reward
    if shaping.speed_bonus and resp.verdict == pb.ACCEPTED:
        cpu_s = sum(t.cpu_time_s for t in resp.tests)
        reward += shaping.speed_bonus * max(0.0, 1.0 - cpu_s / shaping.speed_reference_s)
    return reward


def score_completions(
    scorer: BatchScorer,
    completions: Sequence[Any],
    tests_of: Callable[[int], list[pb.TestCase] | DatasetProblem],
    *,
    language: str,
    shaping: Shaping,
    timeout_s: float | None,
    limits: pb.Limits | None = None,
    policy: pb.ScoringPolicy | None = None,
) -> tuple[list[float | None], list[pb.ScoreResponse | None]]:
    """What every adapter does: extract the code, score what has code in one
    batch, shape. Per completion: the reward (``no_code_reward`` without code,
    ``None`` when it could not be scored) and rlce's answer (``None`` if none).
    ``tests_of`` may give a dataset problem: its judge, limits, harness and credit
    rule then apply; a malformed row is a failure (reward 0, INVALID_REQUEST)."""
    samples: list[Sample] = []
    where: list[int] = []
    problems: dict[int, DatasetProblem] = {}
    rewards: list[float | None] = [shaping.no_code_reward] * len(completions)
    responses: list[pb.ScoreResponse | None] = [None] * len(completions)
    for i, completion in enumerate(completions):
        tests = tests_of(i)
        if isinstance(tests, DatasetProblem):
            dp = tests
            if dp.error:
                log.warning("sample %d: malformed dataset row, scored as a failure: %s", i, dp.error)
                rewards[i] = 0.0
                responses[i] = pb.ScoreResponse(verdict=pb.INVALID_REQUEST, error=dp.error)
                continue
            code = extract_code(completion, language, require_fence=dp.fence_required)
            if code is None:
                continue
            own = dp.format != "tests"
            problems[i] = dp
            samples.append(
                Sample(
                    dp.program(code, language),
                    dp.tests,
                    language,
                    limits=limits if limits is not None or not own else dp.limits,
                    policy=dp.policy() if own else policy,
                    checker=dp.checker,
                    interactor=dp.interactor,
                )
            )
            where.append(i)
            continue
        program = extract_code(completion, language)
        if program is not None:
            samples.append(Sample(program, tests, language, limits=limits, policy=policy))
            where.append(i)
    answers = scorer.score_sync(samples, timeout_s=timeout_s) if samples else []
    for i, resp in zip(where, answers, strict=True):
        fenced = "```" in completion_text(completions[i])
        dp_i = problems.get(i)
        base = dp_i.reward(resp) if dp_i is not None and resp is not None else None
        rewards[i] = reward_of(resp, shaping, formatted=fenced, base=base)
        responses[i] = resp
    return rewards, responses


def group_neutral(
    rewards: list[float | None], groups: list[str], fallback: Callable[[str], float | None] = lambda g: None
) -> tuple[list[float], list[bool]]:
    """Fill "no reward" for trainers whose contract has no mask (veRL, OpenRLHF).

    An unscored sample gets the mean reward of the scored samples of its
    group (same prompt / ground truth), so under a group baseline (GRPO,
    RLOO) its advantage is zero and it teaches nothing; a group with nothing
    scored gets ``fallback(group)`` (what the caller knows of that group from
    elsewhere), else 0.0 throughout (all equal: zero advantage again).
    Returns the rewards and, per sample, whether it was really scored.
    """
    sums: dict[str, list[float]] = {}
    for r, g in zip(rewards, groups, strict=True):
        if r is not None:
            sums.setdefault(g, []).append(r)
    filled = []
    for r, g in zip(rewards, groups, strict=True):
        if r is not None:
            filled.append(r)
        else:
            scored = sums.get(g)
            known = fallback(g) if not scored else None
            filled.append(sum(scored) / len(scored) if scored else known if known is not None else 0.0)
    return filled, [r is not None for r in rewards]
