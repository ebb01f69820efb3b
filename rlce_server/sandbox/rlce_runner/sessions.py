"""The session runner: PID 1 of a session sandbox (docs/SESSIONS.md, docs/SECURITY.md "Sessions").

A session sandbox holds many live Python sessions. Each *tree* (a session
opened by the host and every fork of it) gets a slot: a uid of its own and a
tmpfs of its own (``/s/<k>``, 0700, owned by that uid, capped in bytes and
inodes by the kernel), where each of its sessions has a working directory
with a random name. Nothing else in the container is writable by a slot uid,
and its IPC namespace has no room for SysV objects or POSIX message queues.

A session is one *state* process (``session_process``), stopped (SIGSTOP)
whenever no command runs in it. A cell runs in a fork of the state; when it
ends within its limits the cell's process becomes the state and the old one
is killed, otherwise the cell's processes are killed and the state is as
before (docs/SESSIONS.md, "Cells are transactions"). What a cell used is read
from /proc over the cell's process tree (``proctree``); processes that leave
it are killed.

One thread serves every request: requests are frames with an id, answered
in the order they finish, and a cell that runs long never holds up another
session's cell. Nothing here waits on a sandboxed process without a deadline.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import selectors
import signal
import socket
import stat
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import artifacts, frames, proctree, protocol, treefiles, workfiles
from .cleanup import oom_kills
from .pipes import Pipes, Stream
from .protocol import (
    CellFacts,
    CellRecord,
    Hello,
    HelloReply,
    Outcome,
    ProtocolError,
    SessionClose,
    SessionClosed,
    SessionExec,
    SessionFacts,
    SessionFork,
    SessionLimits,
    SessionOpen,
)
from .settings import KILL_WAIT_S, SessionSandboxSettings
from .zygote_client import SandboxBroken, ZygoteClient

SAMPLE_S = 0.01  # a running cell's processes are read this often
QUEUED_S = 0.03  # what unix sockets hold queued (all of the sandbox's, one dump) is read this often
STRAYS_S = 0.1  # processes that left a running cell's tree are looked for this often
FORK_WAIT_S = 5.0  # a state has this long to fork for a command (it is the candidate's process)
RECORD_CAP = 1 << 20  # a cell's record: a repr and a traceback of 64 Ki characters each, JSON-escaped
CTL_BYTES = 4096
IDLE_WAKE_S = 1.0
DIRTY_RETRY_S = 2.0
WARM_STATES = 2  # first states made ahead, in free slots: an open takes one instead of forking the zygote
VERIFY_EVERY_S = 0.002  # a freed slot is checked (no process of its uid left, its tmpfs empty) this often
ENDED_REMEMBERED = 10_000
STOP_SLACK_NS = 2_000_000  # what a thread already shown stopped may still run on its way off its CPU
SLOW_DEATH = "its processes did not end when killed"
DID_NOT_STOP = "its process did not stop between commands (a thread of it held in the kernel)"
RAN_WHILE_IDLE = "its process ran while the session was idle (a process of its tree resumed it)"
RAN_DURING_CELL = "its process ran during the cell that was rolled back (a process of its tree resumed it)"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
# Writable by nobody but the runner in a session sandbox: a slot uid writes only its own tmpfs.
SHARED_DIRS = ("/tmp", "/dev/shm", "/w")


class SessionError(ProtocolError):
    """A request this runner refuses (an unknown or busy session): the host's bug or race."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise SessionError(f"bad session name {name[:80]!r}")
    return name


@dataclass
class Slot:
    index: int
    uid: int
    path: str
    tree: Tree | None = None
    clean: bool = True  # wiped and checked since its last tree: it may be handed out
    warm: Warm | None = None  # a first state made ahead for the next tree here
    verify_after: float = 0.0  # freed, not yet checked: when to look again (0: not pending)


@dataclass
class Warm:
    """A session's first state, made before any session asked (no candidate code has run in it)."""

    slot: Slot
    cwd: str
    tmp: str
    ctl: socket.socket
    pid_id: str
    ready: Stream
    pid: int = 0  # once it said it is ready


@dataclass
class Tree:
    slot: Slot
    tmp: str
    sessions: set[str] = field(default_factory=set)


@dataclass
class Session:
    name: str
    tree: Tree
    cwd: str
    state: int  # pid of the process holding the session's interpreter (stopped while idle)
    ctl: socket.socket  # the runner's end of the state's control socket
    limits: SessionLimits
    dir_fd: int  # its working directory, opened by the runner: its files are reached through this
    op: Cell | Forking | None = None
    # the state's time on a CPU (ns) once every thread of it had stopped, after the runner last
    # stopped it; None: not known (a first state, in which no candidate code has run, or a stop not
    # yet seen through); -1: it did not stop within the liveness bound
    still_ns: int | None = None
    stop_by: float = 0.0  # a stop sent, not yet seen through: by when it must be (0: none pending)

    @property
    def uid(self) -> int:
        return self.tree.slot.uid


@dataclass
class Cell:
    rid: int
    session: Session
    request: SessionExec
    pipes: Pipes
    ctl: socket.socket  # the control socket the cell's process keeps if it becomes the state
    started: float
    deadline: float
    oom_before: int
    # when the command was sent: the processes of the state's tree (the state, what is dying below it),
    # their CPU ticks, and the state's own resident pages -- all they use from then on is the cell's
    base_pids: frozenset[int]
    base_ticks: int
    base_rss: int
    child: int = 0  # the cell's process, once its state named it (0: not yet)
    code_writer: int = -1  # the pipe of the cell's code: held back until the cell is named
    cpu_ticks: int = 0
    peak_bytes: int = 0
    next_sample: float = 0.0
    next_strays: float = 0.0
    outcome: Outcome | None = None  # set when the cell is over


@dataclass
class Forking:
    rid: int
    session: Session
    new_name: str
    cwd: str
    dir_fd: int
    ctl: socket.socket
    deadline: float


Reply = Callable[[int, Any], None]


class SessionServer:
    """Every session of this sandbox, and the one loop that serves them."""

    def __init__(self, zygote: ZygoteClient, zygote_pid: int, settings: SessionSandboxSettings, toolchain: str) -> None:
        self.zygote = zygote
        self.zygote_pid = zygote_pid
        self.settings = settings
        self.toolchain = toolchain
        self.slots = [Slot(i, settings.first_uid + i, settings.slot_path(i)) for i in range(settings.slots)]
        self.owners = range(settings.first_uid, settings.first_uid + settings.slots)  # every slot's uid
        self.sessions: dict[str, Session] = {}
        self.ops: dict[int, Cell | Forking] = {}  # request id -> what is in flight
        # sessions this runner ended between their commands (the host learns at the next one): why
        self.ended: dict[str, str] = {}
        self.sel = selectors.DefaultSelector()
        self.conn: socket.socket | None = None
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.next_dirty_check = 0.0
        self.queued: tuple[float, dict[int, int]] = (-1.0, {})  # (when, unix socket bytes by uid)

    # -- the host's connection ---------------------------------------------
    def serve(self, listener: socket.socket) -> None:
        self._lock_shared_dirs()
        while True:
            conn, _ = listener.accept()
            try:
                self._serve(conn)
            except frames.ChannelClosed:
                pass
            except Exception as exc:
                # this sandbox's state is unknown now: say so, and end (the host replaces it)
                self.outbox.clear()
                where = traceback.format_exc(limit=-3).replace("\n", " | ")
                try:
                    conn.setblocking(True)
                    frames.write_json(conn.fileno(), {"ok": False, "broken": f"{exc!r} at {where}"[:2000]})
                except frames.ChannelClosed:
                    pass
                raise
            finally:
                self.sel.close()
                self.sel = selectors.DefaultSelector()
                self.conn = None
                conn.close()
                self.inbox.clear()
                self.outbox.clear()
                self._end_everything()

    def _serve(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        self.conn = conn
        self.sel.register(conn, selectors.EVENT_READ, ("host", None))
        self.sel.register(self.zygote.sock, selectors.EVENT_READ, ("zygote", None))
        while True:
            for key, mask in self.sel.select(self._timeout()):
                if self.sel.get_map().get(key.fd) is not key:
                    continue  # unregistered by an earlier event of this round (its cell ended, say)
                kind, ref = key.data
                if kind == "host":
                    if mask & selectors.EVENT_READ:
                        self._read_host()
                    if mask & selectors.EVENT_WRITE:
                        self._flush()
                elif kind == "zygote":
                    self.zygote.pump(0)
                    # (a first state still starting is looked up by its spawn id when it says it is ready)
                    self.zygote.forget_exits({w.pid_id for w in self._warms() if not w.pid})
                elif kind == "ctl":
                    self._ctl_readable(ref)
                elif kind == "out":
                    self._stream_readable(*ref)
                elif kind == "in":
                    self._writable(*ref)
                elif kind == "warm":
                    self._warm_ready(ref)
            self._tick()

    def _read_host(self) -> None:
        assert self.conn is not None
        try:
            chunk = self.conn.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:
            raise frames.ChannelClosed(str(exc)) from None
        if not chunk:
            raise frames.ChannelClosed("the host hung up")
        self.inbox += chunk
        header = protocol.FRAME_HEADER
        while len(self.inbox) >= header.size:
            (size,) = header.unpack_from(self.inbox)
            if size > protocol.MAX_FRAME_BYTES:
                raise frames.ChannelClosed(f"frame of {size} bytes")
            if len(self.inbox) < header.size + size:
                return
            raw = bytes(self.inbox[header.size : header.size + size])
            del self.inbox[: header.size + size]
            self._frame(raw)

    def _frame(self, raw: bytes) -> None:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise frames.ChannelClosed(f"malformed frame: {exc}") from None
        rid = data.get("id") if isinstance(data, dict) else None
        if type(rid) is not int:
            self._send({"ok": False, "error": "a session sandbox takes frames {id, request}"})
            return
        try:
            request: Any = protocol.load(protocol.SessionRequest, data.get("request"), "request")
            reply = self._handle(rid, request)
        except (ProtocolError, artifacts.BuildRequestError) as exc:
            self._send({"id": rid, "ok": False, "error": str(exc)})
            return
        if reply is not None:
            self.reply(rid, reply)

    def reply(self, rid: int, message: Any) -> None:
        self._send({"id": rid, "ok": True, "result": protocol.dump(message)})

    def _send(self, obj: dict[str, Any]) -> None:
        payload = frames.encode_json(obj)  # the host's reader: protocol.reply_cap
        self.outbox += protocol.FRAME_HEADER.pack(len(payload)) + payload
        self._flush()

    def _flush(self) -> None:
        if self.conn is None:
            return
        while self.outbox:
            try:
                n = self.conn.send(self.outbox[: 1 << 20])
            except BlockingIOError:
                break
            except OSError as exc:
                raise frames.ChannelClosed(str(exc)) from None
            del self.outbox[:n]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.outbox else 0)
        self.sel.modify(self.conn, events, ("host", None))

    # -- requests -----------------------------------------------------------
    def _handle(self, rid: int, request: Any) -> Any:
        if isinstance(request, Hello):
            return HelloReply(
                version=protocol.PROTOCOL_VERSION,
                python=sys.version.split()[0],
                toolchain=self.toolchain,
                leftovers=self.leftovers(),
                mode="sessions",
                slots=len(self.slots),
            )
        if isinstance(request, SessionOpen):
            return self._open(request)
        if isinstance(request, SessionExec):
            return self._exec(rid, request)
        if isinstance(request, SessionFork):
            return self._fork(rid, request)
        if isinstance(request, SessionClose):
            return self._close(request)
        raise SessionError(f"a session sandbox does not take {type(request).__name__}")

    def _session(self, name: str) -> Session:
        found = self.sessions.get(check_name(name))
        if found is None:
            raise SessionError(f"no session {name!r} here")
        if found.op is not None:
            raise SessionError(f"session {name!r} is busy")
        return found

    def _open(self, req: SessionOpen) -> SessionFacts:
        name = check_name(req.session)
        if name in self.sessions:
            raise SessionError(f"session {name!r} exists")
        for each in self.slots:  # a first state made ahead that has died since (the OOM killer) is no use
            if each.warm is not None and each.warm.pid and _gone(each.warm.pid):
                self._drop_warm(each)
        for each in self.slots:  # checked again as it is handed out: its root the uid's, 0700, its own tmpfs
            if each.tree is None and each.clean and not _root_ok(each):
                self._drop_warm(each)
                each.clean = False
                self._free(each)
        free = [s for s in self.slots if s.tree is None and s.clean] or self._await_freed()
        # a state made ahead if there is one; else one made now (waiting for one under way if that is all)
        slot = next((s for s in free if s.warm is not None and s.warm.pid), None)
        slot = slot or next((s for s in free if s.warm is None), None) or next(iter(free), None)
        if slot is None:
            return SessionFacts(ok=False, full=True, error="no free slot in this sandbox")
        warm = slot.warm or self._warm(slot)
        if warm is None:
            return SessionFacts(ok=False, error="cannot make a session's directory here")
        if not warm.pid:
            self._await_warm(warm)
        slot.warm = None
        tree = Tree(slot, warm.tmp)
        slot.tree = tree
        if not warm.pid:
            warm.ctl.close()
            self._end_tree(tree)
            return SessionFacts(ok=False, error="a session process failed during set-up")
        try:
            with artifacts.files_as(slot.uid):
                dir_fd = treefiles.open_dir(warm.cwd)
        except OSError:
            warm.ctl.close()
            self._end_tree(tree)
            return SessionFacts(ok=False, error="cannot open a session's directory here")
        session = Session(name, tree, warm.cwd, warm.pid, warm.ctl, req.limits, dir_fd)
        self.sessions[name] = session
        tree.sessions.add(name)
        errors = workfiles.write_files(dir_fd, req.files, slot.uid)
        if errors:
            self._end_session(session)
            return SessionFacts(ok=False, refused=True, error="; ".join(errors)[:2000])
        return SessionFacts(ok=True)

    def _warm(self, slot: Slot) -> Warm | None:
        """Start a session's first state in a free slot (forked from the zygote as the slot's uid);
        it says it is ready later (``_warm_ready``) and waits for the session that takes it."""
        uid = slot.uid
        try:
            cwd = artifacts.make_private_dir(slot.path, uid, "")
            tmp = artifacts.make_private_dir(slot.path, uid, "tmp-")
        except OSError:
            slot.clean = False  # a fresh slot that takes no directory: wiped and checked again before use
            self._free(slot)
            return None
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mine.setblocking(False)
        pipes = Pipes()
        fds = [
            pipes.to_child(b""),
            pipes.from_child("stdout", 0),
            pipes.from_child("stderr", 0),
            pipes.to_child(json.dumps({"cwd": cwd, "tmp": tmp}).encode()),
            pipes.from_child("ready", 16),
            pipes.adopt(theirs.detach()),
        ]
        proc_limits = {
            "nproc": self.settings.nproc,
            "cpu_s": 3600,  # per process: a backstop far above any cell's (cells are fresh processes)
            # the address space backstop: the most any session may be given (its own limit is sampled)
            "address_space_bytes": (self.settings.max_memory_mb + 256) << 20,
            "file_size_bytes": 1 << 30,  # the slot's tmpfs caps what it may write
            "msgqueue_bytes": 0,
        }
        try:
            pid_id = self.zygote.request("session", uid, fds, cwd=cwd, limits=proc_limits)
        finally:
            pipes.close_child_ends()
        ready = pipes.streams.pop("ready")
        for fd in pipes.writers:  # its empty stdin, its payload: a few bytes, into empty pipes at once
            pipes.write_some(fd)
        pipes.close()  # its stdout and stderr go nowhere (a cell has pipes of its own)
        warm = Warm(slot, cwd, tmp, mine, pid_id, ready)
        slot.warm = warm
        self.sel.register(ready.fd, selectors.EVENT_READ, ("warm", warm))
        return warm

    def _warm_ready(self, warm: Warm) -> None:
        """The state said it is ready (or ended: set-up failed); it is stopped until a session takes it."""
        if warm.ready.read_some():
            return
        self._unregister(warm.ready.fd)
        os.close(warm.ready.fd)
        deadline = time.monotonic() + KILL_WAIT_S
        while warm.pid_id not in self.zygote.pids and warm.pid_id not in self.zygote.failed:
            if time.monotonic() > deadline:
                raise SandboxBroken("the zygote did not answer a spawn request")
            self.zygote.pump(deadline - time.monotonic())
        pid = self.zygote.pids.get(warm.pid_id, 0)
        if warm.ready.data != b"R" or not pid or warm.pid_id in self.zygote.exited:
            return  # left at pid 0: the slot is torn down when it is taken, or at the next refill
        # left running: no candidate code has run in it, it sets up and waits for its first command
        # (it is stopped after that command, as every state between commands)
        warm.pid = pid

    def _await_freed(self) -> list[Slot]:
        """No slot is free: wait for one just freed to pass its check (its zombies being reaped)."""
        pending = [slot for slot in self.slots if slot.verify_after]
        deadline = time.monotonic() + KILL_WAIT_S
        while pending and time.monotonic() < deadline:
            self.zygote.pump(0.0005)
            for slot in pending:
                self._check_freed(slot, time.monotonic())
            free = [slot for slot in pending if slot.clean]
            if free:
                return free
            pending = [slot for slot in pending if slot.verify_after]
        return []

    def _await_warm(self, warm: Warm) -> None:
        deadline = time.monotonic() + KILL_WAIT_S
        while warm.ready.open and time.monotonic() < deadline:
            sel = selectors.DefaultSelector()
            try:
                sel.register(warm.ready.fd, selectors.EVENT_READ)
                sel.select(deadline - time.monotonic())
            finally:
                sel.close()
            self._warm_ready(warm)

    def _refill(self) -> None:
        """Keep WARM_STATES first states ready in free slots (when nothing else is waiting)."""
        warm = sum(1 for s in self.slots if s.warm is not None)
        for slot in self.slots:
            if warm >= WARM_STATES:
                return
            if slot.tree is None and slot.clean and slot.warm is None:
                self._warm(slot)
                warm += 1
            elif slot.warm is not None and not slot.warm.pid and not slot.warm.ready.open:
                self._drop_warm(slot)  # its set-up failed: the slot is wiped and made again

    def _exec(self, rid: int, req: SessionExec) -> CellFacts | None:
        why = self._ended_between(req.session)
        if why:
            return CellFacts(outcome=Outcome.EXITED, committed=False, gone=why)
        s = self._session(req.session)
        errors = workfiles.write_files(s.dir_fd, req.files, s.uid)
        if errors:
            return CellFacts(outcome=Outcome.EXITED, committed=False, refused="; ".join(errors)[:2000])
        pipes = Pipes()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mine.setblocking(False)
        cap = s.limits.output_bytes
        try:
            code_reader, code_writer = pipes.to_child_ends(req.code.encode("utf-8", "surrogateescape"))
            fds = [
                pipes.to_child(req.stdin),
                pipes.from_child("stdout", cap),
                pipes.from_child("stderr", cap),
                code_reader,
                pipes.from_child("result", RECORD_CAP),
                pipes.adopt(theirs.detach()),
            ]
            base = self._state_tree(s)
            now = time.monotonic()
            sent = self._command(s, {"op": "cell"}, fds)
        finally:
            pipes.close_child_ends()
        # the cell's time runs from now: until the state names the cell's process, the deadline is
        # also the state's to fork in (whatever the state does meanwhile is the cell's CPU too)
        deadline = now + max(req.limits.wall_s, FORK_WAIT_S)
        cell = Cell(rid, s, req, pipes, mine, now, deadline, oom_kills(), *base, code_writer=code_writer)
        if not sent:
            pipes.close()
            mine.close()
            return self._gone_cell(s, cell, "its process is gone")
        s.op = cell
        self.ops[rid] = cell
        self.sel.register(s.ctl, selectors.EVENT_READ, ("ctl", cell))
        # Its code goes only once the runner has named its process: until then the cell has
        # nothing of its own to run, so it cannot kill its state (its parent, same uid) or end
        # before the kernel's word on it is read -- the state being alive is the proof.
        for fd in pipes.writers:
            if fd != code_writer:
                self._feed(cell, fd)
        for name, stream in pipes.streams.items():
            self.sel.register(stream.fd, selectors.EVENT_READ, ("out", (cell, name)))
        return None

    def _fork(self, rid: int, req: SessionFork) -> SessionFacts | None:
        why = self._ended_between(req.session)
        if why:
            return SessionFacts(ok=False, error=f"the session is gone: {why}", gone=why)
        s = self._session(req.session)
        new_name = check_name(req.new_session)
        if new_name in self.sessions:
            raise SessionError(f"session {new_name!r} exists")
        uid = s.uid
        try:
            cwd = artifacts.make_private_dir(s.tree.slot.path, uid, "")
            with artifacts.files_as(uid):
                dir_fd = treefiles.open_dir(cwd)
        except OSError as exc:
            return SessionFacts(ok=False, error=f"cannot make its directory: {exc.strerror}")
        try:
            room = os.statvfs(s.tree.slot.path)  # the tree's own tmpfs: no copy can need more
            with artifacts.files_as(uid):
                treefiles.copy_tree(s.dir_fd, dir_fd, room.f_blocks * room.f_frsize, room.f_files)
        except OSError as exc:  # (anything of the tree's files is this fork's failure, never the sandbox's)
            self._drop_dir(cwd, dir_fd)
            why = "its session's files exceed the room left" if exc.errno == errno.ENOSPC else str(exc)[:500]
            return SessionFacts(ok=False, error=f"cannot copy its working directory: {why}")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sent = self._command(s, {"op": "fork", "cwd": cwd}, [theirs.fileno()])
        finally:
            theirs.close()
        if not sent:
            mine.close()
            self._drop_dir(cwd, dir_fd)
            return self._gone_facts(s, "its process ended")
        mine.setblocking(False)
        op = Forking(rid, s, new_name, cwd, dir_fd, mine, time.monotonic() + FORK_WAIT_S)
        s.op = op
        self.ops[rid] = op
        self.sel.register(s.ctl, selectors.EVENT_READ, ("ctl", op))
        return None

    def _close(self, req: SessionClose) -> SessionClosed:
        s = self.sessions.get(check_name(req.session))
        if s is None:
            return SessionClosed(existed=False)
        if s.op is not None:
            self._abort(s.op)
        return SessionClosed(existed=True, clean=self._end_session(s))

    def _command(self, s: Session, command: dict[str, Any], fds: list[int]) -> bool:
        """Wake the state and hand it a command with descriptors; False if it is gone."""
        s.still_ns, s.stop_by = None, 0.0  # (it runs now: a stop not seen through is moot)
        if not self._signal(s, [s.state], signal.SIGCONT):
            return False
        try:
            socket.send_fds(s.ctl, [json.dumps(command).encode()], fds)
        except OSError:  # gone, or not reading its commands (its buffer full): either way, gone
            return False
        return True

    def _signal(self, s: Session, pids: list[int], sig: int) -> bool:
        """Signal a session's processes (never the zygote or the runner); whether any was reached."""
        targets = [p for p in pids if p > 1 and p != self.zygote_pid]
        return proctree.kill_as(s.uid, targets, sig) > 0

    def _stop(self, s: Session) -> None:
        """Stop the session's state. Never waits: a thread may be held in the kernel (a vfork
        parent waits for its child's exec) and the runner serves every session; the stop is seen
        through at a later look (``_confirm``: every tick, and before the state is trusted)."""
        self._signal(s, [s.state], signal.SIGSTOP)
        s.still_ns, s.stop_by = None, time.monotonic() + KILL_WAIT_S
        self._confirm(s)

    def _confirm(self, s: Session) -> None:
        """A pending stop: once every thread of the state has stopped, its time on a CPU is noted;
        past the liveness bound it counts as a state that ran (-1); until then it is sent again
        (a process of its tree may have sent SIGCONT meanwhile)."""
        if not s.stop_by:
            return
        stopped, ran = proctree.still(s.state)
        gone = not stopped and _gone(s.state)
        if stopped or gone or time.monotonic() > s.stop_by:
            s.still_ns = ran if stopped else None if gone else -1
            s.stop_by = 0.0
            if stopped and s.op is None:  # it can start nothing more: whatever it started while it ran goes
                self._kill_below(s, s.state)
            return
        self._signal(s, [s.state], signal.SIGSTOP)

    def _untouched(self, s: Session) -> bool:
        """The state has not run since the runner stopped it, as far as the kernel shows. Any
        process of the tree (a cell of this session or of another) has the state's uid and may
        send it SIGCONT; a state that ran outside a command is no longer what its commands left,
        and its CPU was no cell's. (A stop not yet seen through proves nothing either way; a thread
        seen stopped may still be leaving its CPU: STOP_SLACK_NS.)"""
        self._confirm(s)
        if s.still_ns is None:
            return True
        stopped, ran = proctree.still(s.state)
        return stopped and 0 <= ran - s.still_ns <= STOP_SLACK_NS

    def _check_idle(self, tree: Tree) -> None:
        """Every idle session of ``tree`` as the runner stopped it; one that ran is ended at once."""
        for name in list(tree.sessions):
            x = self.sessions.get(name)
            if x is not None and x.op is None and not self._untouched(x):
                self._end_between(x, RAN_WHILE_IDLE)

    def _end_between(self, s: Session, why: str) -> None:
        """End a session between its commands; its next command is told why (never "no session")."""
        self._end_session(s)
        self.ended[s.name] = why
        while len(self.ended) > ENDED_REMEMBERED:
            del self.ended[next(iter(self.ended))]

    def _ended_between(self, name: str) -> str:
        """Why the runner ended this session between its commands ('' if it did not); checked first
        on every command, an idle session whose state ran since it was stopped is ended here too."""
        found = self.sessions.get(name)
        if found is not None and found.op is None and not self._untouched(found):
            self._end_between(found, RAN_WHILE_IDLE)
        return self.ended.pop(name, "")

    # -- events -------------------------------------------------------------
    def _ctl_readable(self, op: Cell | Forking) -> None:
        s = op.session
        try:
            msg = s.ctl.recv(CTL_BYTES)
        except BlockingIOError:
            return
        except OSError:
            msg = b""
        try:
            said = json.loads(msg) if msg else {}
            pid, refused = said.get("pid", 0), str(said.get("error", ""))[:500]
        except (ValueError, AttributeError, TypeError):
            pid, refused = 0, ""
        if pid == 0 and refused:  # it could not fork (its tree is at its process limit): still the state
            self._unregister(s.ctl)
            self._stop(s)
            self._kill_below(s, s.state)  # (it ran: what it started meanwhile goes)
            self._refused(op, f"the session could not start it: {refused}")
            return
        st = proctree.stat(pid) if type(pid) is int and pid > 1 else None
        # the kernel's word, not the state's: it must be a live child of this session's state -- or,
        # when the cell has already killed that state (its own parent: same uid), a process of this
        # tree the zygote took in as its orphan; never another session's state
        # (a zombie child is a cell that has ended already: it is named all the same)
        named = st is not None and not self._known(pid) and pid != self.zygote_pid
        if named and st is not None and st.ppid != s.state:
            named = st.ppid == self.zygote_pid and not st.gone and _gone(s.state) and proctree.real_uid(pid) == s.uid
        self._unregister(s.ctl)
        if isinstance(op, Forking):
            self._forked(op, pid if named else 0)
            return
        if not named:
            self._finish(op, Outcome.EXITED, why="the session's process did not start the cell")
            return
        op.child = pid
        self._stop(s)  # (from here on until the cell ends, the state must not run: checked then)
        if op.code_writer in op.pipes.writers:  # (held back until now: see _exec)
            self._feed(op, op.code_writer)
        # the wall clock ran from the command, not from when the state chose to name its cell
        op.deadline = op.started + op.request.limits.wall_s
        if not op.pipes.streams["result"].open:  # it was done before its name came in
            self._finish(op, Outcome.EXITED)

    def _refused(self, op: Cell | Forking, why: str) -> None:
        """A command the state could not carry out; the session is as it was."""
        s = op.session
        op.ctl.close()
        if isinstance(op, Forking):
            s.op = None
            del self.ops[op.rid]
            self._drop_dir(op.cwd, op.dir_fd)
            self.reply(op.rid, SessionFacts(ok=False, error=why))
            return
        op.outcome = Outcome.EXITED
        self._drop_cell(op)
        self.reply(op.rid, CellFacts(outcome=Outcome.EXITED, committed=False, refused=why))

    def _known(self, pid: int) -> bool:
        return any(s.state == pid for s in self.sessions.values())

    def _forked(self, op: Forking, pid: int) -> None:
        s = op.session
        s.op = None
        del self.ops[op.rid]
        if pid == 0:
            op.ctl.close()
            self._drop_dir(op.cwd, op.dir_fd)
            self.reply(op.rid, self._gone_facts(s, "the session's process did not fork"))
            return
        new = Session(op.new_name, s.tree, op.cwd, pid, op.ctl, s.limits, op.dir_fd)
        self.sessions[new.name] = new
        s.tree.sessions.add(new.name)
        self._stop(s)
        self._stop(new)
        # both states ran to fork: whatever else they started meanwhile goes, as after a cell (and
        # again once each stop is seen through: ``_confirm``)
        if not (self._kill_below(s, s.state) and self._kill_below(new, new.state)):
            self.reply(op.rid, SessionFacts(ok=False, error=f"the session is gone: {SLOW_DEATH}", gone=SLOW_DEATH))
            return
        self.reply(op.rid, SessionFacts(ok=True))

    def _gone_facts(self, s: Session, why: str) -> SessionFacts:
        self._end_session(s)
        return SessionFacts(ok=False, error=f"the session is gone: {why}", gone=why)

    def _stream_readable(self, cell: Cell, name: str) -> None:
        stream = cell.pipes.streams[name]
        if not stream.read_some():
            self.sel.unregister(stream.fd)
            if name == "result" and cell.outcome is None and cell.child:
                self._finish(cell, Outcome.EXITED)
            return
        if name in ("stdout", "stderr") and stream.total > stream.cap and cell.outcome is None:
            self._finish(cell, Outcome.OUTPUT_LIMIT)

    def _feed(self, cell: Cell, fd: int) -> None:
        """Write ``fd``'s bytes into the cell's pipe as it takes them."""
        self.sel.register(fd, selectors.EVENT_WRITE, ("in", (cell, fd)))

    def _writable(self, cell: Cell, fd: int) -> None:
        if cell.pipes.write_some(fd):
            self.sel.unregister(fd)
            os.close(fd)
            del cell.pipes.writers[fd]

    def _timeout(self) -> float:
        now = time.monotonic()
        wake = now + IDLE_WAKE_S
        for slot in self.slots:
            if slot.verify_after:
                wake = min(wake, slot.verify_after)
        for op in self.ops.values():
            wake = min(wake, op.deadline)
            if isinstance(op, Cell):
                wake = min(wake, op.next_sample)
        if any(s.stop_by for s in self.sessions.values()):  # (a stop to see through)
            wake = min(wake, now + SAMPLE_S)
        return max(0.0, wake - now)

    def _tick(self) -> None:
        now = time.monotonic()
        for pending in [x for x in self.sessions.values() if x.stop_by]:
            self._confirm(pending)
            if pending.op is None and pending.still_ns == -1 and pending.name in self.sessions:
                self._end_between(pending, DID_NOT_STOP)
        for op in list(self.ops.values()):
            if isinstance(op, Forking):
                if now > op.deadline and op.rid in self.ops:
                    self._unregister(op.session.ctl)
                    self._forked(op, 0)
                continue
            if op.outcome is not None:
                continue
            if now > op.deadline:
                self._finish(op, Outcome.TIMEOUT if op.child else Outcome.EXITED, why="" if op.child else "no answer")
                continue
            if now < op.next_sample:
                continue  # (sampled before its state names it too: the state's CPU meanwhile is the cell's)
            op.next_sample = now + SAMPLE_S
            hit = self._sample(op)
            if hit is not None:
                self._finish(op, hit)
                continue
            if now >= op.next_strays and op.child:
                op.next_strays = now + STRAYS_S
                self._kill_strays(op.session)
                self._check_idle(op.session.tree)
            if not op.child:
                continue
            st = proctree.stat(op.child)
            if st is None or st.gone:  # the cell's process ended without closing its record
                self._finish(op, Outcome.EXITED)
        for slot in self.slots:
            if slot.verify_after and now >= slot.verify_after:
                self._check_freed(slot, now)
        if now >= self.next_dirty_check:
            self.next_dirty_check = now + DIRTY_RETRY_S
            for slot in self.slots:
                if slot.tree is None and not slot.clean and not slot.verify_after:
                    slot.clean = self._wipe_slot(slot)
        if not self.ops and not self.inbox:
            self._refill()

    def _sample(self, cell: Cell, final: bool = False) -> Outcome | None:
        """The cell's processes' CPU and memory (its tree's files included), against its limits.

        The cell's CPU is everything the session's state and every process below it (other
        sessions' states and theirs left out) used since the command was sent, and everything
        below the cell's process: the state runs between the command and naming its cell, and
        may run any thread it likes meanwhile -- all of it is the cell's."""
        s = cell.session
        others = {x.state for x in self.sessions.values()} - {s.state}
        pids = proctree.descendants(s.state, stop_at=others)
        if cell.child:
            pids += [p for p in proctree.descendants(cell.child, stop_at=others) if p not in pids]
        ticks = rss = 0
        for pid in pids:
            st = proctree.stat(pid)
            if st is None:
                continue
            ticks += st.cpu_ticks
            if pid == s.state:  # what the state grew by since (it is stopped between commands)
                rss += max(0, st.rss_pages - cell.base_rss)
            elif pid not in cell.base_pids:  # (an earlier cell's process still dying is not this one's)
                rss += st.rss_pages
        ticks -= cell.base_ticks
        cell.cpu_ticks = max(cell.cpu_ticks, ticks)
        # its tree's files and what its tree's unix sockets hold queued are its memory too (kernel
        # memory of the sandbox's cgroup, in no process's RSS)
        queued = self._queued_bytes(s.uid, final)
        memory = rss * proctree.PAGE + _files_bytes(s.tree.slot.path) + queued
        cell.peak_bytes = max(cell.peak_bytes, memory)
        if cell.cpu_ticks / proctree.TICKS > cell.request.limits.cpu_s:
            return Outcome.CPU_LIMIT
        # (memory is held against the limit once the cell is named: what the state grew by meanwhile
        # counts then; before, a tree's files or sockets over the limit would end the session, not the cell)
        if cell.child and memory > cell.session.limits.memory_mb << 20:
            return Outcome.MEMORY_LIMIT
        return None

    # -- the end of a cell ----------------------------------------------------
    def _finish(self, cell: Cell, outcome: Outcome, why: str = "") -> None:
        """Commit the cell's state or roll it back, clean up, answer the host."""
        s = cell.session
        cell.outcome = outcome
        wall = time.monotonic() - cell.started
        if not cell.child:  # the state never named its cell's process: it is not answering
            self._drop_cell(cell)
            self.reply(cell.rid, self._gone_cell(s, cell, why or "its process does not answer"))
            return
        self._signal(s, [cell.child], signal.SIGSTOP)
        intact = self._untouched(s)  # the state (stopped when it named the cell) has not run since
        late = self._sample(cell, final=True)
        if outcome is Outcome.EXITED and late is not None:
            outcome = late
        record = _record(cell.pipes.streams["result"]) if outcome is Outcome.EXITED else None
        if not self._kill_below(s, cell.child):
            return  # (its tree was ended, this cell answered with it)
        st = proctree.stat(cell.child)
        alive = st is not None and not st.gone
        committed = outcome is Outcome.EXITED and record is not None and alive
        if committed:
            self._signal(s, [s.state], signal.SIGKILL)
            s.state = cell.child
            s.ctl.close()
            s.ctl = cell.ctl
        else:
            self._signal(s, [cell.child], signal.SIGKILL)
            # (and dead before the session goes on: what it holds -- memory, queued sockets -- is freed)
            if not self._kill_below(s, cell.child) or not self._await_gone(s, cell.child):
                return
            cell.ctl.close()
        self._kill_strays(s)
        # the state the session goes on from: stopped (a cell may have resumed it), nothing below it
        self._stop(s)
        if not self._kill_below(s, s.state):
            return
        self._check_idle(s.tree)
        self.queued = (-1.0, {})  # (what the cell's processes held queued is freed: read anew)
        # (how a dead cell's process ended is not the runner's to read: /proc shows another
        # uid's exit status only to a tracer, and the runner is none)
        out, err = cell.pipes.streams["stdout"], cell.pipes.streams["stderr"]
        out.drain_now()
        err.drain_now()
        fetched: dict[str, bytes] = {}
        file_errors: list[str] = []
        if cell.request.fetch:
            fetched, file_errors = workfiles.read_files(s.cwd, cell.request.fetch, s.uid, cell.request.fetch_max_bytes)
        facts = CellFacts(
            outcome=outcome,
            committed=committed,
            wall_s=wall,
            cpu_s=cell.cpu_ticks / proctree.TICKS,
            peak_memory_kb=cell.peak_bytes >> 10,
            stdout=out.bytes[: out.cap],
            stderr=err.bytes[: err.cap],
            stdout_bytes=out.total,
            stderr_bytes=err.total,
            record=record,
            oom_killed=not committed and outcome is Outcome.EXITED and oom_kills() > cell.oom_before,
            files=fetched,
            file_errors=file_errors,
        )
        self._drop_cell(cell)
        if _gone(s.state):  # the state the session goes on from has ended (the OOM killer, say)
            self.reply(cell.rid, self._gone_cell(s, cell, "its process ended", facts))
            return
        if not committed and not intact:  # rolled back to a state that ran during the cell
            self.reply(cell.rid, self._gone_cell(s, cell, RAN_DURING_CELL, facts))
            return
        self.reply(cell.rid, facts)

    def _gone_cell(self, s: Session, cell: Cell, why: str, facts: CellFacts | None = None) -> CellFacts:
        self._end_session(s)
        wall = time.monotonic() - cell.started
        cpu = cell.cpu_ticks / proctree.TICKS  # (a state that burned before naming its cell: what it burned)
        base = facts or CellFacts(outcome=cell.outcome or Outcome.EXITED, committed=False, wall_s=wall, cpu_s=cpu)
        return dataclasses.replace(base, committed=False, gone=why)

    def _drop_cell(self, cell: Cell) -> None:
        s = cell.session
        for fd in list(cell.pipes.writers):
            self._unregister(fd)
        for stream in cell.pipes.streams.values():
            self._unregister(stream.fd)
        self._unregister(s.ctl)
        cell.pipes.close()
        s.op = None
        self.ops.pop(cell.rid, None)

    def _unregister(self, fileobj: Any) -> None:
        try:
            self.sel.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    def _abort(self, op: Cell | Forking) -> None:
        """The session is being closed with a command in flight: the command ends now."""
        s = op.session
        if isinstance(op, Forking):
            self._unregister(s.ctl)
            s.op = None
            del self.ops[op.rid]
            op.ctl.close()
            self._drop_dir(op.cwd, op.dir_fd)
            self.reply(op.rid, SessionFacts(ok=False, error="the session was closed"))
            return
        op.outcome = Outcome.ABORTED
        if op.child:
            self._signal(s, [op.child], signal.SIGKILL)
            if not self._kill_below(s, op.child):
                return  # (its tree was ended, this cell answered with it)
        op.ctl.close()
        facts = CellFacts(
            outcome=Outcome.ABORTED,
            committed=False,
            wall_s=time.monotonic() - op.started,
            gone="the session was closed",
        )
        self._drop_cell(op)
        self.reply(op.rid, facts)

    # -- processes ------------------------------------------------------------
    def _queued_bytes(self, uid: int, fresh: bool) -> int:
        """What ``uid``'s unix sockets hold queued: one sock_diag dump (~2 us a socket) serves every
        running cell for QUEUED_S; a cell's last sample takes a fresh one."""
        now = time.monotonic()
        if fresh or now - self.queued[0] >= QUEUED_S:
            self.queued = (now, proctree.unix_socket_bytes())
        return self.queued[1].get(uid, 0)

    def _state_tree(self, s: Session) -> tuple[frozenset[int], int, int]:
        """The processes of a session's state's tree now, their CPU ticks, the state's resident pages."""
        others = {x.state for x in self.sessions.values()} - {s.state}
        pids = proctree.descendants(s.state, stop_at=others)
        ticks = rss = 0
        for pid in pids:
            st = proctree.stat(pid)
            if st is not None:
                ticks += st.cpu_ticks
                rss = st.rss_pages if pid == s.state else rss
        return frozenset(pids), ticks, rss

    def _await_gone(self, s: Session, pid: int) -> bool:
        """Wait (polling, up to the liveness bound) for a SIGKILLed process of ``s`` to be dead; past
        the bound its tree is ended (as in ``_kill_below``)."""
        deadline = time.monotonic() + KILL_WAIT_S
        pause = 0.0005
        while not _gone(pid):
            if time.monotonic() > deadline:
                self._end_tree(s.tree, SLOW_DEATH)
                return False
            self._signal(s, [pid], signal.SIGKILL)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return True

    def _kill_below(self, s: Session, top: int) -> bool:
        """Kill every process below ``top`` (not ``top``, nor another session's state and
        what is below it: a fork's state is its parent's child until the parent ends).

        A SIGKILLed process may take long to die (freeing a large address space): it is
        waited for, polling, up to a liveness bound (KILL_WAIT_S). Past it, this session's
        whole tree is ended (its uid's processes killed, its slot checked before reuse) and
        False is returned: a slow death is one tree's failure, never the sandbox's."""
        states = {x.state for x in self.sessions.values()} - {top}
        deadline = time.monotonic() + KILL_WAIT_S
        pause = 0.0005
        while True:
            below = [p for p in proctree.descendants(top, stop_at=states)[1:] if not _gone(p)]
            if not below:
                return True
            if time.monotonic() > deadline:
                self._end_tree(s.tree, SLOW_DEATH)
                return False
            self._signal(s, below, signal.SIGKILL)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _kill_strays(self, s: Session) -> None:
        """Kill the processes that left a cell of ``s`` (they belong to no session and no running cell).

        A cell's processes stay below the cell's process (a child subreaper);
        one that leaves (its parents gone and the subreaper flag cleared) lands
        on the nearest subreaper above: the session's state, or the zygote,
        where it is found here and killed.
        """
        states = {x.state for x in self.sessions.values()} | {w.pid for w in self._warms()}
        cells = {op.child for op in self.ops.values() if isinstance(op, Cell) and op.child}
        where = [self.zygote_pid]
        if s.op is None or (isinstance(s.op, Cell) and s.op.child):  # (not while it is about to name a child)
            where.append(s.state)
        helpers = set(self.zygote.pids.values())
        for parent in where:
            for pid in proctree.children(parent):
                if pid in states or pid in cells or pid in helpers or _gone(pid):
                    continue
                # only this tree's: the zygote's other children include first states of free slots
                # still starting (their spawn not yet answered)
                if proctree.real_uid(pid) == s.uid:
                    proctree.kill_as(s.uid, [pid])

    def _warms(self) -> list[Warm]:
        return [slot.warm for slot in self.slots if slot.warm is not None]

    def _end_session(self, s: Session) -> bool:
        """Everything of one session gone; its tree's slot wiped if it was the last. Whether all is clean."""
        self.sessions.pop(s.name, None)
        tree = s.tree
        tree.sessions.discard(s.name)
        self._unregister(s.ctl)
        s.ctl.close()
        if not tree.sessions:
            self._close_dir(s)  # (an open descriptor would keep its inode in the slot's tmpfs)
            return self._end_tree(tree)
        self._signal(s, [s.state], signal.SIGKILL)
        if not self._kill_below(s, s.state):
            self._close_dir(s)
            return False  # (its tree was ended)
        # dead is enough: a fork's state is its parent state's child until that one ends, and a
        # stopped parent reaps it only when it next runs (it counts against its tree, no more)
        deadline = time.monotonic() + KILL_WAIT_S
        while not _gone(s.state) and time.monotonic() < deadline:
            self.zygote.pump(0.001)
        fd, s.dir_fd = s.dir_fd, -1
        self._drop_dir(s.cwd, fd)
        return True

    def _end_tree(self, tree: Tree, why: str = "") -> bool:
        """The tree's processes killed and its files removed now; its slot is handed out again once
        checked (``_check_freed``: no process of its uid left, zombies included, its tmpfs empty).
        A command still in flight in one of its sessions is answered: the session is gone."""
        slot = tree.slot
        for name in list(tree.sessions):
            found = self.sessions.pop(name, None)
            if found is None:
                continue
            if found.op is not None:
                self._orphan(found.op, why or "its tree was ended")
            self._unregister(found.ctl)
            found.ctl.close()
            self._close_dir(found)
        tree.sessions.clear()
        slot.tree = None
        slot.clean = False
        self._free(slot)
        return True

    def _orphan(self, op: Cell | Forking, why: str) -> None:
        """A command of a session whose tree is being ended: dropped, and answered as gone."""
        if isinstance(op, Forking):
            s = op.session
            self._unregister(s.ctl)
            s.op = None
            self.ops.pop(op.rid, None)
            op.ctl.close()
            os.close(op.dir_fd)  # (the directory goes with the slot's wipe)
            self.reply(op.rid, SessionFacts(ok=False, error=f"the session is gone: {why}", gone=why))
            return
        op.outcome = op.outcome or Outcome.EXITED
        op.ctl.close()
        self._drop_cell(op)
        wall = time.monotonic() - op.started
        facts = CellFacts(outcome=op.outcome, committed=False, wall_s=wall, cpu_s=op.cpu_ticks / proctree.TICKS)
        self.reply(op.rid, dataclasses.replace(facts, gone=why))

    @staticmethod
    def _close_dir(s: Session) -> None:
        if s.dir_fd >= 0:
            os.close(s.dir_fd)
            s.dir_fd = -1

    def _drop_dir(self, path: str, fd: int) -> None:
        """A session's working directory (not its tree's last): closed and removed."""
        if fd >= 0:
            os.close(fd)
        treefiles.remove_tree(path, self.owners)

    def _free(self, slot: Slot) -> None:
        """Kill what runs under the slot's uid and remove its files; checked from the next round on."""
        uid = slot.uid
        found = [pid for pid in proctree.of_uid(uid) if not _gone(pid)]
        if found:
            proctree.kill_as(uid, found)
        treefiles.wipe(slot.path, self.owners)  # (its root made 0700 again first: see _root_ok)
        slot.verify_after = time.monotonic() + VERIFY_EVERY_S
        slot.clean = False

    def _check_freed(self, slot: Slot, now: float) -> None:
        left = proctree.of_uid(slot.uid)
        if left or not _slot_empty(slot.path) or not _root_ok(slot):
            if now - slot.verify_after > KILL_WAIT_S:  # killed and still there: the slow path
                slot.verify_after = 0.0
                return
            self._free(slot)  # (a process forked as it was killed, a file written as it died)
            slot.verify_after = now + (VERIFY_EVERY_S if not left else 0.0005)
            return
        slot.verify_after = 0.0
        slot.clean = True

    def _drop_warm(self, slot: Slot) -> None:
        warm = slot.warm
        if warm is None:
            return
        slot.warm = None
        self._unregister(warm.ready.fd)
        if warm.ready.open:
            os.close(warm.ready.fd)
            warm.ready.open = False
        warm.ctl.close()
        self._free(slot)

    def _wipe_slot(self, slot: Slot) -> bool:
        """Kill every process of the slot's uid until none is left (zombies reaped too), remove its
        files, and check: no process of the uid, nothing in its tmpfs."""
        uid = slot.uid
        deadline = time.monotonic() + KILL_WAIT_S
        while found := proctree.of_uid(uid):
            # a SIGKILLed process cannot fork: rounds until none is left, the zygote reaping the dead
            alive = [pid for pid in found if not _gone(pid)]
            if alive:
                proctree.kill_as(uid, alive)
            if time.monotonic() > deadline:
                return False
            self.zygote.pump(0.0005)
        failed = treefiles.wipe(slot.path, self.owners)
        return failed == 0 and _slot_empty(slot.path) and _root_ok(slot) and not proctree.of_uid(uid)

    def _end_everything(self) -> None:
        for op in list(self.ops.values()):
            if isinstance(op, Cell):
                op.pipes.close()
            else:
                os.close(op.dir_fd)
            op.ctl.close()
        self.ops.clear()
        for s in list(self.sessions.values()):
            s.ctl.close()
            self._close_dir(s)
        self.sessions.clear()
        for slot in self.slots:
            if slot.warm is not None:
                self._drop_warm(slot)
            if slot.tree is not None or not slot.clean:
                slot.tree = None
                slot.verify_after = 0.0
                slot.clean = self._wipe_slot(slot)

    # -- the sandbox as a whole -------------------------------------------------
    def _lock_shared_dirs(self) -> None:
        """Nothing but a slot may be writable by a slot uid (the host mounts them so; made sure here)."""
        for path in SHARED_DIRS:
            try:
                if os.stat(path).st_mode & 0o022 and not os.statvfs(path).f_flag & os.ST_RDONLY:
                    os.chmod(path, 0o755)
            except OSError:
                pass

    def leftovers(self) -> list[str]:
        """What a fresh session sandbox must not have: a slot that is not its uid's empty private tmpfs,
        or a shared directory a slot uid could write."""
        found = []
        for slot in self.slots:
            try:
                st = os.stat(slot.path)
            except OSError as exc:
                found.append(f"slot {slot.path}: {exc.strerror}")
                continue
            if st.st_uid != slot.uid or st.st_mode & 0o777 != 0o700 or not os.path.ismount(slot.path):
                found.append(f"slot {slot.path} is not a 0700 tmpfs of uid {slot.uid}")
            elif slot.tree is None and not _slot_empty(slot.path):
                found.append(f"slot {slot.path} is not empty")
        for path in SHARED_DIRS:
            try:
                writable = os.stat(path).st_mode & 0o022 and not os.statvfs(path).f_flag & os.ST_RDONLY
            except OSError:
                continue
            if writable:
                found.append(f"{path} is writable by the sessions' uids")
        return found


def _gone(pid: int) -> bool:
    st = proctree.stat(pid)
    return st is None or st.gone


def _root_ok(slot: Slot) -> bool:
    """The slot's root as it must be before a tree gets it: its uid's, mode 0700, its own tmpfs
    (a tree may chmod its root; the wipe sets 0700 again, and this checks it took)."""
    try:
        st = os.lstat(slot.path)
    except OSError:
        return False
    return st.st_uid == slot.uid and stat.S_ISDIR(st.st_mode) and st.st_mode & 0o7777 == 0o700


def _files_bytes(path: str) -> int:
    """What a slot's files hold (its tmpfs's used blocks)."""
    try:
        v = os.statvfs(path)
    except OSError:
        return 0
    return (v.f_blocks - v.f_bfree) * v.f_frsize


def _slot_empty(path: str) -> bool:
    try:
        v = os.statvfs(path)
    except OSError:
        return False
    return v.f_files - v.f_ffree <= 1 and v.f_blocks == v.f_bfree


def _record(stream: Stream) -> CellRecord | None:
    """The cell's record: the candidate's own words, taken as its output and nothing more."""
    stream.drain_now()
    if stream.total > stream.cap or not stream.data:
        return None
    try:
        return protocol.load(CellRecord, json.loads(bytes(stream.data)), "record")
    except (ValueError, RecursionError, ProtocolError):
        return None


def main(
    zygote: ZygoteClient, zygote_pid: int, settings: SessionSandboxSettings, toolchain: str, listener: socket.socket
) -> None:
    SessionServer(zygote, zygote_pid, settings, toolchain).serve(listener)
