"""The runner's client of the zygote socket must never die on a passed deadline."""

import json
import socket

import pytest

from rlce_server.sandbox.rlce_runner.runner import SandboxBroken, Zygote


def test_pump_with_a_passed_deadline_waits_briefly_instead_of_raising():
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    z = Zygote(mine)
    for timeout in (-0.5, 0.0, 0.001):
        z.pump(timeout)  # nothing to read: returns, no ValueError / BlockingIOError
    theirs.send(json.dumps({"exited": "p1", "status": 0, "cpu_s": 0.0, "maxrss_kb": 1}).encode())
    z.pump(-1)
    assert "p1" in z.exited
    theirs.close()
    with pytest.raises(SandboxBroken):
        z.pump(1)


def test_judge_imports_only_side_effect_free_stdlib_modules_for_a_program():
    from rlce_server.sandbox.rlce_runner.driver import _importable

    assert _importable("math") and _importable("collections.abc") and _importable("heapq")
    assert not _importable("antigravity") and not _importable("this") and not _importable("webbrowser")
    assert not _importable("definitely_not_stdlib_xyz")
