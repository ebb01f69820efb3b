"""Compile once per request, for runtimes whose executor is ``exec``.

A request's stdio tests share one build of the program; each assertion test
is its own build (the program with that test and the runtime's harness),
since the test is compiled with it. Identical builds within a request are
made once, and the sandbox keeps built outputs by content key across
requests (``rlce_runner.builds``), so the same program and test are never
rebuilt on that sandbox. The key is a digest of everything that goes into
the build, computed here so the sandbox never decides what is "the same".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..domain import AssertSpec, Job, StdioSpec, TestOutcome, Verdict
from ..errors import SandboxFault
from ..runtimes import RuntimeSpec
from ..runtimes.registry import BuildSpec
from ..sandbox.backend import Sandbox

SHOWN_COMPILER_OUTPUT = 4096


def kind_of(spec: object) -> str:
    if isinstance(spec, StdioSpec):
        return "stdio"
    if isinstance(spec, AssertSpec):
        return "assertion"
    return "call"


class Builds:
    """The builds of one job on one sandbox."""

    def __init__(self, spec: RuntimeSpec | None, job: Job) -> None:
        self.spec = spec if spec is not None and spec.executor == "exec" else None
        self.job = job
        self.results: dict[str, dict[str, Any]] = {}
        self._plans: dict[tuple[str, str], tuple[str, BuildSpec, dict[str, Any]]] = {}
        self.built_s = 0.0
        self.output = ""

    def _plan(self, index: int) -> tuple[str, BuildSpec, dict[str, Any]]:
        """Test ``index``'s build: key, spec and runner message. Digested once per
        distinct build (all stdio tests of a request share one), not per call."""
        test = self.job.tests[index].spec
        which = (kind_of(test), test.code if isinstance(test, AssertSpec) else "")
        if which not in self._plans:
            self._plans[which] = self._make_plan(*which)
        return self._plans[which]

    def _make_plan(self, kind: str, code: str) -> tuple[str, BuildSpec, dict[str, Any]]:
        assert self.spec is not None
        bspec = self.spec.build[kind]
        files: dict[str, Any] = {}
        for name, source in bspec.files.items():
            if source == "program":
                files[name] = self.job.program
            elif source == "test":
                files[name] = code
            else:
                files[name] = source
        msg = {
            "op": "build",
            "files": files,
            "steps": bspec.steps,
            "outputs": bspec.outputs,
            "env": bspec.env,
            "limits": self.spec.compile.model_dump(),
        }
        digest = hashlib.sha256(json.dumps([self.spec.name, msg], sort_keys=True).encode()).hexdigest()[:40]
        msg["key"] = digest
        return digest, bspec, msg

    async def ensure(self, sandbox: Sandbox, index: int, margin_s: float) -> TestOutcome | None:
        """Build what test ``index`` needs unless built; a COMPILE_ERROR outcome if it fails."""
        assert self.spec is not None
        key, _, msg = self._plan(index)
        if key not in self.results:
            result = await sandbox.run(msg, self.spec.compile.time_s + 2 * margin_s + 5)
            if "ok" not in result:
                raise SandboxFault(f"the runner's build reply has no verdict: {result}")
            self.results[key] = result
            if not result.get("cached"):
                self.built_s += float(result.get("wall_s", 0.0))
            out = str(result.get("output", ""))
            if out and (not result["ok"] or not self.output):
                self.output = out[-SHOWN_COMPILER_OUTPUT:]
        result = self.results[key]
        if result["ok"]:
            return None
        reason = result.get("reason", "")
        limit = self.spec.compile
        why = {
            "time": f"compile time limit {limit.time_s}s exceeded",
            "signal 9": f"the compiler was killed (memory limit {limit.memory_mb} MB?)",
        }.get(reason, "the program does not compile")
        return TestOutcome(
            name=self.job.tests[index].name,
            verdict=Verdict.COMPILE_ERROR,
            message=f"{why}:\n{self.output}".strip()[-SHOWN_COMPILER_OUTPUT:],
        )

    def run_message(self, index: int, msg: dict[str, Any]) -> dict[str, Any]:
        """The runner message for test ``index``, run from its build's outputs."""
        key, bspec, _ = self._plan(index)
        out = {k: v for k, v in msg.items() if k not in ("program", "code", "mode")}
        memory_mb = int(msg["limits"]["memory_mb"])
        # a VM reserves address space it never touches: the heap flag holds its memory instead
        out["limits"] = {**msg["limits"], "address_space_mb": memory_mb + bspec.address_space_extra_mb}
        argv = [a.replace("{memory_mb}", str(memory_mb)) for a in bspec.run]
        env = {k: v.replace("{memory_mb}", str(memory_mb)) for k, v in bspec.run_env.items()}
        out.update(mode="exec", build=key, argv=argv, env=env, record=bspec.record)
        return out

    def annotate(self, index: int, raw: dict[str, Any]) -> dict[str, Any]:
        """Add what the grader needs to know of this runtime's harness."""
        if self.spec is None or kind_of(self.job.tests[index].spec) != "assertion":
            return raw
        _, bspec, _ = self._plan(index)
        raw["exec_assert"] = {
            "record_ok": bool(raw.get("record_ok")),
            "assert_failed": (raw.get("signal", 0) in bspec.assert_signals)
            or (not raw.get("signal") and raw.get("exit_code") in bspec.assert_exit_codes),
        }
        return raw
