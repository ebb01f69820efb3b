"""TRL: a reward function for ``GRPOTrainer(reward_funcs=[...])``.

    from rlce_server.rl.trl import RlceReward
    trainer = GRPOTrainer(model=..., reward_funcs=[RlceReward("sandbox-host:50051")], train_dataset=ds)

TRL calls ``reward_func(prompts=..., completions=..., completion_ids=...,
**columns)`` with every other dataset column as a keyword argument (a list,
one entry per completion) and expects one reward per completion. The tests
of each sample come from the first of these columns that is present:

* ``tests``: rlce TestCase dicts, or any ground-truth shape below
* ``test`` + ``entry_point`` (HumanEval)
* ``test_list`` [+ ``test_setup_code``] (MBPP)
* ``input_output`` / ``ground_truth`` (stdin/stdout or fn_name cases, APPS/TACO style)

A dataset's own columns (LiveCodeBench, TACO, APPS, CodeContests, ...:
``rlce_server.datasets``) are recognised first, or named by ``dataset_format``,
and judged by that dataset's grader profile (``profile`` to choose another).

Samples that could not be scored (sandbox failures that survived retries)
are returned as ``None``: TRL turns ``None`` into NaN and leaves that sample
out of the reward sum (see ``GRPOTrainer._calculate_rewards``), which is the
"no reward" we want. A completion with no extractable code gets
``Shaping.no_code_reward`` (0.0 by default): that failure is the model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

from .. import datasets
from ..client import Access, pb
from ..datasets import DatasetProblem
from .batch import BatchScorer
from .ground_truth import UnknownGroundTruth, problem_from, tests_from
from .shaping import Shaping, score_completions

_COLUMNS = ("tests", "input_output", "ground_truth")


class RlceReward:
    """A TRL reward function backed by rlce servers (``token``/``tls_*`` as for
    :class:`rlce_server.client.Client`, else from ``RLCE_TOKEN``, ``RLCE_TLS_*``)."""

    def __init__(
        self,
        target: str | Sequence[str] = "127.0.0.1:50051",
        *,
        language: str = "python",
        shaping: Shaping = Shaping(),
        limits: pb.Limits | None = None,
        reward_mode: pb.RewardMode = pb.PARTIAL,
        timeout_s: float | None = 600.0,
        scorer: BatchScorer | None = None,
        dataset_format: str | None = None,
        profile: str | None = None,
        **access: Unpack[Access],
    ) -> None:
        self.__name__ = "rlce_reward"  # TRL logs each reward function under its __name__
        self.language = language
        self.shaping = shaping
        self.limits = limits
        self.policy = pb.ScoringPolicy(reward_mode=reward_mode)
        self.timeout_s = timeout_s
        self.scorer = scorer or BatchScorer(target, **access)
        self.last_responses: list[pb.ScoreResponse | None] = []
        self.dataset_format = dataset_format
        self.profile = profile

    def _tests(self, i: int, columns: dict[str, Any]) -> list[pb.TestCase] | DatasetProblem:
        def col(name: str) -> Any:
            values = columns.get(name)
            return values[i] if isinstance(values, (list, tuple)) and i < len(values) else None

        row = {k: v[i] for k, v in columns.items() if isinstance(v, (list, tuple)) and i < len(v)}
        if self.dataset_format or self.profile or datasets.detect(row):
            return problem_from(row, fmt=self.dataset_format, profile=self.profile)

        if col("test") is not None and col("entry_point"):
            return tests_from({"test": col("test"), "entry_point": col("entry_point")})
        if col("test_list") is not None:
            return tests_from({"test_list": col("test_list"), "test_setup_code": col("test_setup_code") or ""})
        for name in _COLUMNS:
            if col(name) is not None:
                return tests_from(col(name), entry_point=col("entry_point"))
        raise UnknownGroundTruth(
            "no test column: pass one of tests, test+entry_point, test_list, input_output, ground_truth"
        )

    def __call__(
        self, completions: Sequence[Any], prompts: Sequence[Any] | None = None, **columns: Any
    ) -> list[float | None]:
        rewards, self.last_responses = score_completions(
            self.scorer,
            completions,
            lambda i: self._tests(i, columns),
            language=self.language,
            shaping=self.shaping,
            timeout_s=self.timeout_s,
            limits=self.limits,
            policy=self.policy,
        )
        return rewards
