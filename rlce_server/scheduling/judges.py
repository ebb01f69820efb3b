"""A problem's judges (checker, interactor): built once per content, checked once per problem.

Where a judge runs: always in the candidate's own sandbox, under the judge
uid, beside (interactor) or after (checker) the program. Where it is built:

* there too, when the candidate's runtime can build it -- a Python judge (the
  interpreter is in every image) or one in the candidate's own language;
* otherwise in a sandbox of the judge's own runtime, whose outputs are then
  fetched and kept here (by content, LRU by bytes) and installed in the
  candidate's sandbox. Only runtimes whose judges are ``portable`` (a static
  binary: C++, Go, Rust) can serve another runtime's programs this way.

That happens before the job leases its sandbox, so no job ever holds one
sandbox while it waits for another.

Before a checker judges a candidate, rlce runs it on each test's expected
answer as the output (the answer file is the same bytes): a checker that
fails or rejects there is the problem's fault -- INVALID_REQUEST naming the
test and quoting the judge -- and, having passed, its later failure on a
candidate's output is that output's doing ("judge failed", WRONG_ANSWER).
Results are kept by (checker, tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..domain import InteractiveSpec, JudgeSpec, StdioSpec, TestCase, Verdict
from ..errors import SandboxFault
from ..graders import judge_verdicts
from ..runtimes import RuntimeSpec
from ..runtimes.registry import BuildSpec
from ..sandbox.backend import Sandbox
from ..sandbox.rlce_runner import protocol as wire

ARTIFACTS_MAX_BYTES = 256 << 20
VALIDATED_MAX = 4096
JUDGE_MESSAGE_CHARS = 1000


class JudgeRefused(Exception):
    """The problem's judge is broken (does not build, rejects an expected answer): the caller's fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclass(frozen=True)
class Where:
    """Where a judge is built, and how it reaches the candidate's sandbox."""

    runtime: str  # whose [judge] build spec
    build: wire.Build
    run: list[str]
    run_env: dict[str, str]
    local: bool  # built in the candidate's own sandbox (else fetched and installed)
    script: str = ""  # a Python script forked warm (see JudgeBuildSpec.script)


Lease = Callable[[str], Awaitable[Sandbox]]
GiveBack = Callable[[str, Sandbox, bool], None]


class Judges:
    def __init__(self, specs: dict[str, RuntimeSpec], margin_s: float) -> None:
        self.specs = specs
        self.margin_s = margin_s
        self._artifacts: OrderedDict[str, wire.Artifact] = OrderedDict()
        self._artifact_bytes = 0
        self._validated: OrderedDict[str, str] = OrderedDict()  # (checker, tests) -> "" or why it failed
        self._locks: dict[str, asyncio.Lock] = {}

    # -- where ---------------------------------------------------------------
    def where(self, judge: JudgeSpec, language: str, field: str) -> Where:
        """Where ``judge`` is built and run for a ``language`` program (JudgeRefused if nowhere)."""
        own = self.specs.get(judge.language)
        if own is None or own.judge is None:
            can = sorted(n for n, s in self.specs.items() if s.judge is not None)
            raise JudgeRefused(f"{field}.language", f"judges in {judge.language!r} are not served here; one of {can}")
        local = judge.language == language or own.judge.runs_anywhere
        if not local and not own.judge.portable:
            raise JudgeRefused(
                f"{field}.language", f"a {judge.language} judge runs only beside {judge.language} programs"
            )
        build = self._build(judge, own)
        return Where(judge.language, build, own.judge.run, own.judge.run_env, local, own.judge.script)

    def _build(self, judge: JudgeSpec, runtime: RuntimeSpec) -> wire.Build:
        assert runtime.judge is not None
        spec: BuildSpec = runtime.judge
        files: dict[str, wire.FileSource] = {}
        for name, source in spec.files.items():
            files[name] = (
                wire.FileSource(runtime_file=source["runtime"])
                if isinstance(source, dict)
                else wire.FileSource(text=judge.source)
            )
        support = {name: wire.FileSource(text=data.decode("utf-8", "surrogateescape")) for name, data in judge.files}
        outputs = list(spec.outputs) + (sorted(support) if runtime.judge.runs_anywhere else [])
        limits = runtime.compile
        req = wire.Build(
            key="0" * 16,
            role=wire.BuildRole.JUDGE,
            files={**support, **files},
            steps=spec.steps,
            outputs=outputs,
            limits=wire.BuildLimits(limits.time_s, limits.cpu_s, limits.memory_mb, limits.output_bytes),
            env=spec.env,
        )
        data = json.dumps([runtime.name, "judge", wire.dump(req)], sort_keys=True).encode("utf-8", "surrogatepass")
        return wire.Build(**{**req.__dict__, "key": hashlib.sha256(data).hexdigest()[:40]})

    # -- before the job has its sandbox -----------------------------------------
    async def prepare(self, judge: JudgeSpec, language: str, field: str, lease: Lease, give_back: GiveBack) -> Where:
        """Build a judge that cannot be built beside the program, in its own runtime's sandbox."""
        where = self.where(judge, language, field)
        if where.local or where.build.key in self._artifacts:
            return where
        lock = self._locks.setdefault(where.build.key, asyncio.Lock())
        async with lock:
            if where.build.key not in self._artifacts:
                sandbox = await lease(where.runtime)
                ok = False
                try:
                    await self._build_in(sandbox, where, field)
                    artifact = await sandbox.fetch(wire.Fetch(where.build.key), self.margin_s + 30)
                    ok = True
                finally:
                    give_back(where.runtime, sandbox, ok)
                self._keep(where.build.key, artifact)
        return where

    async def _build_in(self, sandbox: Sandbox, where: Where, field: str) -> None:
        compile_s = self.specs[where.runtime].compile.time_s
        facts = await sandbox.build(where.build, compile_s + 2 * self.margin_s + 5)
        if not facts.ok:
            tail = facts.output.strip()[-JUDGE_MESSAGE_CHARS:]
            raise JudgeRefused(field, f"the {where.runtime} judge does not build ({facts.failure.value}): {tail}")

    def _keep(self, key: str, artifact: wire.Artifact) -> None:
        self._artifacts[key] = artifact
        self._artifact_bytes += sum(len(d) for d in artifact.files.values())
        while self._artifact_bytes > ARTIFACTS_MAX_BYTES and len(self._artifacts) > 1:
            _, old = self._artifacts.popitem(last=False)
            self._artifact_bytes -= sum(len(d) for d in old.files.values())

    # -- in the job's sandbox ----------------------------------------------------
    async def install(self, sandbox: Sandbox, where: Where, field: str) -> wire.Launch:
        """The judge ready in ``sandbox``: built there, or installed from what was built elsewhere."""
        if where.local:
            await self._build_in(sandbox, where, field)
        else:
            artifact = self._artifacts.get(where.build.key)
            if artifact is None:
                raise SandboxFault(f"the {field} judge's build was dropped before it was installed")
            self._artifacts.move_to_end(where.build.key)
            await sandbox.install(wire.Install(where.build.key, wire.BuildRole.JUDGE, artifact), self.margin_s + 30)
        return wire.Launch(build=where.build.key, argv=list(where.run), env=dict(where.run_env), script=where.script)

    async def validate(
        self,
        sandbox: Sandbox,
        checker: JudgeSpec,
        launch: wire.Launch,
        tests: Sequence[TestCase],
        limits: wire.TestLimits,
    ) -> None:
        """The checker must accept every test's expected answer as the output (JudgeRefused if not)."""
        memo = _memo(checker, tests)
        if memo in self._validated:
            self._validated.move_to_end(memo)
            if self._validated[memo]:
                raise JudgeRefused("checker", self._validated[memo])
            return
        why = ""
        for i, test in enumerate(tests):
            answer = _answer(test)
            if answer is None:
                continue
            stdin, expected = answer
            call = wire.JudgeCall(launch, limits, stdin, expected)
            facts = await sandbox.judge(wire.JudgeRun(call, expected), limits.wall_s + self.margin_s)
            said = judge_verdicts.read(facts, checker.points_max)
            if said.verdict is not Verdict.ACCEPTED:
                what = "fails" if said.failed else "rejects"
                why = f"the checker {what} tests[{i}]'s own expected answer: {said.message[:JUDGE_MESSAGE_CHARS]}"
                break
        self._validated[memo] = why
        while len(self._validated) > VALIDATED_MAX:
            self._validated.popitem(last=False)
        if why:
            raise JudgeRefused("checker", why)


def _answer(test: TestCase) -> tuple[bytes, bytes] | None:
    spec = test.spec
    if isinstance(spec, StdioSpec):
        return spec.stdin, spec.expected_stdout
    if isinstance(spec, InteractiveSpec):
        return spec.input, spec.answer
    return None


def _memo(checker: JudgeSpec, tests: Sequence[TestCase]) -> str:
    h = hashlib.sha256(checker.digest.encode())
    for test in tests:
        answer = _answer(test)
        if answer is not None:
            for part in answer:
                h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()
