"""The trusted side of the value channel: talks to a program server.

Used by the test driver (assertion tests) and by the runner (call tests).
Whatever the program sends back is decoded strictly; an object that is not a
plain value becomes an inert :class:`RemoteObject` whose equality is identity
and which has no truth value, so no ``__eq__`` or ``__bool__`` trick of the
program can make an assertion hold.
"""

from __future__ import annotations

import builtins
from typing import Any

from . import codec, frames


class ProgramGone(BaseException):
    """The program's process ended or broke the channel.

    A BaseException so that a test's ``except Exception`` cannot swallow it.
    """


class RemoteError(Exception):
    """Marker base: an exception raised by the program's code."""

    program_type = "Exception"


_remote_classes: dict[str, type] = {}
# The builtin kinds a program's exception may come back as: the ones tests
# catch or expect. Never StopIteration and friends (a program raising one
# would end the test's own loop or generator early), never BaseException kinds.
SAFE_EXCEPTIONS = frozenset(
    {"Exception", "ArithmeticError", "AssertionError", "AttributeError", "BufferError", "EOFError",
     "FloatingPointError", "IndexError", "KeyError", "LookupError", "MemoryError", "NameError",
     "NotImplementedError", "OSError", "OverflowError", "RecursionError", "RuntimeError", "TypeError",
     "UnboundLocalError", "UnicodeError", "ValueError", "ZeroDivisionError", "FileNotFoundError"}
)  # fmt: skip


def remote_exception(type_name: str, msg: str) -> Exception:
    """Rebuild the program's exception as a local one of the same builtin kind.

    ``isinstance(e, ValueError)`` still works for tests that expect a
    ValueError; other types (the program's own, control-flow ones) become a
    plain RemoteError.
    """
    base = getattr(builtins, type_name, None) if type_name in SAFE_EXCEPTIONS else None
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = None
    key = type_name if base is not None else ""  # bounded: builtin names only
    cls = _remote_classes.get(key)
    if cls is None:
        bases: tuple[type, ...] = (base, RemoteError) if base is not None else (RemoteError,)
        try:
            cls = type(type_name if base is not None else "RemoteError", bases, {})
        except TypeError:  # layout conflict with some builtin: keep the marker only
            cls = type("RemoteError", (RemoteError,), {})
        _remote_classes[key] = cls
    try:
        exc: Exception = cls(msg)
    except TypeError:  # builtins with a fixed constructor (UnicodeDecodeError, ...)
        exc = RemoteError(f"{type_name}: {msg}")
    setattr(exc, "program_type", type_name)  # noqa: B010  (dynamic class)
    return exc


class RemoteObject:
    """An object that lives in the program's process, known by handle."""

    __slots__ = ("_client", "_ref", "_label")

    def __init__(self, client: ProgramClient, ref: int, label: str) -> None:
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_label", label)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.request({"op": "call", "ref": self._ref}, args, kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._client.request({"op": "getattr", "ref": self._ref, "attr": attr})

    def __setattr__(self, attr: str, value: Any) -> None:
        self._client.request({"op": "setattr", "ref": self._ref, "attr": attr}, value=value)

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash(("rlce-remote", self._ref))

    def __bool__(self) -> bool:
        raise TypeError(f"{self._label} is an object of the program; it has no truth value here")

    def __repr__(self) -> str:
        return f"<{self._label}>"


class ProgramClient:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._reader = frames.FrameReader(fd)
        self.gone: str | None = None
        self._proxies: dict[int, RemoteObject] = {}

    def proxy(self, ref: int, label: str = "") -> RemoteObject:
        obj = self._proxies.get(ref)
        if obj is None:
            obj = RemoteObject(self, ref, label or f"program object #{ref}")
            self._proxies[ref] = obj
        return obj

    def _make_ref(self, value: Any) -> int:
        if isinstance(value, RemoteObject) and value._client is self:
            ref: int = value._ref
            return ref
        raise codec.CodecError(f"type {type(value).__name__!r} cannot be sent to the program")

    def _recv(self) -> Any:
        if self.gone:
            raise ProgramGone(self.gone)
        try:
            return codec.loads(self._reader.read(codec.MAX_BYTES + 1024))
        except (frames.ChannelClosed, codec.CodecError) as exc:
            self.gone = f"the program's process ended or broke the value channel ({exc})"
            raise ProgramGone(self.gone) from None

    def hello(self) -> dict[str, Any]:
        """The program's first message, its shape checked here, where its bytes are read: a
        ``ready`` list of names, or a ``load_error`` record. Anything else is the program's
        malformed hello (ProgramGone), never an error in the trusted code that reads it."""
        msg = self._recv()
        if not (
            isinstance(msg, dict) and (isinstance(msg.get("ready"), list) or isinstance(msg.get("load_error"), dict))
        ):
            self.gone = "malformed hello from the program"
            raise ProgramGone(self.gone)
        return msg

    def request(self, head: dict[str, Any], args: Any = (), kwargs: Any = None, *, value: Any = None) -> Any:
        try:
            msg = dict(head)
            if head["op"] == "call":
                msg["args"] = [codec.encode(a, make_ref=self._make_ref) for a in args]
                msg["kwargs"] = {str(k): codec.encode(v, make_ref=self._make_ref) for k, v in (kwargs or {}).items()}
            elif head["op"] == "setattr":
                msg["value"] = codec.encode(value, make_ref=self._make_ref)
            payload = codec.dumps(msg)
        except codec.CodecError as exc:
            raise TypeError(str(exc)) from None
        reply = self.request_raw(payload)
        return self.unwrap(reply)

    def request_raw(self, payload: bytes) -> Any:
        if self.gone:
            raise ProgramGone(self.gone)
        try:
            frames.write_frame(self.fd, payload)
        except frames.ChannelClosed as exc:
            self.gone = f"the program's process ended ({exc})"
            raise ProgramGone(self.gone) from None
        return self._recv()

    def unwrap(self, reply: Any) -> Any:
        if isinstance(reply, dict) and len(reply) == 1 and "ok" in reply:
            try:
                return codec.decode(reply["ok"], make_proxy=self.proxy)
            except codec.CodecError as exc:
                raise TypeError(f"the program returned a malformed value: {exc}") from None
        if isinstance(reply, dict) and len(reply) == 1 and isinstance(reply.get("exc"), dict):
            info = reply["exc"]
            raise remote_exception(str(info.get("type", "Exception"))[:100], str(info.get("msg", ""))[:2000])
        self.gone = "the program sent a malformed reply"
        raise ProgramGone(self.gone)
