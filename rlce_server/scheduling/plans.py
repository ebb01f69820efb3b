"""From a job's tests to the runner's requests: one plan per executor kind.

A runtime's ``executor`` (runtime.toml) picks the plan, explicitly:

* ``python-fork``: nothing to build; stdio tests are ScriptRuns, call and
  assertion tests ValueRuns (program server + test driver).
* ``exec`` (compiled): builds first, once per request and distinct build --
  every stdio test shares the program's build; an assertion test is either
  one in-process build (the program linked with its test and a harness that
  hands back a nonce) or a *split* pair, the program's build and the test's
  build (docs/SPLIT_TESTS.md). The sandbox keeps outputs by content key
  across requests, so the same program or test is never rebuilt there. The
  key is a digest of everything that goes into a build, computed here, so
  the sandbox never decides what is "the same".

A build that fails is the candidate's COMPILE_ERROR, except a test-side
step that refuses the caller's test (exit 113: a signature the value channel
cannot carry; 114: a test with no test in it), which is the caller's
INVALID_REQUEST. Where the test's build takes its signatures from the
program's report (Go, Rust), an uncarriable signature is the program's
choice, so exit 113 there is the program's COMPILE_ERROR: a candidate never
turns its failure into the caller's. A reply that makes no sense is ours
(SandboxFault).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from ..domain import AssertSpec, CallSpec, InteractiveSpec, Job, JudgeSpec, StdioSpec, TestKind, TestOutcome, Verdict
from ..errors import SandboxFault
from ..graders import BadTest, Conventions
from ..runtimes import RuntimeSpec
from ..runtimes.registry import BuildSpec, SplitBuildSpec
from ..sandbox.backend import Sandbox
from ..sandbox.rlce_runner import protocol as wire

SHOWN_COMPILER_OUTPUT = 4096
# Exit codes of a test-side build step that refuses the caller's test (docs/SPLIT_TESTS.md).
UNCARRIABLE = 113
TEST_REFUSED_EXITS = {
    UNCARRIABLE: "a function the test calls has a signature rlce cannot carry",
    114: "the test has no test",
}


@dataclass
class JudgeLaunches:
    """The job's judges, ready in its sandbox (set by the scorer once installed)."""

    checker: wire.Launch | None = None
    interactor: wire.Launch | None = None

    def call(self, which: str, judge: JudgeSpec | None, stdin: bytes, answer: bytes, job: Job) -> wire.JudgeCall | None:
        launch = self.checker if which == "checker" else self.interactor
        if judge is None or launch is None:
            return None
        limits = wire.TestLimits(
            wall_s=judge.limits.wall_time_limit_s,
            cpu_s=judge.limits.time_limit_s,
            memory_mb=judge.limits.memory_limit_mb,
            output_bytes=job.limits.output_limit_bytes,  # the log a checker reads is capped as output is
        )
        return wire.JudgeCall(launch, limits, stdin, answer)


def judge_calls(job: Job, index: int, judges: JudgeLaunches) -> tuple[wire.JudgeCall | None, wire.JudgeCall | None]:
    """(checker, interactor) calls for test ``index``."""
    spec = job.tests[index].spec
    if isinstance(spec, StdioSpec):
        return judges.call("checker", job.checker, spec.stdin, spec.expected_stdout, job), None
    if isinstance(spec, InteractiveSpec):
        return (
            judges.call("checker", job.checker, spec.input, spec.answer, job),
            judges.call("interactor", job.interactor, spec.input, spec.answer, job),
        )
    return None, None


def test_limits(job: Job, wall_s: float, extra_mb: int = 0) -> wire.TestLimits:
    return wire.TestLimits(
        wall_s=wall_s,
        cpu_s=job.limits.time_limit_s,
        memory_mb=job.limits.memory_limit_mb,
        output_bytes=job.limits.output_limit_bytes,
        address_space_extra_mb=extra_mb,
    )


Prepared = TestOutcome | BadTest | None  # None: ready to run


class JobPlan(Protocol):
    built_s: float  # seconds spent building (not taken from the cache)
    compile_output: str  # the compiler's output worth showing
    judges: JudgeLaunches

    async def prepare(self, sandbox: Sandbox, index: int, margin_s: float) -> Prepared:
        """Build what test ``index`` needs; a COMPILE_ERROR outcome or BadTest if that fails."""
        ...

    def request(self, index: int, wall_s: float) -> wire.RunRequest: ...

    def batchable(self, index: int) -> bool:
        """Whether test ``index`` runs as one stdio process that may share a RunBatch."""
        ...

    def stdin_bytes(self, index: int) -> int: ...

    def conventions(self, index: int) -> Conventions:
        """How this test's harness reports a failed assertion (compiled runtimes)."""
        ...


def _batchable(job: Job, index: int) -> bool:
    return isinstance(job.tests[index].spec, StdioSpec)


def _stdin_bytes(job: Job, index: int) -> int:
    spec = job.tests[index].spec
    return len(spec.stdin) if isinstance(spec, StdioSpec) else 0


class PythonPlan:
    """Python: the zygote forks the program; nothing is built."""

    built_s = 0.0
    compile_output = ""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.judges = JudgeLaunches()

    async def prepare(self, sandbox: Sandbox, index: int, margin_s: float) -> Prepared:
        return None

    def request(self, index: int, wall_s: float) -> wire.RunRequest:
        spec = self.job.tests[index].spec
        limits = test_limits(self.job, wall_s)
        checker, interactor = judge_calls(self.job, index, self.judges)
        if isinstance(spec, StdioSpec):
            return wire.ScriptRun(program=self.job.program, stdin=spec.stdin, limits=limits, checker=checker)
        if isinstance(spec, InteractiveSpec):
            if interactor is None:
                raise SandboxFault("an interactive test reached the runner without its interactor")
            return wire.InteractiveRun(interactor, limits, program=self.job.program, checker=checker)
        if isinstance(spec, CallSpec):
            return wire.ValueRun(
                program=self.job.program,
                mode=wire.ValueMode.CALL,
                limits=limits,
                entry_point=spec.entry_point,
                args_json=spec.args_json,
            )
        assert isinstance(spec, AssertSpec)
        return wire.ValueRun(program=self.job.program, mode=wire.ValueMode.ASSERTION, limits=limits, code=spec.code)

    def batchable(self, index: int) -> bool:
        return _batchable(self.job, index)

    def stdin_bytes(self, index: int) -> int:
        return _stdin_bytes(self.job, index)

    def conventions(self, index: int) -> Conventions:
        return Conventions()


@dataclass
class _Built:
    key: str
    spec: BuildSpec
    facts: wire.BuildFacts


class CompiledPlan:
    """A compiled runtime: builds by content key, then exec'd (stdio) or split (assertion) runs."""

    def __init__(self, runtime: RuntimeSpec, job: Job) -> None:
        self.runtime = runtime
        self.job = job
        self.built: dict[tuple[TestKind, str, str], _Built] = {}  # (kind, which build, test code) -> its build
        self.built_s = 0.0
        self.compile_output = ""
        self.judges = JudgeLaunches()

    # -- builds --------------------------------------------------------------
    def _code(self, index: int) -> str:
        spec = self.job.tests[index].spec
        return spec.code if isinstance(spec, AssertSpec) else ""

    def _kind(self, index: int) -> TestKind:
        return self.job.tests[index].spec.kind

    def _source(self, value: str | dict[str, str], code: str, reports: dict[str, str]) -> wire.FileSource:
        if isinstance(value, dict):
            return wire.FileSource(runtime_file=value["runtime"])
        if value == "program":
            return wire.FileSource(text=self.job.program)
        if value == "test":
            return wire.FileSource(text=code)
        if value == "test_digest":
            return wire.FileSource(text=test_digest(code))
        return wire.FileSource(text=reports[value.removeprefix("report:")])

    def _build_request(self, spec: BuildSpec, role: wire.BuildRole, code: str, reports: dict[str, str]) -> wire.Build:
        limits = self.runtime.compile
        files = {name: self._source(value, code, reports) for name, value in spec.files.items()}
        req = wire.Build(
            key="0" * 16,
            role=role,
            files=files,
            steps=spec.steps,
            outputs=spec.outputs,
            limits=wire.BuildLimits(limits.time_s, limits.cpu_s, limits.memory_mb, limits.output_bytes),
            env=spec.env,
            report=spec.report,
            server=spec.server,
        )
        data = json.dumps([self.runtime.name, wire.dump(req)], sort_keys=True).encode("utf-8", "surrogatepass")
        return wire.Build(**{**req.__dict__, "key": hashlib.sha256(data).hexdigest()[:40]})

    async def _build(
        self,
        sandbox: Sandbox,
        kind: TestKind,
        which: str,
        spec: BuildSpec,
        role: wire.BuildRole,
        code: str,
        reports: dict[str, str],
        margin_s: float,
    ) -> _Built:
        memo = (kind, which, code)
        if memo not in self.built:
            req = self._build_request(spec, role, code, reports)
            facts = await sandbox.build(req, self.runtime.compile.time_s + 2 * margin_s + 5)
            if not facts.cached:
                self.built_s += facts.wall_s
            if facts.output and (not facts.ok or not self.compile_output):
                self.compile_output = facts.output[-SHOWN_COMPILER_OUTPUT:]
            self.built[memo] = _Built(req.key, spec, facts)
        return self.built[memo]

    def _failed(self, index: int, built: _Built, role: wire.BuildRole) -> TestOutcome | BadTest:
        facts = built.facts
        if role is wire.BuildRole.TEST and facts.failure is wire.BuildFailure.EXIT:
            why = TEST_REFUSED_EXITS.get(facts.exit_code)
            from_program = "report:program" in built.spec.files.values()
            if facts.exit_code == UNCARRIABLE and from_program:
                last = next((line for line in reversed(facts.output.splitlines()) if line.strip()), "")
                return TestOutcome(
                    name=self.job.tests[index].name,
                    verdict=Verdict.COMPILE_ERROR,
                    message=f"the program's function has a type the test cannot be given: {last.strip()[:500]}",
                )
            if why is not None:
                last = next((line for line in reversed(facts.output.splitlines()) if line.strip()), "")
                return BadTest(f"{why}: {last.strip()[:500]}" if last else why)
        limit = self.runtime.compile
        why = {
            wire.BuildFailure.TIME: f"compile time limit {limit.time_s}s exceeded",
            wire.BuildFailure.KILLED: f"the compiler was killed (memory limit {limit.memory_mb} MB?)",
        }.get(facts.failure, "the program does not compile")
        return TestOutcome(
            name=self.job.tests[index].name,
            verdict=Verdict.COMPILE_ERROR,
            message=f"{why}:\n{self.compile_output}".strip()[-SHOWN_COMPILER_OUTPUT:],
        )

    def _plan(self, index: int) -> BuildSpec | SplitBuildSpec:
        kind = self._kind(index).value
        if kind == TestKind.INTERACTIVE.value:
            kind = TestKind.STDIO.value  # the program runs as a stdio program, the interactor its stdin and stdout
        if kind not in self.runtime.build:
            raise SandboxFault(f"runtime {self.runtime.name} has no build for {kind} tests")
        return self.runtime.build[kind]

    async def prepare(self, sandbox: Sandbox, index: int, margin_s: float) -> Prepared:
        plan = self._plan(index)
        code, kind = self._code(index), self._kind(index)
        if isinstance(plan, BuildSpec):
            built = await self._build(sandbox, kind, "single", plan, wire.BuildRole.PROGRAM, code, {}, margin_s)
            return None if built.facts.ok else self._failed(index, built, wire.BuildRole.PROGRAM)
        reports: dict[str, str] = {}
        for which in plan.order:
            role = wire.BuildRole(which)
            spec = plan.program if which == "program" else plan.test
            built = await self._build(sandbox, kind, which, spec, role, code, reports, margin_s)
            if not built.facts.ok:
                return self._failed(index, built, role)
            reports[which] = built.facts.report
        return None

    # -- runs ----------------------------------------------------------------
    def _launch(self, built: _Built) -> wire.Launch:
        memory_mb = str(self.job.limits.memory_limit_mb)
        return wire.Launch(
            build=built.key,
            argv=[a.replace("{memory_mb}", memory_mb) for a in built.spec.run],
            env={k: v.replace("{memory_mb}", memory_mb) for k, v in built.spec.run_env.items()},
        )

    def request(self, index: int, wall_s: float) -> wire.RunRequest:
        code, kind = self._code(index), self._kind(index)
        plan = self._plan(index)
        stdin = spec.stdin if isinstance(spec := self.job.tests[index].spec, StdioSpec) else b""
        if isinstance(plan, BuildSpec):
            built = self.built[(kind, "single", code)]
            limits = test_limits(self.job, wall_s, plan.address_space_extra_mb)
            checker, interactor = judge_calls(self.job, index, self.judges)
            if interactor is not None:
                return wire.InteractiveRun(interactor, limits, launch=self._launch(built), checker=checker)
            return wire.ExecRun(
                program=self._launch(built), stdin=stdin, limits=limits, record=plan.record, checker=checker
            )
        program, test = self.built[(kind, "program", code)], self.built[(kind, "test", code)]
        extra = max(plan.program.address_space_extra_mb, plan.test.address_space_extra_mb)
        return wire.SplitRun(
            program=self._launch(program),
            test=self._launch(test),
            test_digest=test_digest(code),
            limits=test_limits(self.job, wall_s, extra),
        )

    def batchable(self, index: int) -> bool:
        return _batchable(self.job, index)

    def stdin_bytes(self, index: int) -> int:
        return _stdin_bytes(self.job, index)

    def conventions(self, index: int) -> Conventions:
        plan = self._plan(index)
        spec = plan if isinstance(plan, BuildSpec) else plan.test
        return Conventions(
            frozenset(spec.assert_exit_codes),
            frozenset(spec.assert_signals),
            signatures_from_program="report:program" in spec.files.values(),
        )


def test_digest(code: str) -> str:
    """SHA-256 of a test's code: what a compiled test's harness hands back with the nonce."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def plan_for(runtime: RuntimeSpec, job: Job) -> JobPlan:
    """The plan of the runtime's executor kind."""
    if runtime.executor == "python-fork":
        return PythonPlan(job)
    return CompiledPlan(runtime, job)
