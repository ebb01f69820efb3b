"""A process a program leaves behind is found and killed whatever it calls itself.

Red team (2026-12-03): a grandchild of the program, in a session of its own, renamed itself
b"\\xff\\xfe" (prctl PR_SET_NAME). The clean-up read /proc/<pid>/status as UTF-8 text, the
read raised, and the process was skipped: holding the program's stdout, it hung the runner
(two sandboxes lost, "the program breaks the sandbox"); with its descriptors closed, it
survived the job in a sandbox reported clean and killed the next job's program. The scan now
reads bytes, never skips a process, and the pids cgroup's count backs it: tasks it cannot
account for are killed by uid. One sandbox, so the probe runs where the attack ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rlce_server.client import Client, pb, stdio
from tests.conftest import serving

HIDE = r"""
import ctypes, os, signal, sys
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"\xff\xfe", 0, 0, 0)
        if KEEP_STDOUT == 0:
            for fd in (0, 1, 2):
                os.close(fd)
        os.write(w, b"hidden")
        os.close(w)
        signal.pause()
        os._exit(0)
    os._exit(0)
os.close(w)
assert os.read(r, 16) == b"hidden"
a, b = map(int, input().split())
print(a + b)
"""

# Every process of this program's own uid but itself: none may be left from an earlier job.
PROBE = r"""
import os
me, mine = os.getuid(), []
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        try:
            with open(f"/proc/{entry}/status", "rb") as fh:
                lines = fh.read().split(b"\n")
        except OSError:
            continue
        uid = next(int(line.split()[1]) for line in lines if line.startswith(b"Uid:"))
        if uid == me:
            mine.append(entry)
input()
print(len(mine))
"""


# The main thread ends (a raw SYS_exit, as pthread_exit in main does) while a thread runs on:
# the leader's State reads "Z" though the process lives (red team: never signalled, two
# sandboxes broken instead of the program's TIME_LIMIT_EXCEEDED).
MAIN_THREAD_EXITS = r"""
import ctypes, threading, time
a, b = map(int, input().split())
print(a + b, flush=True)
threading.Thread(target=lambda: time.sleep(10**6)).start()
ctypes.CDLL(None).syscall(60, 0)
"""

# A POSIX message queue lives in the container's IPC namespace, not in any process or mount.
MQUEUE = r"""
import ctypes, os
libc = ctypes.CDLL("libc.so.6", use_errno=True)
q = libc.mq_open(b"/rlce-left-behind", os.O_CREAT | os.O_RDWR, 0o666, None)
input()
print("refused" if q == -1 and ctypes.get_errno() == 1 else f"opened {q} errno {ctypes.get_errno()}")
"""


@pytest.fixture(scope="module")
def one_sandbox(images: dict[str, str], engine: Any) -> Iterator[Client]:
    for srv in serving(engine, runtimes=["python"], workers=1):
        with Client(srv.target) as c:
            yield c


def _score(client: Client, program: str, expected: str) -> pb.ScoreResponse:
    return client.score("python", program, [stdio("2 3\n", expected)], no_cache=True, timeout_s=300)


@pytest.mark.parametrize("keep_stdout", [1, 0], ids=["holding-stdout", "detached"])
def test_a_renamed_process_left_behind_is_killed_with_its_job(one_sandbox: Client, keep_stdout: int) -> None:
    x = _score(one_sandbox, f"KEEP_STDOUT = {keep_stdout}\n" + HIDE, "5\n")
    messages = [t.message for t in x.tests]
    assert x.verdict not in (pb.SANDBOX_ERROR, pb.INVALID_REQUEST), (x.error, messages)
    assert not any("breaks the sandbox" in m for m in messages), messages
    probe = _score(one_sandbox, PROBE, "0\n")
    assert probe.verdict == pb.ACCEPTED, [t.message for t in probe.tests] + [t.stdout for t in probe.tests]


def test_a_process_whose_main_thread_ended_is_killed_not_taken_for_a_zombie(one_sandbox: Client) -> None:
    x = _score(one_sandbox, MAIN_THREAD_EXITS, "5\n")
    messages = [t.message for t in x.tests]
    assert x.verdict not in (pb.SANDBOX_ERROR, pb.INVALID_REQUEST, pb.ACCEPTED), (x.error, messages)
    assert not any("breaks the sandbox" in m for m in messages), messages
    probe = _score(one_sandbox, PROBE, "0\n")
    assert probe.verdict == pb.ACCEPTED, [t.message for t in probe.tests] + [t.stdout for t in probe.tests]


def test_posix_message_queues_are_refused(one_sandbox: Client) -> None:
    x = _score(one_sandbox, MQUEUE, "refused\n")
    assert x.verdict == pb.ACCEPTED, [t.stdout for t in x.tests]
