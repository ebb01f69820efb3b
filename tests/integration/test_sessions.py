"""Run and live sessions through the real stack (docs/SESSIONS.md): a real server, real
session sandboxes, the real engine. What a session sandbox holds is looked at from inside
its container (``docker exec``), never taken from the server's word."""

from __future__ import annotations

import ast
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from rlce_server.client import AsyncClient, Client, call, pb
from rlce_server.rl.tools import PYTHON_TOOL, execute_tool_call
from tests.conftest import COMPILED, serving

from .server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = {
    "sandboxes": 1,
    "slots_per_sandbox": 6,
    "max_open": 9,
    "max_per_tree": 4,
    "sweep_interval_s": 0.2,
    "tree_files_mb": 16,
}
ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def live(images: dict[str, str], engine: Any) -> Iterator[ServerThread]:
    yield from serving(engine, workers=1, sessions=SESSIONS)


@pytest.fixture()
def c(live: ServerThread) -> Iterator[Client]:
    with Client(live.target) as client:
        yield client


def code_of(err: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    return err.value.code()  # type: ignore[no-any-return]


def sandbox_of(engine: Any, server: ServerThread) -> Any:
    """The server's session sandbox container."""
    found = [
        ctr
        for ctr in engine.containers.list(
            filters={"label": f"rlce.server={server.settings.instance_id}"}, ignore_removed=True
        )
        if "-sessions-" in ctr.name
    ]
    assert len(found) == 1, [ctr.name for ctr in found]
    return found[0]


def inside(container: Any, code: str, user: str = "0") -> Any:
    """Run Python in the container (root without capabilities, or ``user``); its stdout as JSON."""
    rc, out = container.exec_run(["python3", "-c", code], user=user)
    assert rc == 0, out.decode()
    return json.loads(out)


PROCESSES = """
import json, os
found = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            status = open(f'/proc/{pid}/status').read()
        except OSError:
            continue
        uid = int(status.split('Uid:')[1].split()[0])
        name = status.split('Name:')[1].split()[0]
        state = status.split('State:')[1].split()[0]
        found.append([int(pid), uid, name, state])
print(json.dumps(found))
"""


def slot_usage(container: Any, index: int) -> list[int]:
    """[inodes, blocks] a slot's tmpfs has in use (1 and 0 when it is empty)."""
    code = f"import os, json; v = os.statvfs('/s/{index}')\n"
    code += "print(json.dumps([v.f_files - v.f_ffree, v.f_blocks - v.f_bfree]))"
    return inside(container, code)  # type: ignore[no-any-return]


def eventually(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


# -- Run -----------------------------------------------------------------------------------
def test_run_writes_files_first_and_fetches_regular_files_back(c: Client) -> None:
    program = (
        "import os, sys\n"
        "data = open('in/data.txt').read()\n"
        "open('out.txt', 'w').write(data.upper() + sys.stdin.read())\n"
        "os.symlink('/etc/passwd', 'link')\n"
        "os.mkdir('dir')\n"
        "print('done')\n"
    )
    r = c.run("python", program, stdin="!", files={"in/data.txt": "abc"}, fetch=["out.txt", "link", "dir", "nope"])
    assert r.verdict == pb.ACCEPTED, r
    assert r.stdout == b"done\n" and r.exit_code == 0
    assert dict(r.files) == {"out.txt": b"ABC!"}
    assert "symbolic link" in r.error and "not a regular file" in r.error and "no such file" in r.error


@pytest.mark.parametrize(
    ("program", "limits", "verdict"),
    [
        ("import sys; sys.exit(3)", None, pb.RUNTIME_ERROR),
        ("raise ValueError('x')", None, pb.RUNTIME_ERROR),
        ("while True: pass", pb.Limits(time_limit_s=0.3), pb.TIME_LIMIT_EXCEEDED),
        ("x = b'x' * (200 << 20)", pb.Limits(memory_limit_mb=64), pb.MEMORY_LIMIT_EXCEEDED),
        ("print('y' * (3 << 20))", pb.Limits(output_limit_bytes=1 << 20), pb.OUTPUT_LIMIT_EXCEEDED),
    ],
)
def test_run_verdicts(c: Client, program: str, limits: pb.Limits | None, verdict: int) -> None:
    r = c.run("python", program, limits=limits)
    assert r.verdict == verdict, r
    assert r.error


def test_run_refuses_names_that_leave_the_directory(c: Client) -> None:
    for bad in ({"../x": b""}, {"/etc/x": b""}, {"a/../../x": b""}):
        with pytest.raises(grpc.RpcError) as err:
            c.run("python", "print(1)", files=bad)
        assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT and "files[" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        c.run("python", "print(1)", fetch=["../../etc/passwd"])
    assert code_of(err) == grpc.StatusCode.INVALID_ARGUMENT and "fetch[0]" in err.value.details()


def test_rlce_run_prints_the_response_as_json(live: ServerThread, tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text("import sys\nopen('o.txt', 'w').write(open('i.txt').read() * 2)\n")
    (tmp_path / "i.txt").write_text("ab")
    cmd = [sys.executable, "-m", "rlce_server", "run", "--language", "python", str(tmp_path / "prog.py")]
    cmd += ["--file", f"i.txt={tmp_path / 'i.txt'}", "--fetch", "o.txt", "--target", live.target]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["verdict"] == "ACCEPTED" and out["files"] == {"o.txt": "YWJhYg=="}  # base64 of "abab"


# -- sessions: state, results, errors ----------------------------------------------------------
def test_names_persist_results_show_and_an_exception_leaves_the_session_alive(c: Client) -> None:
    with c.session("python") as s:
        assert s.exec("x = 41").verdict == pb.ACCEPTED
        r = s.exec("x + 1")
        assert (r.verdict, r.result) == (pb.ACCEPTED, "42")
        assert s.exec("print('hi', x)").stdout == b"hi 41\n"
        r = s.exec("y = 5\nraise ValueError('boom')")
        assert r.verdict == pb.RUNTIME_ERROR and "ValueError: boom" in r.error and "Traceback" in r.error
        assert not r.session_ended
        assert s.exec("(x, y)").result == "(41, 5)"  # what ran before the exception stays, as in a notebook
        assert s.exec("input()", stdin=b"abc\n").result == "'abc'"
        assert s.exec("def f(n):\n    return n * x").verdict == pb.ACCEPTED
        assert s.exec("f(2)").result == "82"
        r = s.exec("open('data/in.txt').read().upper()", files={"data/in.txt": b"hello"})
        assert r.result == "'HELLO'"
        r = s.exec("open('out.bin', 'wb').write(bytes(range(4)))", fetch=["out.bin", "data", "nope"])
        assert dict(r.files) == {"out.bin": bytes(range(4))}
        assert "not a regular file" in r.error and "no such file" in r.error


def test_a_cell_past_its_limit_is_stopped_and_the_session_is_as_before(c: Client) -> None:
    with c.session("python", limits=pb.Limits(memory_limit_mb=128, output_limit_bytes=1 << 20)) as s:
        s.exec("x = 1")
        r = s.exec("x = 2\nwhile True: pass", time_limit_s=0.3)
        assert r.verdict == pb.TIME_LIMIT_EXCEEDED and "as it was before" in r.error
        assert s.exec("x").result == "1"
        r = s.exec("x = 3\nb = b'x' * (300 << 20)")
        assert r.verdict == pb.MEMORY_LIMIT_EXCEEDED
        r = s.exec("(x, 'b' in globals())")
        assert r.result == "(1, False)", r
        r = s.exec("x = 4\nprint('y' * (3 << 20))")
        assert r.verdict == pb.OUTPUT_LIMIT_EXCEEDED
        r = s.exec("x = 5\nimport time\ntime.sleep(60)", time_limit_s=0.2)
        assert r.verdict == pb.TIME_LIMIT_EXCEEDED and "wall time" in r.error
        for _ in range(20):  # (however fast it ends: before or after the runner learns its pid)
            r = s.exec("x = 6\nimport os\nos._exit(3)")
            assert r.verdict == pb.RUNTIME_ERROR and "process ended" in r.error and not r.session_ended, r
        assert s.exec("x").result == "1"


def test_a_cell_whose_main_thread_ended_runs_on_until_its_limit(c: Client) -> None:
    """Its leader reads "Z" while another thread runs: not a cell that ended (the scoring
    sandboxes' clean-up took such a process for a zombie; proctree.ProcStat.gone now says)."""
    with c.session("python") as s:
        s.exec("x = 1")
        code = "x = 2\nimport ctypes, threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()\n"
        r = s.exec(code + "ctypes.CDLL(None).syscall(60, 0)", time_limit_s=0.3)
        assert r.verdict == pb.TIME_LIMIT_EXCEEDED, r
        assert s.exec("x").result == "1"


def test_a_cells_processes_end_with_it(c: Client, live: ServerThread, engine: Any) -> None:
    with c.session("python") as s:
        r = s.exec("import subprocess\np = subprocess.Popen(['sleep', '1000'])\nimport os\nos.getuid()")
        assert r.verdict == pb.ACCEPTED
        uid = int(r.result)
        box = sandbox_of(engine, live)
        # killed with the cell (until its state next runs and reaps it, a zombie: no longer running)
        procs = [p for p in inside(box, PROCESSES) if p[1] == uid and p[2] == "sleep" and p[3] != "Z"]
        assert procs == [], procs
        assert s.exec("p.poll() is not None").result == "True"  # it is gone (and reaped)


def test_a_session_sandbox_keeps_no_fork_servers(c: Client, live: ServerThread, engine: Any) -> None:
    """Sessions exec nothing through the zygote: fork servers (the image has them) would idle there."""
    with c.session("python") as s:
        assert s.exec("1 + 1").result == "2"
        procs = inside(sandbox_of(engine, live), PROCESSES)
        assert [p for p in procs if p[2] == "python3" and p[1] == 0], procs  # (the read works: runner, zygote)
        assert not [p for p in procs if p[2] == "prefork"], procs


def test_forks_evolve_apart(c: Client) -> None:
    with c.session("python") as a:
        a.exec("x = [1]\nopen('f.txt', 'w').write('A')")
        with a.fork() as b:
            a.exec("x.append(2)")
            b.exec("x.append(3)\nopen('f.txt', 'w').write('B')")
            assert a.exec("x").result == "[1, 2]"
            assert b.exec("x").result == "[1, 3]"
            assert a.exec("open('f.txt').read()").result == "'A'"
            assert b.exec("open('f.txt').read()").result == "'B'"
            assert a.exec("import os; os.getcwd()").result != b.exec("import os; os.getcwd()").result
            with b.fork() as c2:
                a.close()
                assert c2.exec("x").result == "[1, 3]"
                assert b.exec("len(x)").result == "2"


# -- isolation ---------------------------------------------------------------------------------
ATTACK = r"""
import ctypes, os, signal, json
libc = ctypes.CDLL(None, use_errno=True)
done = {"signalled": [], "read": [], "wrote": [], "ipc": []}
me = os.getpid()
for pid in sorted(int(p) for p in os.listdir('/proc') if p.isdigit()):
    if pid == me:
        continue
    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
        try:
            os.kill(pid, sig)
            done["signalled"].append(pid)
        except OSError:
            pass
    for leaf in ("environ", "mem", "cwd/secret.txt", "root/etc/hostname", "fd/0", "maps"):
        try:
            with open(f"/proc/{pid}/{leaf}", "rb") as fh:
                fh.read(1)
            done["read"].append(f"{pid}/{leaf}")
        except OSError:
            pass
for path in [VICTIM_DIR, VICTIM_DIR + "/secret.txt", VICTIM_TMP]:
    try:
        os.listdir(path) if not path.endswith(".txt") else open(path).read()
        done["read"].append(path)
    except OSError:
        pass
targets = [VICTIM_DIR, VICTIM_TMP, "/tmp", "/dev/shm", "/w", "/s", "/c", "/j", "/"]
for path in [t + "/evil.txt" for t in targets]:
    try:
        open(path, "w").write("evil")
        done["wrote"].append(path)
    except OSError:
        pass
mine = os.path.dirname(os.getcwd())
for slot in os.listdir("/s"):
    try:
        os.listdir(f"/s/{slot}")
        if f"/s/{slot}" != mine:
            done["read"].append(f"/s/{slot}")
    except OSError:
        pass
if libc.shmget(0x5151, 4096, 0o1666) >= 0:
    done["ipc"].append("shm")
if libc.msgget(0x5151, 0o1666) >= 0:
    done["ipc"].append("msg")
if libc.semget(0x5151, 1, 0o1666) >= 0:
    done["ipc"].append("sem")
libc.mq_open.restype = ctypes.c_int
if libc.mq_open(b"/rlce-evil", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0:
    done["ipc"].append("mq")
libc.sem_open.restype = ctypes.c_void_p
if libc.sem_open(b"/rlce-evil", os.O_CREAT, 0o666, 1):
    done["ipc"].append("posix sem")
if libc.ptrace(16, VICTIM_PID, 0, 0) == 0:
    done["ipc"].append("ptrace")
print(json.dumps(done))
"""


def test_a_session_cannot_see_signal_or_change_another(c: Client, live: ServerThread, engine: Any) -> None:
    with c.session("python") as victim, c.session("python") as attacker:
        victim.exec("x = 42\nopen('secret.txt', 'w').write('s3cret')")
        vdir, vtmp = ast.literal_eval(victim.exec("import os\n(os.getcwd(), os.environ['TMPDIR'])").result)
        victim_uid = int(victim.exec("os.getuid()").result)
        attacker_uid = int(attacker.exec("import os\nos.getuid()").result)
        assert attacker_uid != victim_uid
        box = sandbox_of(engine, live)
        uids = {p[0]: p[1] for p in inside(box, PROCESSES)}
        victim_pids = [pid for pid, uid in uids.items() if uid == victim_uid]
        assert victim_pids
        code = ATTACK.replace("VICTIM_DIR", repr(vdir)).replace("VICTIM_TMP", repr(vtmp))
        code = code.replace("VICTIM_PID", str(victim_pids[0]))
        r = attacker.exec(code, time_limit_s=5)
        assert r.verdict == pb.ACCEPTED, r
        done = json.loads(r.stdout)
        # it reached nothing but its own processes, read and wrote nothing outside its own slot
        others = {pid for pid, uid in uids.items() if uid != attacker_uid}
        assert not others & set(done["signalled"]), done
        reached = [p for p in done["read"] if not p.split("/")[0].isdigit() or int(p.split("/")[0]) in others]
        assert reached == [], done
        assert done["wrote"] == [] and done["ipc"] == [], done
        # and the victim is as it was
        assert victim.exec("x").result == "42"
        assert victim.exec("sorted(os.listdir())").result == "['secret.txt']"
        assert victim.exec("open('secret.txt').read()").result == "'s3cret'"
        assert victim.exec("sorted(os.listdir(os.environ['TMPDIR']))").result == "[]"


def test_a_cell_that_kills_its_state_first_thing_is_still_run_as_its_cell(c: Client) -> None:
    """A cell gets its code only once the runner has named its process (the state alive, the
    cell its child). Before, a cell that killed its state and ended before the runner read the
    state's word was refused (seen once in CI: "the session's process did not start the
    cell"). That was a race, so this cannot force it; each round is one more chance for it."""
    for _ in range(8):
        with c.session("python") as s:
            r = s.exec("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('ran')", time_limit_s=5)
            assert r.verdict == pb.ACCEPTED, r
            assert r.stdout == b"ran\n"


# -- what one tree does to the sandbox (red team, docs/SECURITY.md "Sessions") --------------------
SLOW_DEATH = """
import os, mmap
r, w = os.pipe()
hold, _ = os.pipe()
if os.fork() == 0:
    for fd in range(3, 256):  # (the cell's record pipe among them: the cell is over when its process is)
        if fd not in (w, hold):
            try:
                os.close(fd)
            except OSError:
                pass
    m = mmap.mmap(-1, 400 << 20)
    for i in range(0, 400 << 20, 4096):
        m[i] = 1
    os.write(w, b'filled')
    os.read(hold, 1)  # (never: it is killed with the cell, 400 MiB to free as it dies)
os.read(r, 6).decode()
"""


def test_a_slow_death_in_one_tree_breaks_no_other_session(c: Client) -> None:
    with c.session("python") as victim, c.session("python", limits=pb.Limits(memory_limit_mb=1024)) as attacker:
        victim.exec("x = 42")
        for _ in range(3):  # its child dies as fast as the kernel frees 400 MiB: waited for, never a break
            r = attacker.exec(SLOW_DEATH, time_limit_s=60)
            assert r.verdict == pb.ACCEPTED and r.result == "'filled'", r
        assert victim.exec("x").result == "42"
        assert attacker.exec("1 + 1").result == "2"


DEEP = """
import os
top = os.open('.', os.O_RDONLY)
for _ in range(DEPTH):
    if not os.path.isdir(f'/proc/self/fd/{top}/d'):
        os.mkdir('d', dir_fd=top)
    nxt = os.open('d', os.O_RDONLY, dir_fd=top)
    os.close(top)
    top = nxt
os.close(os.open('leaf.txt', os.O_WRONLY | os.O_CREAT, dir_fd=top))
os.mkfifo('p', dir_fd=top)
'deep'
"""


def test_a_deep_directory_is_forked_and_wiped_without_breaking_the_sandbox(
    c: Client, live: ServerThread, engine: Any
) -> None:
    with c.session("python") as victim:
        victim.exec("x = 42")
        box = sandbox_of(engine, live)
        s = c.session("python")
        cwd = s.exec("import os\nos.getcwd()").result.strip("'")
        assert s.exec(DEEP.replace("DEPTH", "900"), time_limit_s=60).result == "'deep'"
        with s.fork() as f:  # copied without recursion (900 levels), the FIFO made anew, never opened
            code = "import os, stat\np = '/'.join(['d'] * 900)\n"
            code += "(os.path.isfile(p + '/leaf.txt'), stat.S_ISFIFO(os.lstat(p + '/p').st_mode))"
            assert f.exec(code).result == "(True, True)"
        assert slot_usage(box, int(cwd.split("/")[2]))[0] < 1000  # the fork's copy is gone with it
        r = s.exec(DEEP.replace("DEPTH", "1500"), time_limit_s=60)
        assert r.result == "'deep'", r
        s.close()  # wiped without recursion (1500 levels)
        slot = int(cwd.split("/")[2])
        assert eventually(lambda: slot_usage(box, slot) == [1, 0])
        assert victim.exec("x").result == "42"


def test_a_fifo_in_a_session_never_blocks_the_runner(c: Client) -> None:
    with c.session("python") as victim, c.session("python") as s:
        victim.exec("x = 42")
        s.exec("import os\nos.mkfifo('data.csv')\nos.mkdir('sub')\nos.mkfifo('sub/f')")
        # the FIFO is replaced by the file given, not opened (a write-only open would wait for a reader)
        r = s.exec("open('data.csv').read()", files={"data.csv": b"a,b\n", "sub/f": b"x"})
        assert (r.verdict, r.result) == (pb.ACCEPTED, "'a,b\\n'"), r
        s.exec("os.mkfifo('again')")
        r = s.exec("1", fetch=["again"])  # read back: refused, never waited on
        assert "not a regular file" in r.error
        with s.fork() as f:
            assert f.exec("import stat\nstat.S_ISFIFO(os.lstat('again').st_mode)").result == "True"
        assert victim.exec("x").result == "42"


SOCKET_FILL = """
import socket
pairs, total = [], 0
for _ in range(60):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    a.setblocking(False)
    try:
        while True:
            total += a.send(b'x' * (1 << 16))
    except BlockingIOError:
        pass
    pairs.append((a, b))
total >> 20
"""


def test_data_queued_in_sockets_is_the_sessions_memory(c: Client) -> None:
    with c.session("python", limits=pb.Limits(memory_limit_mb=64)) as s:
        s.exec("x = 1")
        r = s.exec("x = 2\n" + SOCKET_FILL, time_limit_s=60)
        # far over 64 MiB queued (the red team's 784 MiB) is its memory: stopped, rolled back
        assert r.verdict == pb.MEMORY_LIMIT_EXCEEDED, r
        assert s.exec("x").result == "1"


SHELLS = """
import subprocess
[subprocess.run([sh, '-c', 'sleep 0.05 & wait; echo ok | cat'], capture_output=True, text=True, timeout=60).stdout
 for sh in ('bash', 'sh')]
"""


def test_no_memfd_in_a_session(c: Client) -> None:
    """A memfd is memory in no process's RSS and no file of the tree's: refused in a session (a
    scoring sandbox counts its cgroup, where it shows). Shells, which set SIGCHLD handlers, run."""
    with c.session("python") as s:
        r = s.exec("import os\nos.memfd_create('m')")
        assert r.verdict == pb.RUNTIME_ERROR and "PermissionError" in r.error, r
        r = s.exec(SHELLS)
        assert r.result == "['ok\\n', 'ok\\n']", r


# The runner stops a state and sees that through at a later look; a state resumed before that is only
# stopped again (its CPU the running cell's). So the cell resumes it again and again, each time once it
# shows stopped, for 3 s: however slowly the runner looks, it has seen the stop before the later ones.
RESUME_STATE = """
import os, signal, time
def state(pid):
    try:
        raw = open(f'/proc/{pid}/stat').read()
    except OSError:
        return 'gone'
    return raw[raw.rfind(')') + 2]
end = time.monotonic() + 3
while time.monotonic() < end and state(PID) not in ('gone', 'Z'):  # (ended by the runner: done)
    if state(PID) == 'T':
        time.sleep(0.1)
        try:
            os.kill(PID, signal.SIGCONT)
        except ProcessLookupError:
            break
    time.sleep(0.01)
"""


def test_a_stopped_state_that_a_cell_resumes_is_ended(c: Client) -> None:
    """Between commands a state is stopped; a process of its tree (same uid) can send it SIGCONT.
    The state's own cell doing so (once the runner has seen the state stopped): the roll-back would
    go on from a state that ran meanwhile, so the session ends. Another session's cell doing so: the
    idle session ends within one sweep, before its threads run long (CPU no cell is charged for)."""
    with c.session("python") as s:
        s.exec("import threading, time\ndef spin():\n    while True:\n        time.sleep(0.01)\n")
        s.exec("threading.Thread(target=spin, daemon=True).start()")
        r = s.exec("import os\n" + RESUME_STATE.replace("PID", "os.getppid()") + "os._exit(0)")
        assert r.session_ended and "resumed" in r.error, r
    with c.session("python") as a:
        pid = int(a.exec("import os\nos.getpid()").result)  # (the cell's process: a's state from now on)
        with a.fork() as b:
            assert b.exec("1").result == "1"
            r = b.exec(RESUME_STATE.replace("PID", str(pid)))
            assert r.verdict == pb.ACCEPTED and not r.session_ended, r
            r = a.exec("1")  # (it was ended while idle: its next command says why)
            assert r.session_ended and "resumed" in r.error and r.verdict != pb.ACCEPTED, r
            with pytest.raises(grpc.RpcError) as err:
                a.exec("1")
            assert code_of(err) == grpc.StatusCode.NOT_FOUND, err.value.details()
            assert b.exec("2").result == "2"  # (the cell that did it: its session goes on)


# A thread of the state that posix_spawn()s (glibc: a vfork) a child held before its exec (opening a
# FIFO nobody writes): the thread waits in the kernel, where SIGSTOP does not reach it.
HELD_SPAWNER = r"""
import os, threading, ctypes, time
if not os.path.exists('ff'):
    os.mkfifo('ff')
def _spawner():
    time.sleep(0.05)
    libc = ctypes.CDLL(None, use_errno=True)
    fa = ctypes.create_string_buffer(256)
    libc.posix_spawn_file_actions_init(fa)
    libc.posix_spawn_file_actions_addopen(fa, 3, os.path.abspath('ff').encode(), os.O_RDONLY, 0)
    argv = (ctypes.c_char_p * 2)(b'true', None)
    envp = (ctypes.c_char_p * 1)(None)
    pid = ctypes.c_int()
    while True:
        libc.posix_spawn(ctypes.byref(pid), b'/bin/true', fa, None, argv, envp)
threading.Thread(target=_spawner, daemon=True).start()
"""


def test_a_state_that_cannot_stop_holds_up_no_one(c: Client, live: ServerThread) -> None:
    """The runner never waits for a state to stop (it serves every session of its sandbox from one
    loop): eight such cells at once, once waited for up to 5 s each, broke the sandbox and every
    other client's session in it (red team). Now each is seen through later; nothing breaks."""
    with Client(live.target) as other:
        victim = other.session("python")
        victim.exec("x = 41")
        trees = [c.session("python") for _ in range(4)]
        attackers = trees + [t.fork() for t in trees]
        for a in attackers:
            assert a.exec(HELD_SPAWNER + "'armed'").verdict == pb.ACCEPTED
        time.sleep(0.2)
        with ThreadPoolExecutor(len(attackers)) as pool:
            cells = [pool.submit(a.exec, HELD_SPAWNER + "1") for a in attackers]
            r = victim.exec("x + 1")
            answers = [f.result() for f in cells]
        assert (r.verdict, r.result) == (pb.ACCEPTED, "42"), r
        assert all(a.verdict == pb.ACCEPTED for a in answers), answers
        assert victim.exec("x").result == "41"
        for a in attackers:
            a.close()
        victim.close()


# The state's code is the candidate's once a cell has run in it: serving ForkSession, it first
# starts a worker that burns CPU (its pid noted in the tree's TMPDIR, which forks share).
WORKER_ON_FORK = """
import os, sys
sp = sys.modules[[m for m in sys.modules if m.endswith('session_process')][0]]
def forking(self, ctl, cwd, _orig=sp._State._fork):
    pid = os.fork()
    if pid == 0:
        while True:
            pass
    open(os.path.join(os.environ['TMPDIR'], 'worker.pid'), 'w').write(str(pid))
    return _orig(self, ctl, cwd)
sp._State._fork = forking
'armed'
"""
WORKER_GONE = """
import os
pid = int(open(os.path.join(os.environ['TMPDIR'], 'worker.pid')).read())
try:
    raw = open(f'/proc/{pid}/stat').read()
    found = raw[raw.rfind(')') + 2]
except OSError:
    found = 'gone'
found in ('gone', 'Z')
"""


def test_what_a_state_starts_while_it_forks_goes_with_the_fork(c: Client) -> None:
    """A state runs to serve ForkSession; whatever else it starts meanwhile is killed, as after a
    cell: an idle session runs nothing (a worker ran for 18 s of CPU, charged to no one). Looked at
    from the fork: a cell of the session itself would kill it as a stray anyway."""
    with c.session("python") as a:
        assert a.exec(WORKER_ON_FORK).result == "'armed'"
        with a.fork() as b:
            assert b.exec(WORKER_GONE).result == "True"


def test_honest_forks_are_never_taken_for_resumed_states(c: Client) -> None:
    """A just-forked state is often still running when it is stopped; a thread the kernel already
    shows stopped may still be leaving its CPU. 150 honest forks: none is ended (2 in 300 were)."""
    with c.session("python") as s:
        s.exec("x = 1")
        for i in range(150):
            with s.fork() as f:
                r = f.exec("x")
                assert (r.verdict, r.result, r.session_ended) == (pb.ACCEPTED, "1", False), (i, r)


def test_a_tree_cannot_leave_its_slot_open_or_dirty_for_the_next(c: Client, live: ServerThread, engine: Any) -> None:
    a = c.session("python")
    box = sandbox_of(engine, live)
    with c.session("python") as b:
        slot_dir = ast.literal_eval(a.exec("import os\nos.path.dirname(os.getcwd())").result)
        # a opens its slot to every uid; b plants files of its own there (and a directory of its own)
        a.exec("os.chmod('..', 0o777)\nos.mkdir('../pub')\nos.chmod('../pub', 0o777)")
        planted = f"import os\nopen('{slot_dir}/b.txt', 'w').write('b')\nos.mkdir('{slot_dir}/pub/bdir')\n"
        planted += f"open('{slot_dir}/pub/bdir/f', 'w').write('b')\nos.chmod('{slot_dir}/pub/bdir', 0)\n'planted'"
        assert b.exec(planted).result == "'planted'"
        a.close()
        slot = int(slot_dir.split("/")[2])
        # everything in it removed, whoever owns it; its root is its uid's and 0700 again before reuse
        assert eventually(lambda: slot_usage(box, slot) == [1, 0])
        mode = f"import os, json; st = os.stat('{slot_dir}'); print(json.dumps([st.st_mode & 0o7777, st.st_uid]))"
        assert eventually(lambda: inside(box, mode)[0] == 0o700)
        r = b.exec(f"os.listdir('{slot_dir}')")
        assert r.verdict == pb.RUNTIME_ERROR and "PermissionError" in r.error


def test_trees_have_no_network_sockets(c: Client) -> None:
    with c.session("python") as s:
        code = "import socket\nrefused = []\n"
        code += "for fam, kind in ((2, 1), (2, 2), (10, 1), (16, 3), (17, 3)):\n"
        code += "    try:\n        socket.socket(fam, kind).close()\n"
        code += "    except PermissionError:\n        refused.append(fam)\nrefused"
        assert s.exec(code).result == "[2, 2, 10, 16, 17]"
        # unix sockets stay (socketpair for asyncio and multiprocessing; socket() for their listeners)
        code = "a, b = socket.socketpair()\na.send(b'x')\nsocket.socket(socket.AF_UNIX).close()\nb.recv(1)"
        assert s.exec(code).result == "b'x'"


def test_abstract_unix_sockets_do_not_cross_trees(c: Client) -> None:
    """Each tree is a Landlock domain of its own: a name another tree bound is unreachable."""
    with c.session("python") as a, c.session("python") as b:
        assert a.exec("import os\nos.getuid()").result != b.exec("import os\nos.getuid()").result
        name = f"rlce-test-{uuid.uuid4().hex}"
        a.exec(f"import socket\nl = socket.socket(socket.AF_UNIX)\nl.bind(b'\\0{name}')\nl.listen(4)")
        code = f"import socket\nk = socket.socket(socket.AF_UNIX)\ntry:\n    k.connect(b'\\0{name}')\n"
        code += "    r = 'connected'\nexcept OSError as e:\n    r = type(e).__name__\nr"
        assert b.exec(code).result == "'PermissionError'", "another tree reached the name"
        assert a.exec(code).result == "'connected'", "a tree reaches its own names"
        with a.fork() as branch:  # a fork is the same tree (docs/SESSIONS.md)
            assert branch.exec(code).result == "'connected'"


SLOW_TELL = """
import sys, time
sp = sys.modules[[m for m in sys.modules if m.endswith('session_process')][0]]
def slow_tell(self, pid, error='', _orig=sp._State._tell):
    t = time.process_time()
    while time.process_time() - t < 0.6:  # the state burns before naming its cell
        pass
    return _orig(self, pid, error)
sp._State._tell = slow_tell
'armed'
"""


def test_what_a_state_burns_before_naming_its_cell_is_charged_to_the_cell(c: Client) -> None:
    with c.session("python", limits=pb.Limits(time_limit_s=30)) as s:
        assert s.exec(SLOW_TELL).result == "'armed'"
        for _ in range(3):  # each next cell: its state burned 0.6 s of CPU before naming it
            r = s.exec("1")
            assert r.verdict == pb.ACCEPTED and r.cpu_time_s >= 0.5, r


# -- lifecycle ------------------------------------------------------------------------------------
def test_expiry_leaves_nothing_and_a_uid_comes_back_only_wiped(c: Client, live: ServerThread, engine: Any) -> None:
    s = c.session("python", idle_timeout_s=1)
    uid, cwd = ast.literal_eval(
        s.exec(
            "import os\nopen('keep.txt', 'w').write('x')\n"
            "open(os.path.join(os.environ['TMPDIR'], 't'), 'w').write('y')\n"
            "(os.getuid(), os.getcwd())"
        ).result
    )
    slot = int(cwd.split("/")[2])
    box = sandbox_of(engine, live)

    # (watched from inside: a call on the session would keep it alive)
    assert eventually(lambda: not [p for p in inside(box, PROCESSES) if p[1] == uid])
    assert eventually(lambda: slot_usage(box, slot) == [1, 0])
    with pytest.raises(grpc.RpcError) as err:
        c.exec(s.id, "1")
    assert code_of(err) == grpc.StatusCode.NOT_FOUND and "expired" in err.value.details()
    # the slot's uid is handed out again, its tmpfs empty: nothing of the expired session is there
    opened = []
    try:
        for _ in range(SESSIONS["slots_per_sandbox"]):
            n = c.session("python")
            opened.append(n)
            if int(n.exec("import os\nos.getuid()").result) == uid:
                listing = ast.literal_eval(n.exec("sorted(os.listdir('..'))").result)
                assert len(listing) == 2 and "keep.txt" not in listing, listing  # its own directory and its tmp
                break
        else:
            pytest.fail(f"uid {uid} was not handed out again")
    finally:
        for n in opened:
            n.close()


def test_not_found_after_close_and_for_ids_it_never_gave(c: Client) -> None:
    s = c.session("python")
    s.close()
    for sid in (s.id, "0123456789ab-" + "0" * 32, "nonsense"):
        for op in (lambda i: c.exec(i, "1"), c.fork_session, c.close_session):
            with pytest.raises(grpc.RpcError) as err:
                op(sid)
            assert code_of(err) == grpc.StatusCode.NOT_FOUND, err.value.details()


def test_close_stops_a_running_cell(c: Client, live: ServerThread, engine: Any) -> None:
    s = c.session("python")
    uid = int(s.exec("import os\nos.getuid()").result)
    got: list[Any] = []

    def spin() -> None:
        try:
            got.append(c.exec(s.id, "while True: pass", time_limit_s=50))
        except grpc.RpcError as exc:
            got.append(exc.code())

    t = threading.Thread(target=spin)
    t.start()
    box = sandbox_of(engine, live)
    # (whether the close comes before the cell reaches its sandbox or while it runs, the answer is the same)
    eventually(lambda: [p for p in inside(box, PROCESSES) if p[1] == uid and p[3] == "R"], timeout_s=10)
    s.close()
    t.join(60)
    assert got == [grpc.StatusCode.NOT_FOUND]
    assert eventually(lambda: not [p for p in inside(box, PROCESSES) if p[1] == uid])


def test_a_session_stays_on_its_server_and_a_restarted_server_knows_none(live: ServerThread, engine: Any) -> None:
    other = ServerThread(workers=1, sessions=SESSIONS).start()
    try:
        with Client([live.target, other.target]) as both:
            sessions = [both.session("python") for _ in range(4)]  # round robin over the two servers
            for i, s in enumerate(sessions):
                s.exec(f"n = {i}")
            forks = [s.fork() for s in sessions]
            assert [f.exec("n").result for f in forks] == ["0", "1", "2", "3"]  # each call on its server
            for s in sessions + forks:
                s.close()
            kept = both.session("python")
            kept.exec("n = 7")
        restarted = ServerThread(workers=1, sessions=SESSIONS, instance_id=other.settings.instance_id)
    finally:
        other.stop()
    restarted.start()
    try:
        with Client(restarted.target) as fresh, Client(live.target) as old:
            on_live = kept.id.split("-")[0] == live.app.sessions.boot  # type: ignore[union-attr]
            for client in (fresh, old):  # one of them opened it, before a restart: neither knows it now
                if client is old and on_live:
                    continue
                with pytest.raises(grpc.RpcError) as err:
                    client.exec(kept.id, "n")
                assert code_of(err) == grpc.StatusCode.NOT_FOUND and "not one of this server's" in err.value.details()
            if on_live:
                old.close_session(kept.id)
    finally:
        restarted.stop()
    left = engine.containers.list(
        all=True, filters={"label": f"rlce.server={other.settings.instance_id}"}, ignore_removed=True
    )
    assert not left


def test_past_the_caps_resource_exhausted(c: Client) -> None:
    opened = []
    try:
        # slots: one per tree
        for _ in range(SESSIONS["slots_per_sandbox"]):
            opened.append(c.session("python"))
        with pytest.raises(grpc.RpcError) as err:
            c.session("python")
        assert code_of(err) == grpc.StatusCode.RESOURCE_EXHAUSTED
        # forks take no slot, but a tree holds at most max_per_tree sessions, the server max_open
        for _ in range(SESSIONS["max_per_tree"] - 1):
            opened.append(opened[0].fork())
        with pytest.raises(grpc.RpcError) as err:
            opened[0].fork()
        assert code_of(err) == grpc.StatusCode.RESOURCE_EXHAUSTED and "at most" in err.value.details()
        with pytest.raises(grpc.RpcError) as err:
            opened[1].fork()
        assert code_of(err) == grpc.StatusCode.RESOURCE_EXHAUSTED and "server's cap" in err.value.details()
    finally:
        for s in opened:
            s.close()
    with c.session("python") as again:  # room again once they are closed
        assert again.exec("1 + 1").result == "2"


def test_score_is_served_while_sessions_run(c: Client, live: ServerThread) -> None:
    results: list[pb.ExecResponse] = []

    def busy() -> None:
        with Client(live.target) as other, other.session("python") as s:
            spin = "import time\nt = time.time() + 2\nwhile time.time() < t: pass\n'done'"
            results.append(s.exec(spin, time_limit_s=10))

    threads = [threading.Thread(target=busy) for _ in range(2)]
    for t in threads:
        t.start()
    scored = [c.score("python", ADD, [call("add", [i, 1], i + 1)], no_cache=True) for i in range(5)]
    for t in threads:
        t.join(120)
    assert [r.verdict for r in scored] == [pb.ACCEPTED] * 5
    assert [(r.verdict, r.result) for r in results] == [(pb.ACCEPTED, "'done'")] * 2


# -- integrations ---------------------------------------------------------------------------------
def test_the_openai_style_tool_call_runs_in_the_session(c: Client) -> None:
    assert PYTHON_TOOL["function"]["name"] == "python"
    with c.session("python") as s:

        def tool(code: str, i: int) -> str:
            arguments = json.dumps({"code": code})
            tool_call = {"id": f"c{i}", "type": "function", "function": {"name": "python", "arguments": arguments}}
            msg = execute_tool_call(c, s.id, tool_call)
            assert msg["role"] == "tool" and msg["tool_call_id"] == f"c{i}"
            return str(msg["content"])

        assert tool("import math\nr = 2", 1) == "[no output]"
        assert tool("print('area'); math.pi * r ** 2", 2) == "area\n12.566370614359172"
        assert "ZeroDivisionError" in tool("1 / 0", 3)
        bad = execute_tool_call(c, s.id, {"id": "c4", "function": {"name": "python", "arguments": "{not json"}})
        assert bad["content"].startswith("error: the arguments are not JSON")
        obj = types.SimpleNamespace(id="c5", function=types.SimpleNamespace(name="python", arguments='{"code": "r"}'))
        assert execute_tool_call(c, s.id, obj)["content"] == "2"  # an SDK object works as a dict does


def _verl_tools(target: str) -> list[Any]:
    """The tool as veRL 0.9.1 loads it: ``initialize_tools_from_config`` on a YAML file (Ray, which only
    its tracing helper imports, stands in as an empty module when it is not installed)."""
    from .test_rl_adapters import trainer_module

    try:
        import ray  # noqa: F401
    except ImportError:
        sys.modules.setdefault("ray", types.ModuleType("ray"))
    registry = trainer_module("verl.tools.tool_registry")
    config = {
        "tools": [
            {
                "class_name": "rlce_server.rl.verl_tool.RlceCodeTool",
                "config": {"type": "native", "target": target, "time_limit_s": 2, "idle_timeout_s": 60},
            }
        ]
    }
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(config, fh)
    tools = registry.initialize_tools_from_config(fh.name)
    base = trainer_module("verl.tools.base_tool").BaseTool
    assert len(tools) == 1 and isinstance(tools[0], base) and tools[0].name == "python"
    return tools  # type: ignore[no-any-return]


def test_the_verl_tool_keeps_a_trajectorys_names_and_closes_its_session(live: ServerThread) -> None:
    tool = _verl_tools(live.target)[0]

    async def verl_call(agent_data: Any, code: str) -> str:
        # veRL 0.9.1 ToolAgentLoop._call_tool: create, execute(..., agent_data=...), release, per call
        instance_id, _ = await tool.create(create_kwargs={"files": {"n.txt": "7"}})
        try:
            response, reward, _metrics = await tool.execute(instance_id, {"code": code}, agent_data=agent_data)
        finally:
            await tool.release(instance_id)
        assert reward == 0.0
        return str(response.text)

    async def trajectories() -> list[str]:
        class AgentData:  # the trajectory's state object veRL passes (any object that takes attributes)
            pass

        one, two = AgentData(), AgentData()
        got = [await verl_call(one, "n = int(open('n.txt').read())"), await verl_call(two, "n = 1")]
        got += await asyncio.gather(verl_call(one, "n * 6"), verl_call(two, "n * 6"))
        sid = await getattr(one, tool.TRAJECTORY_ATTR)
        del one, two
        gc.collect()  # veRL drops a finished trajectory's data: its session is closed

        async with AsyncClient(live.target) as check:
            for _ in range(600):
                try:
                    await check.exec(sid, "1")
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.NOT_FOUND and "closed" in exc.details()
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the trajectory's session was not closed")
        # the other contract: one instance for a whole trajectory, closed by release
        instance_id, _ = await tool.create()
        got.append((await tool.execute(instance_id, {"code": "k = 3"}))[0].text)
        got.append((await tool.execute(instance_id, {"code": "k + 1"}))[0].text)
        await tool.release(instance_id)
        return got

    assert asyncio.run(trajectories()) == ["[no output]", "[no output]", "42", "6", "[no output]", "4"]


def test_the_agent_example_scores_its_final_answers(live: ServerThread) -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import agent_sessions
    finally:
        sys.path.pop(0)
    rewards = agent_sessions.main(live.target, show=False)
    assert rewards["good"] == 1.0 and rewards["bad"] < 1.0


# -- Run in every compiled runtime -------------------------------------------------------------------
HELLO = {
    "cpp": """#include <fstream>
#include <iostream>
#include <string>
int main() {
    std::string s, t;
    std::cin >> s;
    std::ifstream("in.txt") >> t;
    std::ofstream("out.txt") << s << t;
    std::cout << "ok" << std::endl;
}
""",
    "java": """import java.nio.file.*;
public class Main {
    public static void main(String[] a) throws Exception {
        String s = new java.util.Scanner(System.in).next();
        String t = Files.readString(Path.of("in.txt")).trim();
        Files.writeString(Path.of("out.txt"), s + t);
        System.out.println("ok");
    }
}
""",
    "javascript": """const fs = require("fs");
const s = fs.readFileSync(0, "utf8").trim();
fs.writeFileSync("out.txt", s + fs.readFileSync("in.txt", "utf8").trim());
console.log("ok");
""",
    "go": """package main

import (
    "fmt"
    "os"
)

func main() {
    var s string
    fmt.Scan(&s)
    t, _ := os.ReadFile("in.txt")
    os.WriteFile("out.txt", []byte(s+string(t)), 0o644)
    fmt.Println("ok")
}
""",
    "rust": """use std::io::Read;
fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let t = std::fs::read_to_string("in.txt").unwrap();
    std::fs::write("out.txt", format!("{}{}", s.trim(), t.trim())).unwrap();
    println!("ok");
}
""",
}


@pytest.mark.parametrize("language", COMPILED)
def test_run_builds_and_runs_every_compiled_runtime(polyglot: ServerThread, language: str) -> None:
    with Client(polyglot.target) as client:
        r = client.run(language, HELLO[language], stdin="ab", files={"in.txt": "cd"}, fetch=["out.txt"], timeout_s=300)
        assert (r.verdict, r.stdout, dict(r.files)) == (pb.ACCEPTED, b"ok\n", {"out.txt": b"abcd"}), r
        broken = client.run(language, "this is not a program", timeout_s=300)
        assert broken.verdict == pb.COMPILE_ERROR and broken.error
