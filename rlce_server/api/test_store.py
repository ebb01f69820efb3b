"""RegisterTests: test sets stored once, named by a content digest.

The ref is the SHA-256 of the deterministic serialisation of the tests, so
the same tests always give the same ref. Bounded LRU: an evicted ref is an
unknown ref, and the caller registers again (API.md).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from .._proto.rlce.v1 import scorer_pb2 as pb
from ..domain import TestCase


def tests_digest(tests: Sequence[pb.TestCase]) -> str:
    h = hashlib.sha256()
    for tc in tests:
        data = tc.SerializeToString(deterministic=True)
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return "sha256:" + h.hexdigest()


class TestStore:
    __test__ = False  # not a pytest class

    def __init__(self, max_sets: int) -> None:
        self.max_sets = max_sets
        self._sets: OrderedDict[str, tuple[TestCase, ...]] = OrderedDict()

    def put(self, ref: str, tests: tuple[TestCase, ...]) -> None:
        self._sets[ref] = tests
        self._sets.move_to_end(ref)
        while len(self._sets) > self.max_sets:
            self._sets.popitem(last=False)

    def get(self, ref: str) -> tuple[TestCase, ...] | None:
        tests = self._sets.get(ref)
        if tests is not None:
            self._sets.move_to_end(ref)
        return tests
