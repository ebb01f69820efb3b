"""Sessions and Run without a container: the pure parts (names, verdicts, the cell runner,
the host's session bookkeeping against a stand-in sandbox)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from rlce_server._proto.rlce.v1 import scorer_pb2 as pb
from rlce_server.api import sessions as api
from rlce_server.config import Settings
from rlce_server.domain import Limits, Verdict
from rlce_server.errors import InvalidRequest, SandboxFault, SessionNotFound, SessionsExhausted
from rlce_server.graders.run import grade_cell, grade_run
from rlce_server.metrics import Metrics
from rlce_server.sandbox.rlce_runner import proctree, protocol
from rlce_server.sandbox.rlce_runner.protocol import CellFacts, CellRecord, CellStatus, Outcome
from rlce_server.sandbox.rlce_runner.session_process import run_cell
from rlce_server.sandbox.rlce_runner.workfiles import FileRefused, parts
from rlce_server.sessions import SessionManager

LIMITS = Limits(
    time_limit_s=1, wall_time_limit_s=3, memory_limit_mb=256, output_limit_bytes=1024, total_time_limit_s=10
)


# -- names -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a.txt", "data/in.csv", "a/b/c", "x..y", ".hidden"])
def test_plain_relative_names_are_taken(name: str) -> None:
    assert "/".join(parts(name)) == name


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/.", "a\x00b", "a\\b", "x" * 300]
)
def test_names_that_could_leave_the_directory_are_refused(name: str) -> None:
    with pytest.raises(FileRefused):
        parts(name)


def test_the_api_names_the_field_of_a_bad_file_name() -> None:
    settings = Settings()
    req = pb.RunRequest(language="python", code="print(1)", files={"../up": b"x"})
    with pytest.raises(InvalidRequest) as err:
        api.convert_run(req, settings, ["python"])
    assert err.value.field == "files['../up']"
    with pytest.raises(InvalidRequest) as err:
        api.convert_run(pb.RunRequest(language="python", code="1", fetch=["ok", "/abs"]), settings, ["python"])
    assert err.value.field == "fetch[1]"
    with pytest.raises(InvalidRequest) as err:
        api.convert_run(pb.RunRequest(language="cobol", code="1"), settings, ["python"])
    assert err.value.field == "language"


def test_open_session_limits_idle_timeout_and_budget_are_checked() -> None:
    settings = Settings()
    job = api.convert_open(pb.OpenSessionRequest(language="python"), settings, ["python"])
    assert job.idle_timeout_s == settings.sessions.idle_timeout_s
    assert job.limits.total_time_limit_s == settings.sessions.cpu_budget_s
    too_long = pb.OpenSessionRequest(language="python", idle_timeout_s=int(settings.sessions.max_idle_timeout_s) + 1)
    with pytest.raises(InvalidRequest) as err:
        api.convert_open(too_long, settings, ["python"])
    assert err.value.field == "idle_timeout_s"
    big_budget = pb.OpenSessionRequest(language="python", limits=pb.Limits(total_time_limit_s=1e9))
    with pytest.raises(InvalidRequest) as err:
        api.convert_open(big_budget, settings, ["python"])
    assert err.value.field == "limits.total_time_limit_s"
    with pytest.raises(InvalidRequest) as err:
        api.convert_open(pb.OpenSessionRequest(language="cpp"), settings, ["python"])
    assert err.value.field == "language"
    with pytest.raises(InvalidRequest) as err:
        api.convert_exec(pb.ExecRequest(session_id="s", code="1", time_limit_s=-1), settings)
    assert err.value.field == "time_limit_s"
    with pytest.raises(InvalidRequest) as err:
        api.convert_exec(pb.ExecRequest(code="1"), settings)
    assert err.value.field == "session_id"


# -- the wire ---------------------------------------------------------------------------
def test_fields_at_their_defaults_stay_off_the_wire_and_come_back() -> None:
    req = protocol.SessionExec("s1", "x = 1", protocol.CellLimits(wall_s=1.0, cpu_s=0.5))
    data = protocol.dump(req)
    assert "files" not in data and "stdin" not in data and data["op"] == "session_exec"
    assert protocol.load(protocol.SessionRequest, data) == req
    facts = CellFacts(Outcome.EXITED, True, record=CellRecord(CellStatus.OK, result="2"), stdout=b"hi")
    assert protocol.load(CellFacts, protocol.dump(facts)) == facts
    # an older peer's message (no new fields) loads with the defaults
    script = {"op": "run", "kind": "script", "program": "p", "stdin": "", "limits": protocol.dump(LIMITS_WIRE)}
    loaded = protocol.load(protocol.Request, script)
    assert isinstance(loaded, protocol.ScriptRun) and loaded.files == {} and loaded.fetch == []


LIMITS_WIRE = protocol.TestLimits(wall_s=1.0, cpu_s=1.0, memory_mb=64, output_bytes=1024)


# -- verdicts ----------------------------------------------------------------------------
def cell(outcome: Outcome = Outcome.EXITED, committed: bool = True, **kw: Any) -> CellFacts:
    return CellFacts(outcome, committed, **kw)


def test_a_cell_verdict_is_its_limit_else_what_its_code_did() -> None:
    ok = grade_cell(cell(record=CellRecord(CellStatus.OK, result="42")), LIMITS)
    assert (ok.verdict, ok.result) == (Verdict.ACCEPTED, "42")
    raised = grade_cell(cell(record=CellRecord(CellStatus.ERROR, error="Traceback ... ZeroDivisionError")), LIMITS)
    assert raised.verdict is Verdict.RUNTIME_ERROR and "ZeroDivisionError" in raised.error
    assert grade_cell(cell(record=CellRecord(CellStatus.EXIT)), LIMITS).verdict is Verdict.ACCEPTED
    assert grade_cell(cell(record=CellRecord(CellStatus.EXIT, exit_code=3)), LIMITS).verdict is Verdict.RUNTIME_ERROR
    for outcome, verdict in [
        (Outcome.CPU_LIMIT, Verdict.TIME_LIMIT_EXCEEDED),
        (Outcome.TIMEOUT, Verdict.TIME_LIMIT_EXCEEDED),
        (Outcome.MEMORY_LIMIT, Verdict.MEMORY_LIMIT_EXCEEDED),
        (Outcome.OUTPUT_LIMIT, Verdict.OUTPUT_LIMIT_EXCEEDED),
    ]:
        graded = grade_cell(cell(outcome, committed=False), LIMITS)
        assert graded.verdict is verdict and "as it was before this cell" in graded.error
    # a record is the cell's own word: without the commit (its process died) it is no pass
    died = grade_cell(cell(committed=False, record=CellRecord(CellStatus.OK)), LIMITS)
    assert died.verdict is Verdict.RUNTIME_ERROR and "process ended" in died.error
    assert grade_cell(cell(refused="files['a']: no room"), LIMITS).verdict is Verdict.RUNTIME_ERROR


def test_a_run_is_accepted_only_when_it_ended_by_itself_with_status_zero() -> None:
    from rlce_server.sandbox.fake import facts

    def verdict(**kw: Any) -> Verdict:
        graded = grade_run(facts(**kw), LIMITS)
        assert not isinstance(graded, type(None))
        return graded.outcome.verdict  # type: ignore[union-attr]

    assert verdict() is Verdict.ACCEPTED
    assert verdict(exit_code=1) is Verdict.RUNTIME_ERROR
    assert verdict(exit_code=-1, signal=11) is Verdict.RUNTIME_ERROR
    assert verdict(outcome=Outcome.CPU_LIMIT) is Verdict.TIME_LIMIT_EXCEEDED
    assert verdict(outcome=Outcome.OUTPUT_LIMIT) is Verdict.OUTPUT_LIMIT_EXCEEDED


# -- the cell runner (what a session's process runs), in this process ------------------------
def test_cells_share_their_names_and_show_a_final_expression() -> None:
    ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    assert run_cell("x = 41", ns, "<cell 1>") == {"status": "ok", "result": ""}
    assert run_cell("x + 1", ns, "<cell 2>") == {"status": "ok", "result": "42"}
    assert run_cell("def f():\n    return x\nf()", ns, "<cell 3>")["result"] == "41"
    assert run_cell("None", ns, "<cell 4>")["result"] == ""
    assert run_cell("'a' * 10", ns, "<cell 5>")["result"] == "'aaaaaaaaaa'"


def test_a_cell_that_raises_reports_its_own_traceback_only() -> None:
    ns: dict[str, Any] = {"__builtins__": __builtins__}
    rec = run_cell("y = 1\n1 / 0", ns, "<cell 1>")
    assert rec["status"] == "error" and ns["y"] == 1
    assert "ZeroDivisionError" in rec["error"] and '"<cell 1>", line 2' in rec["error"]
    assert "session_process" not in rec["error"]
    assert run_cell("def (:", ns, "<cell 2>")["status"] == "error"
    assert run_cell("raise SystemExit(0)", ns, "<cell 3>") == {"status": "exit", "exit_code": 0, "error": ""}
    assert run_cell("raise SystemExit(2)", ns, "<cell 4>")["exit_code"] == 2


def test_a_huge_repr_is_cut() -> None:
    rec = run_cell("'x' * 10**6", {"__builtins__": __builtins__}, "<cell 1>")
    assert len(rec["result"]) < 70_000 and rec["result"].endswith("...")


def test_proc_stat_reads_this_process() -> None:
    st = proctree.stat(os.getpid())
    assert st is not None and st.state in "RS" and st.ppid == os.getppid() and st.rss_pages > 0
    assert proctree.stat(2**22 + 7) is None
    assert os.getpid() in proctree.descendants(os.getpid())
    assert os.getpid() in proctree.of_uid(os.geteuid())
    assert proctree.of_uid(2**31 - 3) == []
    with pytest.raises(ValueError):
        proctree.kill_as(0, [os.getpid()])  # never as root, never pid 1 or -1
    with pytest.raises(ValueError):
        proctree.kill_as(12345, [-1])


def test_a_cells_record_is_taken_only_whole_and_well_formed() -> None:
    from rlce_server.sandbox.rlce_runner.pipes import Stream
    from rlce_server.sandbox.rlce_runner.sessions import _record, check_name

    def record(data: bytes, cap: int = 1 << 20) -> CellRecord | None:
        r, w = os.pipe()
        os.write(w, data)
        os.close(w)
        stream = Stream(r, cap)
        try:
            return _record(stream)
        finally:
            os.close(r)

    assert record(b'{"status": "ok", "result": "2"}') == CellRecord(CellStatus.OK, result="2")
    assert record(b'{"status": "ok"}{"status": "ok"}') is None  # two writers: no record
    assert record(b'{"status": "passed"}') is None
    assert record(b'{"status": "ok", "result": 2}') is None
    assert record(b"[" * 20_000) is None  # too deep for json: no record
    assert record(b'{"status": "ok", "result": "' + b"x" * 100 + b'"}', cap=50) is None
    assert check_name("ab-12_Z") == "ab-12_Z"
    for bad in ("", "a/b", "x" * 65, "a b"):
        with pytest.raises(protocol.ProtocolError):
            check_name(bad)


# -- the host's bookkeeping, against a stand-in session sandbox --------------------------------
class FakeSessions:
    """A session sandbox that answers from memory (no processes)."""

    def __init__(self, slots: int = 4) -> None:
        self.id = "fake-sessions"
        self.runtime = "python"
        self.slots = slots
        self.trees = 0
        self.broken = ""
        self.open: set[str] = set()
        self.cpu_per_cell = 0.0
        self.calls: list[Any] = []

    async def call(self, msg: Any, reply_type: type, timeout_s: float) -> Any:
        self.calls.append(msg)
        if self.broken:
            raise SandboxFault("broken")
        if isinstance(msg, protocol.SessionOpen):
            self.open.add(msg.session)
            return protocol.SessionFacts(ok=True)
        if isinstance(msg, protocol.SessionFork):
            self.open.add(msg.new_session)
            return protocol.SessionFacts(ok=True)
        if isinstance(msg, protocol.SessionClose):
            existed = msg.session in self.open
            self.open.discard(msg.session)
            return protocol.SessionClosed(existed=existed)
        assert isinstance(msg, protocol.SessionExec)
        if msg.code == "break":
            self.broken = "the runner hung up"
            raise SandboxFault("broken")
        return CellFacts(
            Outcome.EXITED, True, cpu_s=self.cpu_per_cell, record=CellRecord(CellStatus.OK, result=repr(msg.code))
        )


class FakeBackend:
    def __init__(self) -> None:
        self.made: list[FakeSessions] = []

    async def create_sessions(self, runtime: str) -> FakeSessions:
        self.made.append(FakeSessions())
        return self.made[-1]

    async def destroy(self, sandbox: Any) -> None:
        pass


def manager(**sessions: Any) -> tuple[SessionManager, FakeBackend]:
    settings = Settings(sessions={"sandboxes": 1, "sweep_interval_s": 0.01, **sessions})
    backend = FakeBackend()
    return SessionManager(settings, backend, ["python"], Metrics(CollectorRegistry())), backend  # type: ignore[arg-type]


def test_session_ids_carry_the_server_run_and_ended_sessions_say_why() -> None:
    async def go() -> None:
        m, _ = manager()
        s = await m.open("python", LIMITS, 60, {})
        assert s.id.startswith(m.boot + "-")
        assert (await m.exec(s.id, "1+1")).result == "'1+1'"
        await m.close(s.id)
        with pytest.raises(SessionNotFound, match="has ended: closed"):
            await m.exec(s.id, "x")
        other, _ = manager()  # the same server restarted: a new boot
        with pytest.raises(SessionNotFound, match="not one of this server's"):
            other.get(s.id)

    asyncio.run(go())


def test_the_server_wide_cap_and_the_tree_cap_are_resource_exhausted() -> None:
    async def go() -> None:
        m, _ = manager(max_open=3, max_per_tree=2)
        a = await m.open("python", LIMITS, 60, {})
        await m.fork(a.id)
        with pytest.raises(SessionsExhausted, match="at most 2"):
            await m.fork(a.id)
        await m.open("python", LIMITS, 60, {})
        with pytest.raises(SessionsExhausted, match="server's cap"):
            await m.open("python", LIMITS, 60, {})

    asyncio.run(go())


def test_a_spent_cpu_budget_ends_the_session() -> None:
    async def go() -> None:
        m, backend = manager()
        s = await m.open("python", LIMITS, 60, {})
        backend.made[0].cpu_per_cell = 6.0  # the budget (LIMITS.total_time_limit_s) is 10 s
        first = await m.exec(s.id, "a")
        assert first.verdict is Verdict.ACCEPTED and not first.ended
        second = await m.exec(s.id, "b")
        assert second.ended and "budget" in second.error
        with pytest.raises(SessionNotFound, match="budget"):
            await m.exec(s.id, "c")
        assert s.id not in backend.made[0].open  # closed in its sandbox too

    asyncio.run(go())


def test_idle_sessions_expire_and_forks_keep_the_parents_budget() -> None:
    async def go() -> None:
        m, backend = manager()
        await m.start()
        try:
            s = await m.open("python", LIMITS, 0.05, {})
            backend.made[0].cpu_per_cell = 2.0
            await m.exec(s.id, "a")
            f = await m.fork(s.id)
            assert f.cpu_used_s == s.cpu_used_s == 2.0 and f.tree is s.tree
            for _ in range(500):
                if not m.sessions:
                    break
                await asyncio.sleep(0.01)
            assert not m.sessions and not backend.made[0].open
            with pytest.raises(SessionNotFound, match="expired"):
                m.get(f.id)
        finally:
            await m.stop()

    asyncio.run(go())


def test_a_broken_sandbox_takes_its_sessions_and_is_replaced() -> None:
    async def go() -> None:
        m, backend = manager()
        a = await m.open("python", LIMITS, 60, {})
        b = await m.open("python", LIMITS, 60, {})
        lost = await m.exec(a.id, "break")
        assert lost.verdict is Verdict.SANDBOX_ERROR and lost.ended
        for sid in (a.id, b.id):
            with pytest.raises(SessionNotFound, match="sandbox failed"):
                m.get(sid)
        c = await m.open("python", LIMITS, 60, {})  # a new sandbox
        assert len(backend.made) == 2 and c.tree.sandbox is backend.made[1]

    asyncio.run(go())


# -- a tree's files: iterative, descriptor-relative, never blocked by a FIFO ----------------------
def _deep(root: str, depth: int) -> None:
    top = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=top)
        nxt = os.open("d", os.O_RDONLY, dir_fd=top)
        os.close(top)
        top = nxt
    os.close(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=top))
    os.mkfifo("p", dir_fd=top)
    os.close(top)


def test_tree_files_copy_and_wipe_any_depth_and_never_open_a_fifo(tmp_path: Any) -> None:
    from rlce_server.sandbox.rlce_runner import treefiles, workfiles, zygote

    uid = os.getuid()
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    _deep(str(src), 3000)  # (far past Python's recursion limit)
    os.mkfifo(src / "data.csv")
    os.symlink("/etc/passwd", src / "link")
    (src / "closed").mkdir()
    src_fd, dst_fd = os.open(src, os.O_RDONLY), os.open(dst, os.O_RDONLY)
    try:
        treefiles.copy_tree(src_fd, dst_fd, 1 << 20, 10_000)
        assert sorted(os.listdir(dst)) == ["closed", "d", "data.csv", "link"]
        assert os.readlink(dst / "link") == "/etc/passwd"
        # a name that is a FIFO is replaced by the file given, not opened (which would block)
        assert workfiles.write_files(dst_fd, {"data.csv": b"a,b"}, uid) == []
        assert (dst / "data.csv").read_bytes() == b"a,b"
        found, errors = workfiles.read_files(src_fd, ["data.csv", "link"], uid, 100)
        assert found == {} and "not a regular file" in errors[0] and "symbolic link" in errors[1]
    finally:
        os.close(src_fd)
        os.close(dst_fd)
    os.chmod(dst / "closed", 0)
    os.chmod(dst, 0o777)
    owners = range(uid, uid + 1)
    assert treefiles.wipe(str(dst), owners) == 0
    assert os.listdir(dst) == [] and os.stat(dst).st_mode & 0o7777 == 0o700  # its root closed again
    assert treefiles.remove_tree(str(dst), owners) == 0 and not dst.exists()
    assert zygote.remove_owned([str(src)], uid) == 0 and os.listdir(src) == []  # (a scoring job's wipe)


def test_tree_copy_stops_at_what_the_tree_could_hold(tmp_path: Any) -> None:
    """A sparse file reads as zeros without end (its size, not its blocks): the copy stops at the
    byte budget, and at the entry budget, with ENOSPC (the fork's failure, never a stalled runner)."""
    import errno

    from rlce_server.sandbox.rlce_runner import treefiles

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    with open(src / "sparse", "wb") as fh:
        fh.truncate(64 << 20)  # 64 MiB that use no block
    for i in range(20):
        (src / f"f{i}").write_bytes(b"x")
    src_fd, dst_fd = os.open(src, os.O_RDONLY), os.open(dst, os.O_RDONLY)
    try:
        with pytest.raises(OSError) as caught:
            treefiles.copy_tree(src_fd, dst_fd, 1 << 20, 10_000)
        assert caught.value.errno == errno.ENOSPC and "bytes" in str(caught.value)
        (src / "sparse").unlink()
        with pytest.raises(OSError) as caught:
            treefiles.copy_tree(src_fd, dst_fd, 1 << 20, 10)
        assert caught.value.errno == errno.ENOSPC and "entries" in str(caught.value)
    finally:
        os.close(src_fd)
        os.close(dst_fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="makes a socket as another uid (setfsuid)")
def test_unix_socket_bytes_counts_what_is_queued_by_its_owner() -> None:
    import socket

    from rlce_server.sandbox.rlce_runner.artifacts import files_as

    owner = 4_242_421  # (a uid nothing else uses: the socket is its maker's filesystem uid's)
    with files_as(owner):
        a, b = socket.socketpair()
    try:
        assert proctree.unix_socket_bytes().get(owner, 0) == 0
        a.send(b"x" * 100_000)
        assert proctree.unix_socket_bytes().get(owner, 0) >= 100_000
        b.recv(1 << 20)
    finally:
        a.close()
        b.close()
