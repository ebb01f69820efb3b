"""Parts of the in-sandbox runner that need no container: the zygote client, the typed protocol."""

import json
import os
import socket

import pytest

from rlce_server.sandbox.rlce_runner import protocol
from rlce_server.sandbox.rlce_runner.zygote_client import SandboxBroken, ZygoteClient


def test_pump_with_a_passed_deadline_waits_briefly_instead_of_raising():
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    z = ZygoteClient(mine)
    for timeout in (-0.5, 0.0, 0.001):
        z.pump(timeout)  # nothing to read: returns, no ValueError / BlockingIOError
    theirs.send(json.dumps({"exited": "p1", "status": 0, "cpu_s": 0.0, "maxrss_kb": 1}).encode())
    z.pump(-1)
    assert "p1" in z.exited
    theirs.close()
    with pytest.raises(SandboxBroken):
        z.pump(1)


def test_the_driver_binds_nothing_on_the_programs_say_so():
    """Program names reach the test as handles or plain copies; modules, dunders and
    protected builtins never; the trusted modules the test uses win over the program's."""
    import math
    import sys
    import types

    from rlce_server.sandbox.rlce_runner import codec
    from rlce_server.sandbox.rlce_runner.program_client import RemoteObject
    from rlce_server.sandbox.rlce_runner.test_driver import _bind

    class Client:
        def proxy(self, ref, label):
            return ("handle", ref)

    names = [
        {"n": "unittest", "k": "module", "m": "unittest.__main__"},
        {"n": "__name__", "k": "value", "v": "solution"},
        {"n": "len", "k": "ref", "r": 1},
        {"n": "sum", "k": "ref", "r": 2},
        {"n": "math", "k": "ref", "r": 3},
        {"n": "LIMIT", "k": "value", "v": codec.encode((1, 2))},
        {"n": "f", "k": "ref", "r": 4},
    ]
    test = compile("import json\ndef check(c):\n    assert math.isclose(c(1), 1)\ncheck(f)\n", "test.py", "exec")
    namespace: dict = {"__name__": "__main__"}
    before = sys.modules.get("unittest.__main__")
    _bind(Client(), names, namespace, test)
    assert namespace["__name__"] == "__main__" and "unittest" not in namespace and "len" not in namespace
    assert sys.modules.get("unittest.__main__") is before, "nothing imported for the program"
    assert namespace["sum"] == ("handle", 2) and namespace["f"] == ("handle", 4)
    assert namespace["LIMIT"] == (1, 2)
    assert namespace["math"] is math, "the test's math is the driver's own"
    solution = sys.modules["solution"]
    assert isinstance(solution, types.ModuleType) and solution.f == ("handle", 4) and not hasattr(solution, "len")
    assert RemoteObject  # handles are RemoteObjects in the real client


def test_program_exceptions_come_back_only_as_safe_builtin_kinds():
    from rlce_server.sandbox.rlce_runner.program_client import RemoteError, remote_exception

    value_error = remote_exception("ValueError", "bad")
    assert isinstance(value_error, ValueError) and isinstance(value_error, RemoteError)
    for dangerous in ("StopIteration", "StopAsyncIteration", "GeneratorExit", "SystemExit", "KeyboardInterrupt"):
        exc = remote_exception(dangerous, "x")
        assert type(exc).__mro__[1:] == RemoteError.__mro__, dangerous
        assert not isinstance(exc, StopIteration | GeneratorExit | SystemExit)


def test_protocol_messages_round_trip_and_variants_are_told_apart():
    limits = protocol.TestLimits(wall_s=2, cpu_s=1.5, memory_mb=64, output_bytes=1024)
    messages = [
        protocol.ScriptRun(program="print(1)", stdin=b"\x00\xff", limits=limits),
        protocol.ExecRun(program=protocol.Launch("ab" * 10, ["{build}/p"]), stdin=b"", limits=limits, record=True),
        protocol.ValueRun(program="x", mode=protocol.ValueMode.CALL, limits=limits, entry_point="f", args_json="[1]"),
        protocol.SplitRun(
            program=protocol.Launch("ab" * 10, ["p"]),
            test=protocol.Launch("cd" * 10, ["t"]),
            test_digest="0" * 64,
            limits=limits,
        ),
        protocol.Build(
            key="ab" * 10,
            role=protocol.BuildRole.TEST,
            files={"t.cpp": protocol.FileSource(text="int main(){}")},
            steps=[["g++", "t.cpp"]],
            outputs=["t"],
            limits=protocol.BuildLimits(30, 30, 2048, 16384),
        ),
        protocol.Hello(),
        protocol.Reset(),
    ]
    for msg in messages:
        data = json.loads(json.dumps(protocol.dump(msg)))
        assert protocol.load(protocol.Request, data) == msg
    facts = protocol.RunFacts(
        outcome=protocol.Outcome.EXITED,
        wall_s=0.1,
        program=protocol.ProcessFacts(stdout=b"ok"),
        driver=protocol.DriverRecord(protocol.DriverStatus.RETURNED, value={"$tuple": [1]}),
    )
    assert protocol.load(protocol.RunFacts, json.loads(json.dumps(protocol.dump(facts)))) == facts


@pytest.mark.parametrize(
    "data",
    [
        {"op": "run", "kind": "script", "program": "x", "stdin": "not base64!", "limits": {}},
        {"op": "run", "kind": "nope"},
        {"op": "build", "key": "k"},
        {"op": "hello", "extra": 1},
        {
            "op": "run",
            "kind": "script",
            "program": 1,
            "stdin": "",
            "limits": {"wall_s": 1, "cpu_s": 1, "memory_mb": 1, "output_bytes": 1},
        },
        [],
    ],
)
def test_protocol_refuses_malformed_messages_with_the_field_named(data):
    with pytest.raises(protocol.ProtocolError):
        protocol.load(protocol.Request, data)


_LIM = {"wall_s": 1, "cpu_s": 1, "memory_mb": 1, "output_bytes": 1}
_EXEC = {"op": "run", "kind": "exec", "program": {"build": "k", "argv": ["p"]}, "stdin": "", "limits": _LIM}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**_EXEC, "stdin": "not base64!"}, "message.stdin: malformed base64"),
        ({"op": "hello", "extra": 1}, "message: unknown fields ['extra'] for Hello"),
        ({"op": "build", "key": "k"}, "message: Build.role is missing"),
        (
            {"op": "batch", "runs": [_EXEC, 1], "deadline_s": 1.0, "stop_after_failure": True},
            "message.runs[1]: int fits none of ",
        ),
        (
            {"op": "batch", "runs": [_EXEC, {**_EXEC, "limits": {**_LIM, "wall_s": "x"}}], "deadline_s": 1.0},
            "message.runs[1].limits.wall_s: expected a number, got str",
        ),
        ({**_EXEC, "program": {"build": "k", "argv": ["p", 3]}}, "message.program.argv[1]: expected str, got int"),
        ({"op": "run", "kind": "nope"}, "message: matches none of ["),
    ],
)
def test_a_malformed_message_is_refused_at_the_field_that_is_wrong(data, message):
    """The loaders are built once per type (protocol._loader); each still names the path to
    the field and what is wrong with it, however deep."""
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.load(protocol.Request, data)
    assert str(info.value).startswith(message), str(info.value)


def test_dump_leaves_out_defaults_but_never_a_tag_and_shares_no_default():
    run = protocol.ExecRun(program=protocol.Launch("k", ["p"]), stdin=b"", limits=protocol.TestLimits(1, 1, 1, 1))
    data = protocol.dump(run)
    assert data["op"] == "run" and data["kind"] == "exec" and data["stdin"] == ""
    assert "files" not in data and "record" not in data  # at their defaults (a factory's, a value's)
    with_files = protocol.dump(protocol.ExecRun(run.program, b"", run.limits, files={"a": b"x"}))
    assert with_files["files"] == {"a": "eA=="}
    loaded = protocol.load(protocol.Request, data)
    loaded.files["b"] = b"y"  # the default a load fills in is the message's own
    assert "files" not in protocol.dump(protocol.load(protocol.Request, data))


def test_a_driver_record_encodes_as_protocol_dump_does():
    """The driver's fast path for records without a value gives exactly ``protocol.dump``'s data."""
    from rlce_server.sandbox.rlce_runner.test_driver import _record_data

    records = [
        protocol.DriverRecord(status, message, syntax, value, retire)
        for status in protocol.DriverStatus
        for message in ("", "AssertionError: x (test line 3: assert f(1) == 2)")
        for syntax in (False, True)
        for value in (None, 0, [], {"$tuple": [1, "a"]})
        for retire in (False, True)
    ]
    for record in records:
        assert _record_data(record) == protocol.dump(record)
        assert json.dumps(_record_data(record)) == json.dumps(protocol.dump(record))
        assert protocol.load(protocol.DriverRecord, _record_data(record), "record") == record


def test_nothing_the_zygote_inherits_imports_threading():
    """The zygote is forked from the runner once its modules are imported; ``threading``
    among them would run its after-fork hook in every sandboxed process (the runner
    imports ``subprocess``, which imports it, only after forking the zygote)."""
    import subprocess
    import sys
    from pathlib import Path

    sandbox = Path(__file__).resolve().parents[2] / "rlce_server" / "sandbox"
    code = (
        f"import sys, tomllib\nsys.path.insert(0, {str(sandbox)!r})\n"
        "import rlce_runner.runner, rlce_runner.zygote, rlce_runner.program_server, rlce_runner.test_driver\n"
        "import rlce_runner.session_process, rlce_runner.syscall_filter\n"
        "print('threading' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_exec_payload_round_trips_and_refuses_what_exec_cannot_carry() -> None:
    from rlce_server.sandbox.rlce_runner import spawn

    argv, env = ["/b/prog", "", "a b", "caf\udce9"], {"GOCACHE": "/x=y", "E": ""}
    assert spawn.decode(spawn.encode(argv, env)) == (argv, env)
    with pytest.raises(ValueError):
        spawn.encode(["a\0b"], {})
    with pytest.raises(ValueError):
        spawn.encode(["a"], {"A=B": "c"})
    with pytest.raises(ValueError):
        spawn.decode(b"2\0only-one")


def test_the_spawn_helper_gets_the_limits_the_forked_child_sets() -> None:
    from rlce_server.sandbox.rlce_runner import spawn

    req = {"uid": 1001, "gid": 1001, "cwd": "/w", "limits": {"cpu_s": 2.5, "nproc": 64, "address_space_bytes": 1 << 30}}
    argv = spawn.helper_argv(req, [7, 8, 9, 10, 11])
    assert argv[:9] == [spawn.HELPER, "5", "7", "8", "9", "10", "11", "1001", "1001"]
    assert argv[9] == "/w"
    assert argv[10:] == ["cpu=3", f"fsize={16 << 20}", "nofile=256", "core=0", "nproc=64", f"as={1 << 30}"]
    assert spawn.helper_argv({**req, "subreaper": True}, [7, 8, 9, 10, 11])[-1] == "subreaper=1"  # a judge's
    every = {"cpu_s": 1, "nproc": 8, "stack_bytes": 1 << 23, "msgqueue_bytes": 0}
    assert {name for name, _ in spawn.rlimits(every)} == set(spawn.RLIMITS)  # the forked path sets each


def test_a_build_server_that_makes_anything_outside_its_build_directory_breaks_the_sandbox(tmp_path, monkeypatch):
    """The scratch mounts are checked around every served step: whatever a (compromised)
    compiler leaves where a later job's program could find it ends the server and the sandbox."""
    from rlce_server.sandbox.rlce_runner import cleanup
    from rlce_server.sandbox.rlce_runner.build_server import StepFacts
    from rlce_server.sandbox.rlce_runner.builder import Builder
    from rlce_server.sandbox.rlce_runner.settings import SandboxSettings

    scratch = [tmp_path / name for name in ("w", "tmp", "shm")]
    for d in scratch:
        d.mkdir()
    monkeypatch.setattr(cleanup, "SCRATCH_DIRS", tuple(str(d) for d in scratch))
    settings = SandboxSettings(1600, 1601, 1602, 64, 1 << 20, False)
    cleaner = cleanup.Cleaner.__new__(cleanup.Cleaner)
    cleaner.settings = settings
    build_dir = scratch[0] / ".build-x"
    build_dir.mkdir()

    class Server:
        argv = ["java"]
        stopped = False
        uid, pid = 1703, 77

        def __init__(self, stray: str | None) -> None:
            self.stray = stray

        def build(self, where, argv, deadline, cpu_s):
            (build_dir / "out.class").write_bytes(b"inside: fine")
            if self.stray:
                (tmp_path / self.stray).write_text("a later job's program would read this")
            return StepFacts(protocol.BuildFailure.NONE, 0, b"said", 0.1, 0.05)

        def stop(self):
            self.stopped = True

    builder = Builder.__new__(Builder)
    builder.cleaner = cleaner
    monkeypatch.setattr("rlce_server.sandbox.rlce_runner.builder.sandbox_processes", lambda uids: [])
    fine = Server(None)
    step = builder._served(fine, ["java", "RlceBuild"], str(build_dir), 1e18, 10.0, 100)
    assert step.failure is protocol.BuildFailure.NONE and step.output == b"said" and not fine.stopped
    for stray in ("tmp/note", "shm/.hidden", "w/x"):
        bad = Server(stray)
        with pytest.raises(SandboxBroken, match="outside its build directory"):
            builder._served(bad, ["java", "RlceBuild"], str(build_dir), 1e18, 10.0, 100)
        assert bad.stopped
        (tmp_path / stray).unlink()
    # a process of the server's uid beside the server (a fork it left running) ends it too
    monkeypatch.setattr(
        "rlce_server.sandbox.rlce_runner.builder.sandbox_processes", lambda uids: [(uids[0], 4242, "T")]
    )
    forked = Server(None)
    with pytest.raises(SandboxBroken, match="left processes"):
        builder._served(forked, ["java", "RlceBuild"], str(build_dir), 1e18, 10.0, 100)
    assert forked.stopped


def test_build_server_uids_are_none_of_the_sandbox_uids(tmp_path):
    """Five uids per sandbox, all distinct, none shared with another sandbox's block or a session's."""
    from pathlib import Path

    from rlce_server.config import Settings
    from rlce_server.runtimes.registry import load_runtimes
    from rlce_server.sandbox import hardening
    from rlce_server.sandbox.rlce_runner.settings import SandboxSettings

    spec = load_runtimes(Path(__file__).resolve().parents[2] / "sandbox_images")["java"]
    for _ in range(50):
        env = hardening.container_kwargs(Settings(), spec, "img", tmp_path, {}, "n")["environment"]
        s = SandboxSettings.from_env(env)
        mine = {*s.uids, *s.build_server_uids}
        assert len(mine) == 5 and min(mine) % 8 == 0 and max(mine) - min(mine) < 8
        assert max(mine) < hardening.SESSION_UID_BASE and min(mine) >= hardening.UID_BASE


def test_a_zombie_that_takes_its_time_to_go_is_waited_for_not_called_a_broken_sandbox(monkeypatch):
    """A JVM of gigabytes stays a zombie until its threads have freed their memory (red team: a
    program within its limit was judged "breaks the sandbox" when that took over 100 ms)."""
    import types

    from rlce_server.sandbox.rlce_runner import cleanup
    from rlce_server.sandbox.rlce_runner.settings import SandboxSettings

    scans = []  # a zombie for 100 scans: the old bound gave up after 50, whatever the machine's speed

    def processes(uids):
        scans.append(1)
        return [(1600, 99, "Z")] if len(scans) <= 100 else []

    monkeypatch.setattr(cleanup, "sandbox_processes", processes)
    # no deadline passes (this module's clock stands still): only the scans count
    monkeypatch.setattr(cleanup, "time", types.SimpleNamespace(monotonic=lambda: 0.0))

    class Zygote:
        def pump(self, timeout):
            pass

    c = cleanup.Cleaner.__new__(cleanup.Cleaner)
    c.zygote, c.settings, c.idle_tasks = Zygote(), SandboxSettings(1600, 1601, 1602, 64, 1, False), None
    c.keeper_pid = lambda: None
    assert c.stop_uids() == 0  # waited for it; nothing was alive to kill


def test_a_served_build_kind_with_an_environment_is_refused():
    from pydantic import ValidationError

    from rlce_server.runtimes.registry import BuildSpec

    BuildSpec(files={"a": "program"}, steps=[["x"]], outputs=["a"], run=["a"], server=["srv"])
    with pytest.raises(ValidationError, match="served by a server takes no env"):
        BuildSpec(files={"a": "program"}, steps=[["x"]], outputs=["a"], run=["a"], server=["srv"], env={"K": "v"})


def test_a_test_process_still_at_work_when_the_time_is_up_is_killed_without_a_keeper(monkeypatch):
    """A compiled split test (no Python driver, no keeper) still formatting a 16M-element
    difference when the wall limit ended the program was left running: stop_uids only dropped the
    keeper for the test uid, so the sandbox was "broken" and the program's TLE read as our fault."""
    import types

    from rlce_server.sandbox.rlce_runner import cleanup
    from rlce_server.sandbox.rlce_runner.settings import SandboxSettings

    alive = {1600: [(1600, 10, "R")], 1601: [(1601, 11, "R")]}  # the program, the test process
    killed: list[int] = []
    dropped: list[int] = []
    monkeypatch.setattr(cleanup, "sandbox_processes", lambda uids: [p for u in uids for p in alive.get(u, [])])
    clock = iter(range(10**6))  # each reading a second later: the bound passes after a few scans
    monkeypatch.setattr(cleanup, "time", types.SimpleNamespace(monotonic=lambda: float(next(clock))))

    class Zygote:
        def pump(self, timeout):
            pass

        def kill_uid(self, uid):
            killed.append(uid)
            alive.pop(uid, None)

    c = cleanup.Cleaner.__new__(cleanup.Cleaner)
    c.zygote, c.settings, c.idle_tasks = Zygote(), SandboxSettings(1600, 1601, 1602, 64, 1, False), None
    c.keeper_pid, c.drop_keeper = (lambda: None), (lambda: dropped.append(1))
    assert c.stop_uids() == 2
    assert sorted(killed) == [1600, 1601] and dropped == [1]


@pytest.mark.parametrize("char", ["\u00e9", "\x01", "\ud800", "\U0001d11e", '"', "a"])
def test_the_largest_reply_a_program_can_cause_fits_what_the_host_reads(char):
    """Red team: a call's value of 8 Mi two-byte characters (escaped to six bytes each) beside
    two full streams, or a split test's four streams at a 16 MiB cap, made a runner reply past
    the host's 64 MiB: two sandboxes lost and the program's failure read as ours. Every part a
    program can fill, each at its largest, must fit ``reply_cap`` of the largest limits."""
    from rlce_server.config import Settings
    from rlce_server.sandbox.rlce_runner import frames, protocol
    from rlce_server.sandbox.rlce_runner.settings import MESSAGE_KEEP_BYTES
    from rlce_server.sandbox.rlce_runner.test_driver import RECORD_MAX_BYTES

    settings = Settings()
    out, fetch = settings.limits.max_output_limit_bytes, settings.fetch_max_bytes
    # the driver measures its record in UTF-8 (JSON-escaped where JSON escapes): fill it to its cap
    unit = len(json.dumps(char, ensure_ascii=False).encode("utf-8", "surrogatepass")) - 2
    value = char * ((RECORD_MAX_BYTES - 64) // unit)
    record = protocol.DriverRecord(protocol.DriverStatus.RETURNED, value=value)
    as_driver_measures = json.dumps(protocol.dump(record), ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert len(as_driver_measures) <= RECORD_MAX_BYTES
    big = b"\xff" * (out + 1)
    kept = b"\xff" * MESSAGE_KEEP_BYTES
    facts = protocol.RunFacts(
        outcome=protocol.Outcome.EXITED,
        wall_s=1.0,
        program=protocol.ProcessFacts(stdout=big, stderr=big, stdout_bytes=out + 1, stderr_bytes=out + 1),
        driver=record,
        test=protocol.ProcessFacts(stdout=kept, stderr=kept),
        files={"out.bin": b"\xff" * fetch},
    )
    reply = frames.encode_json({"ok": True, "result": protocol.dump(facts)})
    assert len(reply) <= protocol.reply_cap(out, fetch)


def test_a_trusted_tests_output_keeps_its_tail_and_counts_all(tmp_path):
    from rlce_server.sandbox.rlce_runner.pipes import Stream

    r, w = os.pipe()
    s = Stream(r, cap=8, tail=True)
    for chunk in (b"0123456789", b"abcdef", b"XYZ"):
        os.write(w, chunk)
        assert s.read_some()
    os.close(w)
    assert not s.read_some()
    os.close(r)
    assert s.bytes == b"bcdefXYZ" and s.total == 19


def test_tasks_the_proc_scan_cannot_show_are_killed_by_uid_on_the_kernels_count(monkeypatch):
    """Defence in depth behind the scan: the pids cgroup counts every task, so one the /proc
    scan missed (red team: a name that was not UTF-8 made the read raise) is still killed."""
    import types

    from rlce_server.sandbox.rlce_runner import cleanup
    from rlce_server.sandbox.rlce_runner.settings import SandboxSettings

    tasks = {"n": 3}  # runner, zygote, and one task no scan shows
    killed: list[int] = []
    monkeypatch.setattr(cleanup, "sandbox_processes", lambda uids: [])
    monkeypatch.setattr(cleanup, "tasks_in_container", lambda: tasks["n"])
    clock = iter(range(10**6))
    monkeypatch.setattr(cleanup, "time", types.SimpleNamespace(monotonic=lambda: float(next(clock)) / 100))

    class Zygote:
        def pump(self, timeout):
            pass

        def kill_uid(self, uid):
            killed.append(uid)
            tasks["n"] = 2

    c = cleanup.Cleaner.__new__(cleanup.Cleaner)
    c.zygote, c.settings, c.idle_tasks = Zygote(), SandboxSettings(1600, 1601, 1602, 64, 1, False), 2
    c.keeper_pid, c.drop_keeper, c.more_tasks = (lambda: None), (lambda: None), (lambda: 0)
    assert c.stop_uids() == 1
    assert sorted(killed) == [1600, 1601, 1602]
    assert c._processes_left() == []
    tasks["n"] = 4
    assert c._processes_left() == ["2 tasks that no /proc scan shows"]
    killed.clear()
    monkeypatch.setattr(Zygote, "kill_uid", lambda self, uid: killed.append(uid))  # they survive
    with pytest.raises(SandboxBroken, match="2 tasks that no /proc scan shows survive SIGKILL"):
        c.stop_uids()


def test_a_kept_counter_file_reads_afresh_and_never_a_later_process_with_the_same_pid():
    """KeptFile: each read is the file's text now; one of /proc/<pid> keeps to its process,
    so an ended one reads None (never a later process's figures)."""
    import subprocess

    from rlce_server.sandbox.rlce_runner.accounting import Counters, KeptFile, first_int

    child = subprocess.Popen(["sleep", "60"])
    kept = KeptFile(f"/proc/{child.pid}/stat", reopen=False)
    assert kept.read() is not None and kept.read().startswith(b"%d (sleep)" % child.pid)
    child.kill()
    child.wait()
    assert kept.read() is None
    kept.close()
    assert KeptFile("/nonexistent/counter").read() is None and first_int(None) is None
    mine = KeptFile("/proc/self/schedstat", reopen=False)
    before = first_int(mine.read())
    assert before is not None
    # CPU of this thread until the kept file shows it (the kernel adds it at its own ticks: a
    # count of work, not a time, so no machine is too fast or too slow for it)
    for _ in range(100_000):
        sum(i * i for i in range(10_000))
        if first_int(mine.read()) > before:
            break
    else:
        pytest.fail("the kept schedstat never moved")
    assert Counters(os.getpid()).zygote_ns() is not None


def test_the_pump_feeds_and_drains_every_pipe_and_ends_on_its_conditions():
    """Pipes.pump on poll(2): a reader sees its end of file, a writer whose reader is gone is
    done, a capped stream past its cap is OUTPUT_LIMIT, and the deadline is TIMEOUT."""
    import time

    from rlce_server.sandbox.rlce_runner.pipes import Pipes

    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    z = ZygoteClient(mine)
    pipes = Pipes()
    to_cat = pipes.to_child(b"x" * 200_000)  # more than a pipe holds: fed as it is read
    from_cat = pipes.from_child("stdout", 1 << 20)
    gone = pipes.to_child(b"nobody reads this")
    cat = os.fork()
    if cat == 0:  # a child that copies its input to its output (cat without an exec)
        os.dup2(to_cat, 0)
        os.dup2(from_cat, 1)
        os.closerange(3, 1 << 16)  # (the runner's ends too: else its input never ends)
        while chunk := os.read(0, 65536):
            os.write(1, chunk)
        os._exit(0)
    pipes.close_child_ends()  # (the unread pipe's read end goes too: its writer meets EPIPE)
    del gone
    out = pipes.streams["stdout"]
    done = pipes.pump(z, time.monotonic() + 60, lambda: not out.open, {"stdout"})
    os.waitpid(cat, 0)
    assert done.name == "EXITED" and out.total == 200_000 and not pipes.writers
    pipes.close()

    pipes = Pipes()
    w = pipes.from_child("stdout", 10)
    os.write(w, b"y" * 11)
    assert pipes.pump(z, time.monotonic() + 60, lambda: False, {"stdout"}).name == "OUTPUT_LIMIT"
    assert pipes.pump(z, time.monotonic() + 0.05, lambda: False, set()).name == "TIMEOUT"
    pipes.close()
    theirs.send(json.dumps({"exited": "p9", "status": 0, "cpu_s": 0.0, "maxrss_kb": 1}).encode())
    pipes = Pipes()
    assert pipes.pump(z, time.monotonic() + 60, lambda: "p9" in z.exited, set()).name == "EXITED"
    pipes.close()
    mine.close()
    theirs.close()


def test_counters_fail_closed_and_a_missing_counter_file_is_tried_again(tmp_path, monkeypatch):
    """Without the container's CPU or memory counter no limit over the job holds: the sandbox is
    broken (ours), never a reading of 0. A cgroup file that could not be opened is opened again
    at the next read; a /proc/<pid> one never is (a later process may have the pid)."""
    from rlce_server.sandbox.rlce_runner import accounting

    missing = str(tmp_path / "counter")
    monkeypatch.setattr(accounting, "_V2", (missing, missing))
    monkeypatch.setattr(accounting, "_V1", (missing, missing))
    counters = accounting.Counters(os.getpid())
    with pytest.raises(SandboxBroken, match="CPU counter"):
        counters.cpu_ns()
    with pytest.raises(SandboxBroken, match="memory counter"):
        counters.memory_bytes()
    later, fixed = accounting.KeptFile(missing), accounting.KeptFile(missing, reopen=False)
    assert later.read() is None and fixed.read() is None
    (tmp_path / "counter").write_text("12345\n")
    assert accounting.first_int(later.read()) == 12345 and fixed.read() is None
    assert counters.cpu_ns() == 12345 and counters.memory_bytes() == 12345
    first = accounting.KeptFile.first_of(str(tmp_path / "v2"), missing)  # v2's place absent: v1's
    assert first.path == missing and accounting.first_int(first.read()) == 12345
    neither = accounting.KeptFile.first_of(str(tmp_path / "v2"), str(tmp_path / "v1"))  # the last, retried
    assert neither.read() is None
    (tmp_path / "v1").write_text("7\n")
    assert accounting.first_int(neither.read()) == 7


def test_a_descriptor_closed_under_the_pump_and_a_reset_zygote_socket_break_the_sandbox():
    import time

    from rlce_server.sandbox.rlce_runner.pipes import Pipes

    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    z = ZygoteClient(mine)
    pipes = Pipes()
    w = pipes.from_child("stdout", 10)
    fd = pipes.streams["stdout"].fd
    closed = []

    def finished() -> bool:  # a bug of ours: the watched descriptor closed mid-pump
        if not closed:
            os.close(fd)
            closed.append(fd)
        return False

    with pytest.raises(SandboxBroken, match="closed while the pump watched it"):
        pipes.pump(z, time.monotonic() + 5, finished, set())
    os.close(w)
    mine.send(b"{}")  # unread by a zygote that then dies: the socket is reset, not just closed
    theirs.close()
    with pytest.raises(SandboxBroken, match="zygote died"):
        z.pump(1)
    mine.close()
