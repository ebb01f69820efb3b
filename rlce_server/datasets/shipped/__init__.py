"""What rlce sends into the sandbox for the dataset profiles: judges and program harnesses.

``textcmp`` holds every official grader's stdout comparison as a pure
function (stdlib only: it runs in the sandbox as a testlib-style checker);
``cf_checker`` runs open-r1's generated Python checkers under testlib's
argument order; ``ccplus_checker.cpp`` puts Code-Contests-Plus's fast path
in front of a row's C++ testlib checker.
"""

from __future__ import annotations

from importlib import resources


def source(name: str) -> str:
    """The text of one judge file of this package."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
