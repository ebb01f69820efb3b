"""A dataset row as rlce scores it: tests, judge, limits, how programs run, how credit is given.

``DatasetProblem`` is what every format module returns and what ``rlce
convert`` writes (one JSON object a line, ``"rlce_problem": 1``, tests and
judge in proto JSON form) and ``rlce eval`` reads back unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from .._proto.rlce.v1 import scorer_pb2 as pb
from .profiles import Credit, Run, harness_program

FILE_MARK = "rlce_problem"


class RowError(ValueError):
    """A row that cannot be turned into a problem (the message says why)."""


@dataclass
class DatasetProblem:
    task_id: str
    format: str
    profile: str
    tests: list[pb.TestCase] = field(default_factory=list)
    language: str = "python"
    checker: pb.JudgeProgram | None = None
    interactor: pb.JudgeProgram | None = None  # interactive problems (tests of kind `interactive`)
    limits: pb.Limits | None = None
    run: Run = field(default_factory=Run)  # how a stdin program runs
    header: str = ""  # before the program of call-based and assertion problems
    credit: Credit = field(default_factory=Credit)
    fence_required: bool = False
    error: str = ""  # a malformed row: its samples are INVALID_REQUEST failures, never sent

    @property
    def stdin_based(self) -> bool:
        return bool(self.tests) and all(t.WhichOneof("kind") == "stdio" for t in self.tests)

    def program(self, code: str, language: str = "python") -> str:
        """What rlce sends for a candidate's source: the grader's harness or header around it
        (Python programs; a program in another language goes as it is)."""
        if language != "python":
            return code
        if self.stdin_based:
            return harness_program(self.run, code)
        return self.header + code if self.header else code

    def policy(self) -> pb.ScoringPolicy:
        mode = pb.ALL_OR_NOTHING if self.credit.mode == "all_or_nothing" else pb.PARTIAL
        return pb.ScoringPolicy(reward_mode=mode, stop_on_first_failure=self.credit.stop_early)

    def reward(self, resp: pb.ScoreResponse) -> float:
        """The dataset's reward for rlce's answer (open-r1's weighted sum may leave [0, 1])."""
        if self.credit.mode != "weighted_sum":
            return float(resp.reward)
        if resp.verdict == pb.COMPILE_ERROR:
            return -0.1
        total = len(resp.tests) or 1
        fraction = sum(t.score for t in resp.tests) / total
        return (1.0 if resp.verdict == pb.ACCEPTED else 0.0) + 0.1 * fraction

    # -- the problems file ---------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            FILE_MARK: 1,
            "task_id": self.task_id,
            "format": self.format,
            "profile": self.profile,
            "language": self.language,
            "tests": [json_format.MessageToDict(t) for t in self.tests],
            "checker": json_format.MessageToDict(self.checker) if self.checker is not None else None,
            "interactor": json_format.MessageToDict(self.interactor) if self.interactor is not None else None,
            "limits": json_format.MessageToDict(self.limits) if self.limits is not None else None,
            "run": dataclasses.asdict(self.run),
            "header": self.header,
            "credit": dataclasses.asdict(self.credit),
            "fence_required": self.fence_required,
        }
        if self.error:
            row["error"] = self.error
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> DatasetProblem:
        try:
            return cls(
                task_id=str(row["task_id"]),
                format=str(row.get("format", "rlce")),
                profile=str(row.get("profile", "")),
                tests=[json_format.ParseDict(t, pb.TestCase()) for t in row.get("tests") or []],
                language=str(row.get("language", "python")),
                checker=json_format.ParseDict(row["checker"], pb.JudgeProgram()) if row.get("checker") else None,
                interactor=(
                    json_format.ParseDict(row["interactor"], pb.JudgeProgram()) if row.get("interactor") else None
                ),
                limits=json_format.ParseDict(row["limits"], pb.Limits()) if row.get("limits") else None,
                run=Run(**(row.get("run") or {})),
                header=str(row.get("header", "")),
                credit=Credit(**(row.get("credit") or {})),
                fence_required=bool(row.get("fence_required", False)),
                error=str(row.get("error", "")),
            )
        except (KeyError, TypeError, json_format.ParseError) as exc:
            raise RowError(f"not an rlce problem row: {exc}") from None
