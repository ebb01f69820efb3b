"""Graders: one per test kind, pure functions from the runner's raw facts
(exit status, bytes, the driver's record) to a TestOutcome.

The shared part (limits, crashes, set-up faults) is decided in ``common``;
each kind only says what "right" means for it.
"""

from .common import grade

__all__ = ["grade"]
