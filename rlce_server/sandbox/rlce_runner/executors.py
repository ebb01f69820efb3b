"""How one test runs, one class per kind (as DMOJ's executors are).

Every executor takes its request (``protocol.*Run``) and returns RunFacts:
raw facts, never a verdict. They share the machinery in :class:`Parts` --
the zygote, the pipes and their pump, clean-up, the artifact store -- and
differ only in which processes they start and when a test is over:

* ScriptExecutor  Python stdio: the program forked from the zygote as a script
* ExecExecutor    compiled stdio: the program's artifact exec'd
* ValueExecutor   Python call/assertion: program server + test driver over the value channel
* SplitExecutor   compiled assertion: program artifact + test artifact over the value channel

A new kind (interactive, session) is a new class here and a new message in
``protocol``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import artifacts, spawn, workfiles
from .accounting import Counters, Meter
from .cleanup import Cleaner, oom_kills
from .driver_process import DriverProcess
from .pipes import Pipes
from .protocol import (
    RECORD_CAP_BYTES,
    RECORD_NONCE_BYTES,
    TEST_DIGEST_CHARS,
    DriverRecord,
    DriverStatus,
    ExecRun,
    InteractiveRun,
    JudgeCall,
    JudgeFacts,
    Launch,
    Outcome,
    ProtocolError,
    RunFacts,
    ScriptRun,
    SplitRun,
    TestLimits,
    ValueRun,
    load,
)
from .settings import (
    DRIVER_MEMORY_BYTES,
    DRIVER_SETTLE_S,
    JUDGE_DIR,
    KILL_WAIT_S,
    MESSAGE_KEEP_BYTES,
    PROGRAM_EXIT_GRACE_S,
    TEST_FILE_SIZE_BYTES,
    WORK_DIR,
    SandboxSettings,
)
from .zygote_client import SandboxBroken, ZygoteClient


@dataclass
class Parts:
    """What every executor works with: one sandbox's machinery."""

    zygote: ZygoteClient
    settings: SandboxSettings
    cleaner: Cleaner
    store: artifacts.ArtifactStore
    driver: DriverProcess
    counters: Counters
    judges: Judges = field(init=False)

    def __post_init__(self) -> None:
        self.judges = Judges(self)

    def proc_limits(self, limits: TestLimits) -> dict[str, Any]:
        """A test program's per-process backstops as the zygote applies them (the
        limits themselves are over all its processes: see ``meter``)."""
        return {
            "nproc": self.settings.nproc,
            "cpu_s": limits.cpu_s,
            "address_space_bytes": (limits.memory_mb + limits.address_space_extra_mb) << 20,
            "file_size_bytes": TEST_FILE_SIZE_BYTES,
        }

    def meter(self) -> Meter:
        """A new test's meter; the zygote's count of denied calls starts again with it."""
        self.zygote.denied.clear()
        return Meter(self.counters)

    @staticmethod
    def watch(meter: Meter, limits: TestLimits) -> Callable[[], Outcome | None]:
        """The limits over all the program's processes, checked while it runs."""

        def over() -> Outcome | None:
            meter.sample()
            if meter.cpu_s > limits.cpu_s:
                return Outcome.CPU_LIMIT
            if meter.memory > limits.memory_mb << 20:
                return Outcome.MEMORY_LIMIT
            return None

        return over

    def pump(
        self, pipes: Pipes, started: float, limits: TestLimits, meter: Meter, finished: Callable[[], bool]
    ) -> Outcome:
        """Run the test's pipes until it is finished or hits a limit (output: the program's streams)."""
        watch = self.watch(meter, limits)
        return pipes.pump(self.zygote, started + limits.wall_s, finished, {"stdout", "stderr"}, watch)

    def facts(
        self,
        pipes: Pipes,
        program: dict[str, Any],
        meter: Meter,
        outcome: Outcome,
        wall: float,
        limits: TestLimits,
        oom_before: int,
        stdout_stream: str | None = "stdout",
        **more: Any,
    ) -> RunFacts:
        """The facts every executor reports: how the program ended, what it used, the limits it hit."""
        return RunFacts(
            outcome=outcome,
            wall_s=min(wall, limits.wall_s) if outcome is Outcome.TIMEOUT else wall,
            program=pipes.process_facts(program["status"], program, stdout_stream, "stderr"),
            cpu_s=meter.cpu_s,
            peak_memory_kb=max(meter.peak >> 10, int(program["maxrss_kb"])),
            oom_killed=oom_kills() > oom_before,
            denied_syscalls=dict(self.zygote.denied),
            **more,
        )

    @staticmethod
    def settle(meter: Meter, outcome: Outcome, limits: TestLimits) -> Outcome:
        """The final reading decides too: a program that ended by itself past a limit hit it."""
        meter.sample()
        if outcome is Outcome.EXITED and meter.cpu_s > limits.cpu_s:
            return Outcome.CPU_LIMIT
        if outcome is Outcome.EXITED and meter.peak > limits.memory_mb << 20:
            return Outcome.MEMORY_LIMIT
        return outcome

    def exec_payload(self, launch: Launch, uid: int, args: list[str] | None = None) -> bytes:
        """The exec'd process's argv (and ``args`` after it) and env, ``{build}`` being the
        artifact as staged for this job and uid."""
        place = self.store.stage(launch.build, uid)
        argv = artifacts.expand(launch.argv, build=place) + (args or [])
        env = {k: artifacts.expand([v], build=place)[0] for k, v in launch.env.items()}
        return spawn.encode(argv, env)


class Executor(Protocol):
    def run(self, request: Any) -> RunFacts: ...


def _program_fds(pipes: Pipes, stdin: bytes, payload: bytes, out_cap: int) -> list[int]:
    """The five descriptors every sandboxed process starts with (see zygote.child_main)."""
    return [
        pipes.to_child(stdin),
        pipes.from_child("stdout", out_cap),
        pipes.from_child("stderr", out_cap),
        pipes.to_child(payload),
        pipes.from_child("ready", 16),
    ]


class _SingleProcess:
    """A test that is one program process reading stdin (script or exec)."""

    role = ""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def _run(
        self,
        payload: bytes,
        stdin: bytes,
        limits: TestLimits,
        record: bool = False,
        checker: JudgeCall | None = None,
        files: dict[str, bytes] | None = None,
        fetch: list[str] | None = None,
        fetch_max_bytes: int = 0,
    ) -> RunFacts:
        p = self.parts
        pipes = Pipes()
        oom_before = oom_kills()
        nonce = b""
        meter = p.meter()
        uid = p.settings.candidate_uid
        cwd, file_errors = WORK_DIR, []
        if files or fetch:
            # a directory of its own (removed with the job), so that fetch reads only what this run wrote
            cwd = artifacts.make_private_dir(WORK_DIR, uid, ".run-")
            file_errors = workfiles.write_files(cwd, files or {}, uid)
        try:
            fds = _program_fds(pipes, stdin, payload, limits.output_bytes)
            if record:
                # An in-process harness reads this nonce (fd 3) before any program
                # code runs and writes it back (fd 4) only after the test's main
                # returned; the pipes are the candidate's own (a JVM reaches them
                # as /proc/self/fd/N only).
                nonce = secrets.token_hex(RECORD_NONCE_BYTES // 2).encode()
                with artifacts.files_as(p.settings.candidate_uid):
                    fds += [pipes.to_child(nonce), pipes.from_child("record", 256)]
            started = time.monotonic()
            try:
                pid_id = p.zygote.spawn(self.role, uid, fds, cwd=cwd, limits=p.proc_limits(limits))
            finally:
                pipes.close_child_ends()
            outcome = p.pump(pipes, started, limits, meter, lambda: pid_id in p.zygote.exited)
            wall = time.monotonic() - started
            leftover = p.cleaner.stop_uids()
            rec = p.zygote.wait(pid_id, KILL_WAIT_S)
            pipes.drain()
            outcome = p.settle(meter, outcome, limits)
            fetched: dict[str, bytes] = {}
            if fetch:  # every process of the program is dead: the files are as it left them
                fetched, errors = workfiles.read_files(cwd, fetch, uid, fetch_max_bytes)
                file_errors += errors
            judged = None
            if checker is not None and outcome is Outcome.EXITED and os.waitstatus_to_exitcode(rec["status"]) == 0:
                # every process of the program is dead: the checker gets its output as it was
                judged = p.judges.check(checker, pipes.streams["stdout"].bytes)
            return p.facts(
                pipes,
                rec,
                meter,
                outcome,
                wall,
                limits,
                oom_before,
                setup_failed=not pipes.streams["ready"].data,  # positive evidence that set-up finished
                leftover_processes=leftover if outcome is Outcome.EXITED else 0,
                record_ok=pipes.streams["record"].bytes == nonce if record else None,
                judge=judged,
                files=fetched,
                file_errors=file_errors,
            )
        finally:
            pipes.close()


class ScriptExecutor(_SingleProcess):
    """Python stdio: ``python3 main.py``, forked from the warm zygote."""

    role = "script"

    def run(self, request: ScriptRun) -> RunFacts:
        payload = request.program.encode("utf-8", "surrogateescape")
        r = request
        return self._run(
            payload,
            r.stdin,
            r.limits,
            checker=r.checker,
            files=r.files,
            fetch=r.fetch,
            fetch_max_bytes=r.fetch_max_bytes,
        )


class ExecExecutor(_SingleProcess):
    """Compiled stdio: the program's artifact, exec'd."""

    role = "exec"

    def run(self, request: ExecRun) -> RunFacts:
        payload = self.parts.exec_payload(request.program, self.parts.settings.candidate_uid)
        r = request
        return self._run(payload, r.stdin, r.limits, r.record, r.checker, r.files, r.fetch, r.fetch_max_bytes)


def _channel(pipes: Pipes) -> tuple[int, int]:
    """The value channel: one socket end for the program, one for the test side."""
    prog_end, test_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return pipes.adopt(prog_end.detach()), pipes.adopt(test_end.detach())


class ValueExecutor:
    """Python call/assertion tests: the program server (candidate uid) answers
    the long-lived test driver (test uid) over the value channel; the driver's
    record is the only evidence of a pass."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def run(self, request: ValueRun) -> RunFacts:
        p = self.parts
        limits = request.limits
        pipes = Pipes()
        oom_before = oom_kills()
        try:
            payload = request.program.encode("utf-8", "surrogateescape")
            fds = _program_fds(pipes, b"", payload, limits.output_bytes)
            driver_sock = p.driver.control()
            meter = p.meter()
            driver_pid = p.driver.pid()
            if driver_pid is not None:
                meter.trust(driver_pid, single_thread=True)
            started = time.monotonic()
            try:
                chan_prog, chan_test = _channel(pipes)
                prog_id = p.zygote.spawn(
                    "program", p.settings.candidate_uid, fds + [chan_prog], cwd=WORK_DIR, limits=p.proc_limits(limits)
                )
                boot = {
                    "mode": request.mode.value,
                    "entry": request.entry_point,
                    "args": request.args_json,
                    "code": request.code,
                }
                test_fds = [
                    pipes.to_child(json.dumps(boot).encode()),
                    chan_test,
                    pipes.from_child("result", RECORD_CAP_BYTES),
                ]
                try:
                    socket.send_fds(driver_sock, [b"T"], test_fds)
                except OSError as exc:
                    raise SandboxBroken(f"the test driver is gone: {exc}") from None
            finally:
                pipes.close_child_ends()
            result = pipes.streams["result"]

            def finished() -> bool:
                return not result.open  # the driver closed its record

            outcome = p.pump(pipes, started, limits, meter, finished)
            ended = time.monotonic()
            if outcome is Outcome.EXITED:
                # the program server sees the channel close and exits by itself
                p.zygote.wait_quietly(prog_id, PROGRAM_EXIT_GRACE_S)
            p.cleaner.stop_uids()
            rec = p.zygote.wait(prog_id, KILL_WAIT_S)
            outcome = p.settle(meter, outcome, limits)
            # The program is dead, so the driver's next read fails and it writes
            # its record; a driver that does not within a second is replaced.
            if outcome is not Outcome.EXITED:
                settled = pipes.pump(p.zygote, time.monotonic() + DRIVER_SETTLE_S, finished, set())
                if settled is not Outcome.EXITED:
                    p.driver.drop()
            pipes.drain()
            record = self._record(result.bytes)
            if record is None:
                p.driver.drop()  # it died without a record: ours, never the program's doing
            else:
                p.driver.tested(record.retire)
            return p.facts(
                pipes,
                rec,
                meter,
                outcome,
                ended - started,
                limits,
                oom_before,
                # A driver with no record is ours -- unless the program hit a limit first: then its
                # limit is the verdict, whatever kept the driver (parsing what the program sent it,
                # say) past the settle window, and the driver is replaced all the same.
                setup_failed=not pipes.streams["ready"].data or (record is None and outcome is Outcome.EXITED),
                driver=record,
            )
        finally:
            pipes.close()

    @staticmethod
    def _record(raw: bytes) -> DriverRecord | None:
        if not raw:
            return None
        try:
            return load(DriverRecord, json.loads(raw), "driver record")
        except (ValueError, ProtocolError) as exc:
            return DriverRecord(DriverStatus.DRIVER_FAULT, f"malformed driver record: {exc}"[:500])


class SplitExecutor:
    """Compiled assertion tests (docs/SPLIT_TESTS.md): the program's artifact
    (candidate uid) serves calls from the test's artifact (test uid); the
    test's harness hands back nonce + test digest only if the test ran to its end."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def _test_limits(self, limits: TestLimits) -> dict[str, Any]:
        return {
            "nproc": self.parts.settings.nproc,
            "address_space_bytes": DRIVER_MEMORY_BYTES + (limits.address_space_extra_mb << 20),
            "file_size_bytes": TEST_FILE_SIZE_BYTES,
        }

    def run(self, request: SplitRun) -> RunFacts:
        p = self.parts
        limits = request.limits
        pipes = Pipes()
        oom_before = oom_kills()
        nonce = secrets.token_hex(RECORD_NONCE_BYTES // 2).encode()
        if len(request.test_digest) != TEST_DIGEST_CHARS:
            raise ProtocolError("test_digest: expected 64 hex characters")
        try:
            prog_fds = _program_fds(
                pipes, b"", p.exec_payload(request.program, p.settings.candidate_uid), limits.output_bytes
            )
            test_fds = [
                pipes.to_child(b""),
                pipes.from_child("test_stdout", MESSAGE_KEEP_BYTES, tail=True),
                pipes.from_child("test_stderr", MESSAGE_KEEP_BYTES, tail=True),
                pipes.to_child(p.exec_payload(request.test, p.settings.test_uid)),
                pipes.from_child("test_ready", 16),
            ]
            with artifacts.files_as(p.settings.test_uid):  # the nonce and record pipes are the test's own
                test_fds += [pipes.to_child(nonce), pipes.from_child("record", 256)]
            meter = p.meter()
            started = time.monotonic()
            try:
                chan_prog, chan_test = _channel(pipes)
                prog_id = p.zygote.spawn(
                    "exec",
                    p.settings.candidate_uid,
                    prog_fds + [chan_prog],
                    cwd=WORK_DIR,
                    limits=p.proc_limits(limits),
                )
                # the test needs no writable directory: "/" (read-only), so a candidate
                # that filled /tmp or its inodes cannot keep the test from starting
                test_id = p.zygote.spawn(
                    "exec", p.settings.test_uid, test_fds + [chan_test], cwd="/", limits=self._test_limits(limits)
                )
            finally:
                pipes.close_child_ends()
            meter.trust(p.zygote.pids[test_id])
            outcome = p.pump(pipes, started, limits, meter, lambda: test_id in p.zygote.exited)
            ended = time.monotonic()
            if outcome is Outcome.EXITED:
                p.zygote.wait_quietly(prog_id, PROGRAM_EXIT_GRACE_S)
            test_pid = p.zygote.pids[test_id]
            p.cleaner.stop_uids()
            prog_rec = p.zygote.wait(prog_id, KILL_WAIT_S)
            test_rec = p.zygote.wait(test_id, KILL_WAIT_S)
            meter.trusted_ended(test_pid, float(test_rec["cpu_s"]))
            pipes.drain()
            outcome = p.settle(meter, outcome, limits)
            ready = pipes.streams["ready"].data and pipes.streams["test_ready"].data
            return p.facts(
                pipes,
                prog_rec,
                meter,
                outcome,
                ended - started,
                limits,
                oom_before,
                test=pipes.process_facts(test_rec["status"], test_rec, "test_stdout", "test_stderr"),
                record_ok=pipes.streams["record"].bytes == nonce + request.test_digest.encode(),
                setup_failed=not ready,
            )
        finally:
            pipes.close()


JUDGE_OUTPUT_CAP = 64 * 1024  # what a judge may say (its message) is kept up to this


class Judges:
    """Runs a problem's checker or interactor under the judge uid.

    Its files (the test's input, the output or the log, the answer) are written
    into a fresh directory of the judge uid under /j, which only the runner can
    create in and no other uid can read: a checker runs after every process of
    the program is dead, so the program never sees the answer nor changes its
    output afterwards. A judge's limits are its own; its use is never the candidate's.
    """

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def files(self, call: JudgeCall, middle: bytes | None) -> tuple[str, list[str]]:
        """The judge's directory and its three arguments (input, output/log, answer)."""
        uid = self.parts.settings.judge_uid
        where = artifacts.make_private_dir(JUDGE_DIR, uid, ".j-")
        paths = [os.path.join(where, name) for name in ("input.txt", "output.txt", "answer.txt")]
        contents = (call.input, middle if middle is not None else b"", call.answer)
        with artifacts.files_as(uid):
            for path, data in zip(paths, contents):
                if path.endswith("output.txt") and middle is None:
                    continue  # an interactor writes its log itself
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
        return where, paths

    def payload(self, call: JudgeCall, args: list[str]) -> tuple[str, bytes]:
        """The zygote role and payload of a judge: a Python script is forked warm, anything else exec'd."""
        uid = self.parts.settings.judge_uid
        if call.launch.script:
            place = self.parts.store.stage(call.launch.build, uid)
            script = artifacts.expand([call.launch.script], build=place)[0]
            return "pyjudge", json.dumps({"script": script, "args": args}).encode()
        return "exec", self.parts.exec_payload(call.launch, uid, args)

    def limits(self, call: JudgeCall) -> dict[str, Any]:
        return {
            "nproc": self.parts.settings.nproc,
            "cpu_s": call.limits.cpu_s,
            "address_space_bytes": (call.limits.memory_mb + call.limits.address_space_extra_mb) << 20,
            "file_size_bytes": TEST_FILE_SIZE_BYTES,
        }

    def check(self, call: JudgeCall, output: bytes) -> JudgeFacts:
        """A checker on a finished program's output (or a log): `judge input output answer`."""
        p = self.parts
        where, paths = self.files(call, output)
        pipes = Pipes()
        try:
            role, payload = self.payload(call, paths)
            fds = _program_fds(pipes, b"", payload, JUDGE_OUTPUT_CAP)
            started = time.monotonic()
            try:
                pid_id = p.zygote.spawn(
                    role, p.settings.judge_uid, fds, cwd=where, limits=self.limits(call), subreaper=True
                )
            finally:
                pipes.close_child_ends()
            outcome = pipes.pump(p.zygote, started + call.limits.wall_s, lambda: pid_id in p.zygote.exited, set())
            wall = time.monotonic() - started
            p.cleaner.stop_uids()
            rec = p.zygote.wait(pid_id, KILL_WAIT_S)
            pipes.drain()
            if not pipes.streams["ready"].data:
                raise SandboxBroken("a judge failed during set-up")
            return JudgeFacts(outcome, pipes.process_facts(rec["status"], rec, "stdout", "stderr"), wall)
        finally:
            pipes.close()
            artifacts.remove_tree_as(where, p.settings.judge_uid)


class InteractiveExecutor:
    """The program and the interactor, each one's stdout the other's stdin.

    The interactor (judge uid) gets the test's input and answer as files and
    writes its log; the program (candidate uid) sees only what the interactor
    sends it. The test is over when both have ended (a program that stops
    talking meets the wall clock). The interactor's use is not the candidate's.
    """

    def __init__(self, parts: Parts) -> None:
        self.parts = parts

    def run(self, request: InteractiveRun) -> RunFacts:
        p = self.parts
        limits, call = request.limits, request.interactor
        pipes = Pipes()
        oom_before = oom_kills()
        where, paths = p.judges.files(call, None)
        try:
            to_program_r, to_program_w = os.pipe2(os.O_CLOEXEC)
            to_judge_r, to_judge_w = os.pipe2(os.O_CLOEXEC)
            for fd in (to_program_r, to_program_w, to_judge_r, to_judge_w):
                pipes.adopt(fd)
            if request.launch is not None:
                role, payload = "exec", p.exec_payload(request.launch, p.settings.candidate_uid)
            else:
                role, payload = "script", request.program.encode("utf-8", "surrogateescape")
            prog_fds = [
                to_program_r,
                to_judge_w,
                pipes.from_child("stderr", limits.output_bytes),
                pipes.to_child(payload),
                pipes.from_child("ready", 16),
            ]
            judge_role, judge_payload = p.judges.payload(call, paths)
            judge_fds = [
                to_judge_r,
                to_program_w,
                pipes.from_child("judge_stderr", JUDGE_OUTPUT_CAP),
                pipes.to_child(judge_payload),
                pipes.from_child("judge_ready", 16),
            ]
            meter = p.meter()
            started = time.monotonic()
            try:
                judge_id = p.zygote.spawn(
                    judge_role,
                    p.settings.judge_uid,
                    judge_fds,
                    cwd=where,
                    limits=p.judges.limits(call),
                    subreaper=True,  # (what the interactor starts stays below it, exec'd or forked)
                )
                prog_id = p.zygote.spawn(
                    role, p.settings.candidate_uid, prog_fds, cwd=WORK_DIR, limits=p.proc_limits(limits)
                )
            finally:
                pipes.close_child_ends()
            meter.trust(p.zygote.pids[judge_id], tree=True)  # (what the interactor starts is the jury's too)
            judge_pid = p.zygote.pids[judge_id]
            order: list[str] = []

            def both_ended() -> bool:
                for name, pid_id in (("program", prog_id), ("judge", judge_id)):
                    if pid_id in p.zygote.exited and name not in order:
                        order.append(name)
                return len(order) == 2

            # The program's wall clock runs while it waits on the interactor too; the CPU the
            # interactor spends answering is its, never the program's: the deadline moves with it
            # (read by the meter, every 10 ms), with room for a loaded machine (JUDGE_WALL_PER_CPU).
            # The interactor's own wall limit bounds the whole.
            def deadline() -> float:
                judge_wall = JUDGE_WALL_PER_CPU * meter.trusted_cpu_s(judge_pid)
                return started + min(limits.wall_s + judge_wall, call.limits.wall_s)

            outcome = pipes.pump(p.zygote, deadline, both_ended, {"stderr"}, p.watch(meter, limits))
            wall = time.monotonic() - started
            p.cleaner.stop_uids()
            prog_rec = p.zygote.wait(prog_id, KILL_WAIT_S)
            judge_rec = p.zygote.wait(judge_id, KILL_WAIT_S)
            meter.trusted_ended(judge_pid, float(judge_rec["cpu_s"]))
            pipes.drain()
            outcome = p.settle(meter, outcome, limits)
            judge = JudgeFacts(
                Outcome.EXITED if "judge" in order else Outcome.TIMEOUT,
                pipes.process_facts(judge_rec["status"], judge_rec, "judge_stderr", "judge_stderr"),
                wall,
            )
            checker = None
            if request.checker is not None and judge.outcome is Outcome.EXITED:
                with artifacts.files_as(p.settings.judge_uid):
                    log = _read_file(paths[1], request.checker.limits.output_bytes)
                checker = p.judges.check(request.checker, log)
            ready = pipes.streams["ready"].data and pipes.streams["judge_ready"].data
            return p.facts(
                pipes,
                prog_rec,
                meter,
                outcome,
                wall,
                limits,
                oom_before,
                stdout_stream=None,
                setup_failed=not ready,
                judge=judge,
                checker=checker,
                judge_first=bool(order) and order[0] == "judge",
            )
        finally:
            pipes.close()
            artifacts.remove_tree_as(where, p.settings.judge_uid)


# An interactor's CPU second moves the program's wall deadline this far: generous, since the wall
# clock only stops a program that sleeps (a late deadline costs sandbox time; an early one fails an
# honest program waiting on a jury slowed by the machine's load).
JUDGE_WALL_PER_CPU = 4.0


def _read_file(path: str, cap: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= cap and (chunk := os.read(fd, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[: cap + 1]
    finally:
        os.close(fd)


def executors(parts: Parts) -> dict[str, Executor]:
    """The executor for each ``kind`` of run request."""
    return {
        "script": ScriptExecutor(parts),
        "exec": ExecExecutor(parts),
        "values": ValueExecutor(parts),
        "split": SplitExecutor(parts),
        "interactive": InteractiveExecutor(parts),
    }
