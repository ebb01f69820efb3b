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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..client import pb
from .batch import BatchScorer, Sample
from .extract import completion_text, extract_code


@dataclass(frozen=True)
class Shaping:
    compile_error_penalty: float = 0.0
    format_reward: float = 0.0
    speed_bonus: float = 0.0
    speed_reference_s: float = 1.0
    no_code_reward: float = 0.0


def reward_of(resp: pb.ScoreResponse | None, shaping: Shaping = Shaping(), *, formatted: bool = True) -> float | None:
    if resp is None:
        return None
    reward = float(resp.reward)
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
    tests_of: Callable[[int], list[pb.TestCase]],
    *,
    language: str,
    shaping: Shaping,
    timeout_s: float | None,
    limits: pb.Limits | None = None,
    policy: pb.ScoringPolicy | None = None,
) -> tuple[list[float | None], list[pb.ScoreResponse | None]]:
    """What every adapter does: extract the code, score what has code in one
    batch, shape. Per completion: the reward (``no_code_reward`` without code,
    ``None`` when it could not be scored) and rlce's answer (``None`` if none)."""
    samples: list[Sample] = []
    where: list[int] = []
    for i, completion in enumerate(completions):
        program = extract_code(completion, language)
        if program is not None:
            samples.append(Sample(program, tests_of(i), language, limits=limits, policy=policy))
            where.append(i)
    answers = scorer.score_sync(samples, timeout_s=timeout_s) if samples else []
    rewards: list[float | None] = [shaping.no_code_reward] * len(completions)
    responses: list[pb.ScoreResponse | None] = [None] * len(completions)
    for i, resp in zip(where, answers, strict=True):
        fenced = "```" in completion_text(completions[i])
        rewards[i] = reward_of(resp, shaping, formatted=fenced)
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
