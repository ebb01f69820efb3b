"""The trusted runner: PID 1 of each sandbox container.

It takes jobs from the host over one persistent unix-socket connection (no
``docker exec`` per job or test), asks the zygote for each test's processes,
feeds their inputs, drains their outputs with byte caps, enforces the wall
clock, and returns raw facts (exit status, bytes, times, the driver's record).
It judges nothing: expected outputs never enter the sandbox, and verdicts are
made by the host. After each job it kills every process of the sandbox uids,
wipes what they wrote, and checks that nothing is left.

Processes and uids (see docs/SECURITY.md): the runner and zygote are uid 0 of
the container with only CAP_SETUID/CAP_SETGID; the program runs as
``CANDIDATE_UID``; assertion and call drivers run as ``JUDGE_UID``.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import secrets
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from . import builds, frames
from .zygote import PR_SET_DUMPABLE, prctl

# Each container gets its own uids from the host (random in a large range), so
# that per-uid accounting (RLIMIT_NPROC) is per sandbox even though containers
# share the host's user namespace.
CANDIDATE_UID = int(os.environ.get("RLCE_CANDIDATE_UID", "1600"))
JUDGE_UID = int(os.environ.get("RLCE_JUDGE_UID", "1500"))
# Test processes of one uid may hold at most this many tasks (threads count),
# which keeps pids free under the container's pids limit for the runner's helpers.
NPROC = int(os.environ.get("RLCE_NPROC", "64"))
WORK_DIR = "/w"
SCRATCH_DIRS = ("/w", "/tmp", "/dev/shm")
SOCKET_PATH = "/rlce/ctl/runner.sock"
VERSION = "1"
DRIVER_OUTPUT_CAP = 64 * 1024
RESULT_CAP = 17 * 1024 * 1024
KILL_WAIT_S = 5.0
JUDGE_MEMORY_BYTES = 2 << 30
JUDGE_SETTLE_S = 1.0
JUDGE_MAX_TESTS = 500  # then a fresh judge: bounds whatever tests leave in it
PROGRAM_EXIT_GRACE_S = 0.2
TOOLCHAIN = ""
ARTIFACT_CACHE_BYTES = int(os.environ.get("RLCE_ARTIFACT_CACHE_MB", "48")) << 20
# The container's RLCE_SECCOMP=0 turns the stacked filter off (for benchmarks of its cost).
EXTRA_SECCOMP = os.environ.get("RLCE_SECCOMP", "1") != "0"
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp"}


class SandboxBroken(RuntimeError):
    """Our machinery failed; the host must replace this sandbox."""


def _oom_kills() -> int:
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


class Zygote:
    """Client of the zygote's SOCK_SEQPACKET control socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exited: dict[str, dict[str, Any]] = {}
        self.pids: dict[str, int] = {}
        self.failed: dict[str, str] = {}
        self._seq = 0

    def pump(self, timeout: float) -> None:
        """Read at most one message, waiting up to ``timeout`` seconds.

        The wait is clamped to at least a millisecond: a deadline computed a
        moment ago may already have passed, and a zero or negative socket
        timeout would raise instead of waiting.
        """
        self.sock.settimeout(max(timeout, 0.001))
        try:
            msg = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            return
        finally:
            self.sock.settimeout(None)
        if not msg:
            raise SandboxBroken("zygote died")
        obj = json.loads(msg)
        if "exited" in obj:
            self.exited[obj["exited"]] = obj
        elif "spawned" in obj:
            self.pids[obj["spawned"]] = obj["pid"]
        elif "spawn_failed" in obj:
            self.failed[obj["spawn_failed"]] = obj.get("error", "")

    def spawn(self, role: str, uid: int, fds: list[int], **extra: Any) -> str:
        for attempt in range(20):
            self._seq += 1
            pid_id = f"p{self._seq}"
            req = {"id": pid_id, "role": role, "uid": uid, "gid": uid, **extra}
            socket.send_fds(self.sock, [json.dumps(req).encode()], fds)
            deadline = time.monotonic() + KILL_WAIT_S
            while pid_id not in self.pids and pid_id not in self.failed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxBroken("zygote did not answer a spawn request")
                self.pump(left)
            if pid_id in self.pids:
                return pid_id
            time.sleep(0.005 * (attempt + 1))  # fork failed (EAGAIN): a moment for pids to free up
        raise SandboxBroken(f"cannot fork a {role} process: {self.failed.get(pid_id)}")

    def wait(self, pid_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while pid_id not in self.exited:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxBroken(f"process {pid_id} did not exit after SIGKILL")
            self.pump(left)
        self.pids.pop(pid_id, None)
        return self.exited.pop(pid_id)

    def wait_ready(self) -> None:
        """Block until the zygote has finished its start-up (its first message)."""
        self.sock.settimeout(120)
        msg = self.sock.recv(65536)
        self.sock.settimeout(None)
        if json.loads(msg or b"{}").get("ready") is not True:
            raise SandboxBroken("zygote failed to start")

    def kill_uid(self, uid: int) -> None:
        helper = self.spawn("kill", uid, [])
        self.wait(helper, KILL_WAIT_S)

    def wipe(self, uid: int) -> bool:
        helper = self.spawn("wipe", uid, [], paths=list(SCRATCH_DIRS))
        rec = self.wait(helper, 30.0)
        return os.waitstatus_to_exitcode(rec["status"]) == 0


class _Stream:
    def __init__(self, fd: int, cap: int) -> None:
        self.fd = fd
        self.cap = cap
        self.data = bytearray()
        self.total = 0
        self.open = True


def _pipe() -> tuple[int, int]:
    return os.pipe2(os.O_CLOEXEC)


class _Pipes:
    """The pipes of one spawned process: bytes the runner feeds it, streams it reads back."""

    def __init__(self) -> None:
        self.writers: dict[int, bytes] = {}
        self.streams: dict[str, _Stream] = {}
        self.child_ends: list[int] = []  # closed here once the child has them

    def to_child(self, data: bytes) -> int:
        r, w = _pipe()
        self.child_ends.append(r)
        os.set_blocking(w, False)
        self.writers[w] = data
        return r

    def from_child(self, name: str, cap: int) -> int:
        r, w = _pipe()
        self.child_ends.append(w)
        os.set_blocking(r, False)
        self.streams[name] = _Stream(r, cap)
        return w

    def close_child_ends(self) -> None:
        for fd in self.child_ends:
            os.close(fd)
        self.child_ends.clear()

    def close(self) -> None:
        for w in self.writers:
            os.close(w)
        for st in self.streams.values():
            os.close(st.fd)


def _proc_limits(limits: dict[str, Any], memory_key: str, file_size: int) -> dict[str, Any]:
    """A test's or a build step's limits as the zygote applies them."""
    return {
        "nproc": NPROC,
        "cpu_s": float(limits["cpu_s"]),
        "address_space_bytes": int(limits.get(memory_key, limits["memory_mb"])) * 1024 * 1024,
        "file_size_bytes": int(limits.get("file_size_bytes", file_size)),
    }


def _tasks_in_container() -> int | None:
    """Tasks in this container's pids cgroup (one file read), None if unknown."""
    for path in ("/sys/fs/cgroup/pids/pids.current", "/sys/fs/cgroup/pids.current"):
        try:
            with open(path) as fh:
                return int(fh.read())
        except (OSError, ValueError):
            continue
    return None


class Runner:
    def __init__(self, zygote: Zygote) -> None:
        self.zygote = zygote
        # The runner and the zygote, two single-threaded processes: with only
        # these two tasks in the cgroup no sandbox process (not even a zombie)
        # can exist, and the /proc scan is skipped. Any other count at start
        # (an init process, say) disables the shortcut.
        self.idle_tasks = 2 if _tasks_in_container() == 2 else None
        self.judge: tuple[str, socket.socket] | None = None
        self.judge_tests = 0
        self.artifacts = builds.ArtifactCache(ARTIFACT_CACHE_BYTES)

    # -- one test ---------------------------------------------------------
    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        mode = job["mode"]
        limits = job["limits"]
        time_s = float(limits["time_s"])
        out_cap = int(limits["output_bytes"])
        proc_limits = _proc_limits(limits, "address_space_mb", 16 << 20)
        pipes = _Pipes()
        streams = pipes.streams

        oom_before = _oom_kills()
        stdin_data = base64.b64decode(job.get("stdin", "")) if mode in ("stdio", "exec") else b""
        nonce = b""
        if mode == "exec":
            # A compiled runtime's program (and, for assertions, its test and
            # harness) runs as one exec'd process: the build's argv.
            place = builds.artifact_dir(job["build"])
            argv = builds.expand(job["argv"], build=place)
            payload = json.dumps({"argv": argv, "env": job.get("env", {})}).encode()
        else:
            payload = job["program"].encode("utf-8", "surrogateescape")
        prog_fds = [
            pipes.to_child(stdin_data),
            pipes.from_child("stdout", out_cap),
            pipes.from_child("stderr", out_cap),
            pipes.to_child(payload),
            pipes.from_child("ready", 16),
        ]
        if mode == "exec" and job.get("record"):
            # The harness reads this nonce (fd 3) before any program code runs
            # and writes it back (fd 4) only after the test's main returned.
            nonce = secrets.token_hex(16).encode()
            # pipes owned by the candidate uid: a JVM can only reach them as /proc/self/fd/N
            with builds.files_as(CANDIDATE_UID):
                prog_fds += [pipes.to_child(nonce), pipes.from_child("record", 256)]
        started = time.monotonic()
        judged = mode not in ("stdio", "exec")
        try:
            if not judged:
                role = "exec" if mode == "exec" else "script"
                prog_id = self.zygote.spawn(role, CANDIDATE_UID, prog_fds, cwd=WORK_DIR, limits=proc_limits)
            else:
                judge_sock = self._judge()
                # the value channel: one end for the program, one for the judge
                prog_end, drv_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                chan_prog, chan_drv = prog_end.detach(), drv_end.detach()
                pipes.child_ends += [chan_prog, chan_drv]
                prog_id = self.zygote.spawn(
                    "program", CANDIDATE_UID, prog_fds + [chan_prog], cwd=WORK_DIR, limits=proc_limits
                )
                boot = {"mode": mode}
                if mode == "call":
                    boot.update(entry=job["entry"], args=job["args"])
                else:
                    boot["code"] = job["code"]
                test_fds = [
                    pipes.to_child(json.dumps(boot).encode()),
                    chan_drv,
                    pipes.from_child("result", RESULT_CAP),
                ]
                try:
                    socket.send_fds(judge_sock, [b"T"], test_fds)
                except OSError as exc:
                    raise SandboxBroken(f"the judge is gone: {exc}") from None
        finally:
            pipes.close_child_ends()
        if judged:
            result_stream = streams["result"]
            finished = lambda: not result_stream.open  # noqa: E731  (the judge closed the record)
        else:
            finished = lambda: prog_id in self.zygote.exited  # noqa: E731
        outcome = self._pump(pipes.writers, streams, started + time_s, finished, {"stdout", "stderr"})
        ended = time.monotonic()
        if judged and outcome == "exited":
            # The program server sees the channel close and exits by itself.
            self._wait_quietly(prog_id, PROGRAM_EXIT_GRACE_S)
        leftover = self.stop_uids()
        prog_rec = self.zygote.wait(prog_id, KILL_WAIT_S)
        # The program is dead, so the judge's next read fails and it writes
        # its record; a judge that does not within a second is replaced.
        if judged and outcome != "exited" and self._settle(streams["result"], finished) != "exited":
            self._drop_judge()
        wall = ended - started
        self._drain(streams)
        pipes.close()
        status = prog_rec["status"]
        result: dict[str, Any] = {
            "outcome": outcome,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
            "wall_s": min(wall, time_s) if outcome == "timeout" else wall,
            "cpu_s": prog_rec["cpu_s"],
            "maxrss_kb": prog_rec["maxrss_kb"],
            "oom_killed": _oom_kills() > oom_before,
            # Positive evidence that set-up finished; without it the failure is ours.
            "setup_failed": not streams["ready"].data,
            # processes still alive after the test ended by itself (daemons): killed
            "leftover_processes": leftover if outcome == "exited" else 0,
        }
        for name in ("stdout", "stderr"):
            s = streams[name]
            result[name] = base64.b64encode(bytes(s.data)).decode()
            result[name + "_bytes"] = s.total
        if nonce:
            result["record_ok"] = bytes(streams["record"].data) == nonce
        if judged:
            raw = bytes(streams["result"].data)
            try:
                result["driver"] = json.loads(raw) if raw else None
            except ValueError:
                result["driver"] = None
            self.judge_tests += 1
            record = result["driver"]
            if record is None:
                result["setup_failed"] = True  # the judge died: ours, never the program's doing
                self._drop_judge()
            elif record.pop("retire", False) or self.judge_tests >= JUDGE_MAX_TESTS:
                self._drop_judge()
        return result

    # -- builds (compiled runtimes) ---------------------------------------
    def build(self, req: dict[str, Any]) -> dict[str, Any]:
        """Run a build's steps unless its outputs are cached; facts, not verdicts."""
        key = builds.check_key(req["key"])
        if self.artifacts.has(key):
            return {"ok": True, "cached": True, "output": "", "wall_s": 0.0, "cpu_s": 0.0}
        limits = req["limits"]
        cap = int(limits["output_bytes"])
        proc_limits = _proc_limits(limits, "memory_mb", 256 << 20)
        build_dir = builds.make_build_dir(WORK_DIR, CANDIDATE_UID)
        builds.write_inputs(build_dir, req["files"], CANDIDATE_UID)
        env = {k: builds.expand([v], dir=build_dir)[0] for k, v in req.get("env", {}).items()}
        output = bytearray()
        wall = cpu = 0.0
        deadline = time.monotonic() + float(limits["time_s"])
        try:
            for argv in req["steps"]:
                step = self._step(builds.expand(argv, dir=build_dir), env, build_dir, proc_limits, deadline, cap)
                output += step["output"]
                wall += step["wall_s"]
                cpu += step["cpu_s"]
                if step["failed"]:
                    return {
                        "ok": False,
                        "output": bytes(output[-cap:]).decode("utf-8", "replace"),
                        "reason": step["failed"],
                        "wall_s": wall,
                        "cpu_s": cpu,
                    }
            try:
                self.artifacts.store(key, build_dir, list(req["outputs"]), CANDIDATE_UID)
            except builds.MissingOutput as exc:
                return {"ok": False, "output": str(exc), "reason": "output", "wall_s": wall, "cpu_s": cpu}
        finally:
            self.stop_uids()
            builds.remove_build_dir(build_dir, CANDIDATE_UID)
        return {
            "ok": True,
            "cached": False,
            "output": bytes(output[-cap:]).decode("utf-8", "replace"),
            "wall_s": wall,
            "cpu_s": cpu,
        }

    def _step(
        self, argv: list[str], env: dict[str, str], cwd: str, limits: dict[str, Any], deadline: float, cap: int
    ) -> dict[str, Any]:
        """One build step as its own process; ``failed`` says why it did not succeed."""
        pipes = _Pipes()
        payload = json.dumps({"argv": argv, "env": env}).encode()
        fds = [
            pipes.to_child(b""),
            pipes.from_child("stdout", cap),
            pipes.from_child("stderr", cap),
            pipes.to_child(payload),
            pipes.from_child("ready", 16),
        ]
        started = time.monotonic()
        try:
            pid_id = self.zygote.spawn("exec", CANDIDATE_UID, fds, cwd=cwd, limits=limits)
        finally:
            pipes.close_child_ends()
        outcome = self._pump(pipes.writers, pipes.streams, deadline, lambda: pid_id in self.zygote.exited, set())
        wall = time.monotonic() - started
        self.stop_uids()
        rec = self.zygote.wait(pid_id, KILL_WAIT_S)
        streams = pipes.streams
        self._drain(streams)
        pipes.close()
        if not streams["ready"].data:
            raise SandboxBroken(f"a build step failed during set-up: {bytes(streams['stderr'].data[-500:])!r}")
        status = rec["status"]
        failed = ""
        if outcome == "timeout":
            failed = "time"
        elif os.WIFSIGNALED(status):
            failed = f"signal {os.WTERMSIG(status)}"
        elif os.WEXITSTATUS(status) != 0:
            failed = f"exit code {os.WEXITSTATUS(status)}"
        return {
            "output": bytes(streams["stdout"].data) + bytes(streams["stderr"].data),
            "failed": failed,
            "wall_s": wall,
            "cpu_s": rec["cpu_s"],
        }

    def _settle(self, stream: _Stream, finished: Callable[[], bool]) -> str:
        return self._pump({}, {"result": stream}, time.monotonic() + JUDGE_SETTLE_S, finished, set())

    # -- the judge (one long-lived test driver per sandbox) -----------------
    def _judge(self) -> socket.socket:
        """The judge's control socket, forking a judge first if there is none."""
        if self.judge is not None and self.judge[0] in self.zygote.exited:
            self._drop_judge()  # it ended between tests: its exit is already known
        if self.judge is None:
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
            boot_r, boot_w = _pipe()
            os.close(boot_w)
            ready_r, ready_w = _pipe()
            try:
                limits = {"nproc": NPROC, "address_space_bytes": JUDGE_MEMORY_BYTES, "file_size_bytes": 16 << 20}
                pid_id = self.zygote.spawn(
                    "judge", JUDGE_UID, [null, null, null, boot_r, ready_w, theirs.fileno()], cwd="/", limits=limits
                )
            finally:
                for fd in (null, boot_r, ready_w):
                    os.close(fd)
                theirs.close()
            ready = os.read(ready_r, 1)  # the judge's set-up finished (or it died: b"")
            os.close(ready_r)
            if ready != b"R":
                mine.close()
                raise SandboxBroken("the judge failed to start")
            self.judge = (pid_id, mine)
            self.judge_tests = 0
        return self.judge[1]

    def _drop_judge(self) -> None:
        """End the judge (it is forked afresh for the next test)."""
        if self.judge is None:
            return
        pid_id, sock = self.judge
        self.judge = None
        sock.close()  # a judge between tests sees end-of-file and exits
        try:
            self.zygote.wait(pid_id, 0.5)
        except SandboxBroken:
            self.zygote.kill_uid(JUDGE_UID)
            self.zygote.wait(pid_id, KILL_WAIT_S)

    def _judge_pid(self) -> int | None:
        return self.zygote.pids.get(self.judge[0]) if self.judge is not None else None

    def _pump(
        self,
        writers: dict[int, bytes],
        streams: dict[str, _Stream],
        deadline: float,
        finished: Callable[[], bool],
        capped: set[str],
    ) -> str:
        """Move bytes until the test is finished, time runs out or output overflows."""
        sel = selectors.DefaultSelector()
        for fd in writers:
            sel.register(fd, selectors.EVENT_WRITE, ("w", fd))
        for name, s in streams.items():
            sel.register(s.fd, selectors.EVENT_READ, ("r", name))
        sel.register(self.zygote.sock, selectors.EVENT_READ, ("z", None))
        try:
            while True:
                if finished():
                    return "exited"
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                for key, _ in sel.select(left):
                    kind, ref = key.data
                    if kind == "z":
                        self.zygote.pump(0)
                    elif kind == "w":
                        data = writers[ref]
                        try:
                            n = os.write(ref, data[: 1 << 16])
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            n = len(data)
                        writers[ref] = data[n:]
                        if not writers[ref]:
                            sel.unregister(ref)
                            os.close(ref)
                            del writers[ref]
                    else:
                        s = streams[ref]
                        if not self._read_some(s):
                            sel.unregister(s.fd)
                        elif ref in capped and s.total > s.cap:
                            return "output_limit"
        finally:
            sel.close()

    @staticmethod
    def _read_some(s: _Stream) -> bool:
        try:
            chunk = os.read(s.fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            s.open = False
            return False
        s.total += len(chunk)
        room = s.cap + 1 - len(s.data)
        if room > 0:
            s.data += chunk[:room]
        return True

    def _drain(self, streams: dict[str, _Stream]) -> None:
        """Every writer is dead now (killed by uid): read to end of file."""
        for s in streams.values():
            if s.open:
                os.set_blocking(s.fd, True)
                while self._read_some(s):
                    pass

    def _wait_quietly(self, pid_id: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while pid_id not in self.zygote.exited and time.monotonic() < deadline:
            self.zygote.pump(deadline - time.monotonic())

    def stop_uids(self) -> int:
        """Kill what is left of the sandbox uids (the judge excepted), forking
        a helper only when needed.

        Evidence first: the container's task count, then a scan of /proc. A
        process of these uids can only be made by the zygote or by another
        such process, so an empty scan (zombies are reaped by the zygote and
        retried) means nothing is left. A judge-uid process beside the judge
        (a test that spawned one) takes the judge with it.
        """
        found = 0
        idle = None if self.idle_tasks is None else self.idle_tasks + (self.judge is not None)
        if idle is not None and _tasks_in_container() == idle:
            return 0
        for _ in range(50):
            judge_pid = self._judge_pid()
            live = [(uid, pid, state) for uid, pid, state in sandbox_processes() if pid != judge_pid]
            if not live:
                return found
            found = found or sum(1 for _, _, state in live if state != "Z")
            for uid in {uid for uid, _, state in live if state != "Z"}:
                if uid == JUDGE_UID:
                    self._drop_judge()
                else:
                    self.zygote.kill_uid(uid)
            self.zygote.pump(0.002)
        raise SandboxBroken(f"processes survive SIGKILL: {sandbox_processes()}")

    # -- between jobs -------------------------------------------------------
    def reset(self) -> dict[str, Any]:
        killed = self.stop_uids()
        wiped = True
        files = len(scratch_entries())
        ipc = len(sysv_objects())
        if files or ipc:
            wiped = all(self.zygote.wipe(uid) for uid in (CANDIDATE_UID, JUDGE_UID))
        leftovers = self.leftovers()
        return {
            "ok": wiped and not leftovers,
            "leftovers": leftovers,
            "removed": {"processes": killed, "files": files, "ipc": ipc},
        }

    def leftovers(self) -> list[str]:
        judge_pid = self._judge_pid()
        found = [f"process {pid} of uid {uid}" for uid, pid, _ in sandbox_processes() if pid != judge_pid]
        found += scratch_entries() + sysv_objects()
        return found


def sandbox_processes() -> list[tuple[int, int, str]]:
    """(uid, pid, state) of every process of the sandbox uids."""
    found: list[tuple[int, int, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                state, uid = "", -1
                for line in fh:
                    if line.startswith("State:"):
                        state = line.split()[1]
                    elif line.startswith("Uid:"):
                        uid = int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
        if uid in (CANDIDATE_UID, JUDGE_UID):
            found.append((uid, int(entry), state))
    return found


def scratch_entries() -> list[str]:
    found = []
    for root in SCRATCH_DIRS:
        try:
            names = os.listdir(root)
        except OSError as exc:
            found.append(f"{root}: {exc.strerror}")
            continue
        found += [f"file {root}/{n}" for n in names[:20]]
    return found


def sysv_objects() -> list[str]:
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        found += [f"sysv {kind} object" for _ in rows]
    return found


def serve_host(runner: Runner, listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        fd = conn.fileno()
        try:
            while True:
                try:
                    req = frames.read_json(fd)
                except frames.ChannelClosed:
                    break
                op = req.get("op")
                if op == "hello":
                    reply: dict[str, Any] = {
                        "ok": True,
                        "version": VERSION,
                        "python": sys.version.split()[0],
                        "toolchain": TOOLCHAIN,
                        "leftovers": runner.leftovers(),
                    }
                elif op == "run":
                    reply = {"ok": True, "result": runner.run(req)}
                elif op == "build":
                    reply = {"ok": True, "result": runner.build(req)}
                elif op == "reset":
                    reply = runner.reset()
                else:
                    reply = {"ok": False, "error": f"unknown op {op!r}"}
                frames.write_json(fd, reply)
        except SandboxBroken as exc:
            try:
                frames.write_json(fd, {"ok": False, "broken": str(exc)})
            except frames.ChannelClosed:
                pass
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
                raise
        finally:
            conn.close()
        runner.reset()


def toolchain_version(argv: list[str]) -> str:
    """The runtime's own version line (``version_command``), once at start-up."""
    import subprocess

    if not argv:
        return sys.version.split()[0]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60, env=ENV, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = (done.stdout or done.stderr).decode("utf-8", "replace").strip().splitlines()
    return lines[0][:200] if lines else "unknown"


def main(preload: list[str], version_command: list[str] | None = None) -> None:
    global TOOLCHAIN
    prctl(PR_SET_DUMPABLE, 0)
    TOOLCHAIN = toolchain_version(version_command or [])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        parent.close()
        from .zygote import main as zygote_main

        zygote_main(child, preload, seccomp=EXTRA_SECCOMP, env=ENV)
    child.close()
    zygote = Zygote(parent)
    zygote.wait_ready()
    runner = Runner(zygote)
    try:
        os.unlink(SOCKET_PATH)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(SOCKET_PATH)
    os.chmod(SOCKET_PATH, 0o600)
    listener.listen(1)
    serve_host(runner, listener)
