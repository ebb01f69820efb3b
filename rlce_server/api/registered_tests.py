"""RegisterTests: problems (tests and their judges) stored once, named by a content digest.

The ref is the SHA-256 of the deterministic serialisation of the tests and
the checker and interactor, so the same problem always gives the same ref.
Bounded LRU: an evicted ref is an unknown ref, and the caller registers
again (API.md).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..domain import Problem


def tests_digest(tests: Sequence[pb.TestCase], *judges: pb.JudgeProgram | None) -> str:
    h = hashlib.sha256()
    for tc in tests:
        data = tc.SerializeToString(deterministic=True)
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    for judge in judges:  # a problem with judges is not the same problem as its bare tests
        data = judge.SerializeToString(deterministic=True) if judge is not None else b""
        h.update(b"judge" + len(data).to_bytes(8, "big") + data)
    return "sha256:" + h.hexdigest()


class RegisteredTests:
    """Test sets by ref, least recently used evicted past ``max_sets`` sets or ``max_bytes``
    (their size on the wire), so registering cannot grow the server without bound."""

    def __init__(self, max_sets: int, max_bytes: int) -> None:
        self.max_sets = max_sets
        self.max_bytes = max_bytes
        self.bytes = 0
        self._sets: OrderedDict[str, tuple[Problem, int]] = OrderedDict()

    def put(self, ref: str, tests: Problem, size: int) -> None:
        old = self._sets.pop(ref, None)
        if old is not None:
            self.bytes -= old[1]
        self._sets[ref] = (tests, size)
        self.bytes += size
        while len(self._sets) > self.max_sets or (self.bytes > self.max_bytes and len(self._sets) > 1):
            _, (_, dropped) = self._sets.popitem(last=False)
            self.bytes -= dropped

    def get(self, ref: str) -> Problem | None:
        found = self._sets.get(ref)
        if found is None:
            return None
        self._sets.move_to_end(ref)
        return found[0]
