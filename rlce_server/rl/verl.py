"""veRL: custom reward functions, loaded by veRL from this file's path.

veRL imports the file named by ``custom_reward_function.path`` under a name of
its own and calls the function named by ``custom_reward_function.name``, so
this module uses absolute imports only. Settings come from the environment
(veRL passes no constructor arguments): ``RLCE_TARGETS`` (comma-separated
``host:port`` or one ``dns:///name:port``; default 127.0.0.1:50051),
``RLCE_LANGUAGE`` (default python), ``RLCE_TIMEOUT_S``; shaping from
``custom_reward_function.reward_kwargs`` (compile_error_penalty,
format_reward, speed_bonus, speed_reference_s).

Two entry points:

* ``compute_score`` -- the per-sample form (veRL's ``naive`` reward manager):
  ``compute_score(data_source, solution_str, ground_truth, extra_info)``.
* ``compute_score_batch`` -- the batched form (``reward_model.reward_manager=batch``):
  lists in, one result per sample out. **Use this one for training**: the
  whole batch goes to rlce at once, and a sample that could not be scored
  gets *no learning signal* (the mean of its group, i.e. zero advantage),
  which the per-sample contract cannot express.

Each result is a dict: ``score`` (the reward veRL uses) plus ``acc``
(1.0 if every test passed), ``rlce_scored`` and ``rlce_verdict``, which veRL
logs as reward extra info. Ground truth: stdin/stdout lists, fn_name call
cases, assert lists, HumanEval test+entry_point (from ``extra_info``), as
JSON strings or objects (``rlce_server.rl.ground_truth``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rlce_server.client import pb
from rlce_server.datasets import DatasetProblem
from rlce_server.rl.batch import BatchScorer
from rlce_server.rl.ground_truth import problem_from
from rlce_server.rl.shaping import Shaping, group_neutral, score_completions

_scorer: BatchScorer | None = None


def _get_scorer() -> BatchScorer:
    global _scorer
    if _scorer is None:
        raw = os.environ.get("RLCE_TARGETS", "127.0.0.1:50051")
        targets: str | list[str] = raw if raw.startswith("dns:") else [t.strip() for t in raw.split(",") if t.strip()]
        if isinstance(targets, list) and len(targets) == 1:
            targets = targets[0]
        _scorer = BatchScorer(targets)
    return _scorer


def _shaping(kwargs: dict[str, Any]) -> Shaping:
    fields = {k: float(v) for k, v in kwargs.items() if k in Shaping.__dataclass_fields__}
    return Shaping(**fields)


def _tests(ground_truth: Any, extra_info: Any, data_source: str | None = None) -> DatasetProblem:
    """A dataset row as ground truth is judged by its grader's profile (``data_source``
    may name the format, e.g. ``taco``; ``RLCE_PROFILE`` another profile)."""
    entry = extra_info.get("entry_point") if isinstance(extra_info, dict) else None
    if isinstance(extra_info, dict) and extra_info.get("test") and entry:
        ground_truth = {"test": extra_info["test"], "entry_point": entry}
    profile = os.environ.get("RLCE_PROFILE") or None
    return problem_from(ground_truth, fmt=data_source, profile=profile, entry_point=entry)


def _result(score: float, resp: pb.ScoreResponse | None, scored: bool) -> dict[str, Any]:
    verdict = pb.Verdict.Name(resp.verdict) if resp is not None else ("NO_CODE" if scored else "UNSCORED")
    acc = 1.0 if resp is not None and resp.verdict == pb.ACCEPTED else 0.0
    return {"score": score, "acc": acc, "rlce_scored": scored, "rlce_verdict": verdict}


def compute_score_batch(
    data_sources: Sequence[str],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    rewards, responses = score_completions(
        _get_scorer(),
        solution_strs,
        lambda i: _tests(ground_truths[i], extras[i], data_sources[i] if i < len(data_sources) else None),
        language=os.environ.get("RLCE_LANGUAGE", "python"),
        shaping=_shaping(kwargs),
        timeout_s=float(os.environ.get("RLCE_TIMEOUT_S", "600")),
    )
    filled, scored = group_neutral(rewards, [repr(gt) for gt in ground_truths])
    return [_result(r, responses[i], scored[i]) for i, r in enumerate(filled)]


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Per-sample form. A sample that could not be scored gets score 0.0 with
    ``rlce_scored`` False (veRL's per-sample contract has no mask): prefer
    ``compute_score_batch``."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]
