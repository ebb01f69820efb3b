"""Live sessions for tool-using models (docs/SESSIONS.md): their sandboxes and their lifecycle."""

from .manager import CellResult, LiveSession, SessionManager

__all__ = ["CellResult", "LiveSession", "SessionManager"]
