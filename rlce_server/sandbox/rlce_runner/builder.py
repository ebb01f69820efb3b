"""Builds of compiled runtimes: steps run one after another, outputs stored.

Each step is its own process (an ``exec`` from the zygote) under the build's
uid, in the build's private directory, with the compile limits; the whole
build shares one wall-clock deadline. Facts come back, never verdicts: the
host decides what a failed step means (COMPILE_ERROR, or INVALID_REQUEST for
a test-side step that refuses the caller's test).
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from . import artifacts, spawn
from .build_server import BuildServer, BuildServers, StepFacts, step_limits
from .cleanup import Cleaner, sandbox_processes
from .pipes import Pipes
from .protocol import REPORT_MAX_BYTES, Build, BuildFacts, BuildFailure, BuildRole, Outcome
from .settings import KILL_WAIT_S, WORK_DIR, SandboxSettings
from .zygote_client import SandboxBroken, ZygoteClient


class Builder:
    def __init__(
        self,
        zygote: ZygoteClient,
        settings: SandboxSettings,
        cleaner: Cleaner,
        store: artifacts.ArtifactStore,
        servers: BuildServers,
    ) -> None:
        self.zygote = zygote
        self.settings = settings
        self.cleaner = cleaner
        self.store = store
        self.servers = servers

    def uid_of(self, role: BuildRole) -> int:
        return {
            BuildRole.PROGRAM: self.settings.candidate_uid,
            BuildRole.TEST: self.settings.test_uid,
            BuildRole.JUDGE: self.settings.judge_uid,
        }[role]

    def build(self, req: Build) -> BuildFacts:
        """Run a build's steps unless its outputs are stored; facts, not verdicts."""
        key = artifacts.check_key(req.key)
        if self.store.has(key):
            return BuildFacts(ok=True, cached=True, report=self._cached_report(key, req.report))
        server = self.servers.for_build(req)
        uid = server.uid if server is not None else self.uid_of(req.role)
        limits: dict[str, Any] = {**step_limits(self.settings, req), "cpu_s": req.limits.cpu_s}
        cap = req.limits.output_bytes
        try:
            build_dir = artifacts.make_private_dir(WORK_DIR, uid)
        except OSError as exc:  # the program filled the scratch space earlier in this job
            return BuildFacts(ok=False, output=f"no room to build: {exc.strerror}", failure=BuildFailure.OUTPUT)
        output = bytearray()
        wall = cpu = 0.0
        try:
            try:
                artifacts.write_inputs(build_dir, req.files, uid)
            except OSError as exc:
                return BuildFacts(ok=False, output=f"no room to build: {exc.strerror}", failure=BuildFailure.OUTPUT)
            env = {k: artifacts.expand([v], dir=build_dir)[0] for k, v in req.env.items()}
            deadline = time.monotonic() + req.limits.time_s
            for argv in req.steps:
                expanded = artifacts.expand(argv, dir=build_dir, run_uid=str(self.uid_of(req.role)))
                if server is not None:
                    step = self._served(server, expanded, build_dir, deadline, req.limits.cpu_s, cap)
                else:
                    step = self._step(expanded, env, build_dir, uid, limits, deadline, cap)
                output += step.output
                wall += step.wall_s
                cpu += step.cpu_s
                if step.failure is not BuildFailure.NONE:
                    return BuildFacts(
                        ok=False,
                        output=bytes(output[-cap:]).decode("utf-8", "replace"),
                        failure=step.failure,
                        exit_code=step.exit_code,
                        signal=step.signal,
                        wall_s=wall,
                        cpu_s=cpu,
                    )
            report = ""
            if req.report:
                found = artifacts.read_report(build_dir, req.report, uid, REPORT_MAX_BYTES)
                if found is None:
                    return BuildFacts(
                        ok=False,
                        output=f"the build made no report {req.report} of at most {REPORT_MAX_BYTES} bytes",
                        failure=BuildFailure.OUTPUT,
                        wall_s=wall,
                        cpu_s=cpu,
                    )
                report = found
            try:
                self.store.store(key, build_dir, list(req.outputs), uid)
            except (artifacts.MissingOutput, artifacts.NoRoom) as exc:
                return BuildFacts(ok=False, output=str(exc), failure=BuildFailure.OUTPUT, wall_s=wall, cpu_s=cpu)
            if req.report:
                self._keep_report(key, report)
        finally:
            self.cleaner.stop_uids()
            artifacts.remove_tree_as(build_dir, uid)
        return BuildFacts(
            ok=True, output=bytes(output[-cap:]).decode("utf-8", "replace"), wall_s=wall, cpu_s=cpu, report=report
        )

    def _keep_report(self, key: str, report: str) -> None:
        """Beside the stored outputs, so that a cached build still answers with its report."""
        path = os.path.join(self.store.path(key), ".report")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        try:
            os.write(fd, report.encode("utf-8", "replace"))
        finally:
            os.close(fd)

    def _cached_report(self, key: str, name: str) -> str:
        if not name:
            return ""
        try:
            with open(os.path.join(self.store.path(key), ".report"), encoding="utf-8") as fh:
                return fh.read(REPORT_MAX_BYTES)
        except OSError:
            return ""

    def _served(
        self, server: BuildServer, argv: list[str], build_dir: str, deadline: float, cpu_s: float, cap: int
    ) -> StepFacts:
        """One step by the build server, checked to have made nothing but its build directory's
        files: no entry in a scratch mount, no SysV IPC object, no process of its uid but itself."""
        before = self.cleaner.scratch_state()
        done = server.build(build_dir, argv, deadline, cpu_s)
        if done is None:
            raise SandboxBroken(f"the build server {server.argv[:1]} does not start")
        if self.cleaner.scratch_state() != before:
            server.stop()
            raise SandboxBroken("the build server made something outside its build directory")
        others = [pid for _, pid, _ in sandbox_processes((server.uid,)) if pid != server.pid]
        if others:
            server.stop()
            raise SandboxBroken(f"the build server left processes: {others}")
        return dataclasses.replace(done, output=done.output[-(cap + 1) :])

    def _step(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        uid: int,
        limits: dict[str, Any],
        deadline: float,
        cap: int,
    ) -> StepFacts:
        """One build step as its own process."""
        pipes = Pipes()
        try:
            fds = [
                pipes.to_child(b""),
                pipes.from_child("stdout", cap),
                pipes.from_child("stderr", cap),
                pipes.to_child(spawn.encode(argv, env)),
                pipes.from_child("ready", 16),
            ]
            started = time.monotonic()
            try:
                pid_id = self.zygote.spawn("exec", uid, fds, cwd=cwd, limits=limits)
            finally:
                pipes.close_child_ends()
            outcome = pipes.pump(self.zygote, deadline, lambda: pid_id in self.zygote.exited, set())
            wall = time.monotonic() - started
            self.cleaner.stop_uids()
            rec = self.zygote.wait(pid_id, KILL_WAIT_S)
            pipes.drain()
            streams = pipes.streams
            if not streams["ready"].data:
                raise SandboxBroken(f"a build step failed during set-up: {streams['stderr'].bytes[-500:]!r}")
            status = rec["status"]
            failure, code, sig = BuildFailure.NONE, 0, 0
            if outcome is Outcome.TIMEOUT:
                failure = BuildFailure.TIME
            elif os.WIFSIGNALED(status):
                failure, sig = BuildFailure.KILLED, os.WTERMSIG(status)
            elif os.WEXITSTATUS(status) != 0:
                failure, code = BuildFailure.EXIT, os.WEXITSTATUS(status)
            output = streams["stdout"].bytes + streams["stderr"].bytes
            return StepFacts(failure, code, output, wall, float(rec["cpu_s"]), sig)
        finally:
            pipes.close()
