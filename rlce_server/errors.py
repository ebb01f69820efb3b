"""Whose fault is it? The exception tree, drawn in one place.

    RlceError
    ├── InvalidRequest      the caller's fault: INVALID_ARGUMENT / INVALID_REQUEST
    ├── SessionNotFound     no such live session (unknown, closed, expired, another server's): NOT_FOUND
    ├── SessionsExhausted   the server holds as many sessions as it may: RESOURCE_EXHAUSTED
    └── SandboxFault        ours: retried once on a fresh sandbox, then SANDBOX_ERROR
        └── EngineUnavailable  the container engine does not answer

A candidate's failure is never an exception: it is a verdict.
"""

from __future__ import annotations


class RlceError(Exception):
    """Base of every error rlce raises on purpose."""


class InvalidRequest(RlceError):
    """The request is malformed; the message names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class SessionNotFound(RlceError):
    """The session id names no live session here; the message says what became of it, if known."""


class SessionsExhausted(RlceError):
    """No room for another session (the server's cap, a tree's cap, every slot in use)."""


class SandboxFault(RlceError):
    """The sandbox machinery failed before or around the candidate's run."""


class EngineUnavailable(SandboxFault):
    """The container engine cannot be reached."""
