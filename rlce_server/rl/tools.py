"""A Python tool for agent loops: its OpenAI-style schema and the function that runs its calls.

Any loop that speaks OpenAI's tool-calling format (chat completions'
``tools=[...]`` and ``message.tool_calls``) can give a model a notebook-like
Python interpreter backed by an rlce session (docs/SESSIONS.md)::

    from rlce_server.client import Client
    from rlce_server.rl.tools import PYTHON_TOOL, execute_tool_call

    with Client() as client, client.session() as session:
        reply = llm.chat(messages, tools=[PYTHON_TOOL])
        for call in reply.tool_calls:
            messages.append(execute_tool_call(client, session.id, call))

Names persist from one call to the next; a call past its limit is stopped and
the session is as it was before it. The observation a model sees is the
cell's stdout, stderr, the repr of its final expression and its error, each
cut to a length a context window can take.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..client import Client, pb

TOOL_NAME = "python"
PYTHON_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": (
            "Run Python code in a persistent interpreter, like a notebook cell: names defined by earlier "
            "calls stay defined, the value of a final expression is shown, print() output and errors are "
            "returned. No network; files in the working directory persist between calls."
        ),
        "parameters": {
            "type": "object",
            "properties": {"code": {"type": "string", "description": "The Python code to run."}},
            "required": ["code"],
        },
    },
}
MAX_OBSERVATION_CHARS = 8192


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters cut] ...\n{text[-half:]}"


def observation(resp: pb.ExecResponse, max_chars: int = MAX_OBSERVATION_CHARS) -> str:
    """What the model sees of one cell: its output, its final value, its error."""
    parts = []
    out = resp.stdout.decode("utf-8", "replace")
    err = resp.stderr.decode("utf-8", "replace")
    if out:
        parts.append(out.rstrip("\n"))
    if err:
        parts.append(f"[stderr]\n{err.rstrip()}")
    if resp.result:
        parts.append(resp.result)
    if resp.verdict != pb.ACCEPTED:
        parts.append(f"[{pb.Verdict.Name(resp.verdict)}] {resp.error}".rstrip())
    if resp.session_ended:
        parts.append("[the interpreter has ended: names defined so far are gone]")
    return _cut("\n".join(parts) if parts else "[no output]", max_chars)


def parse_arguments(arguments: str | Mapping[str, Any]) -> str:
    """The code of a tool call's arguments (a JSON object as text, or already decoded); ValueError if none."""
    if isinstance(arguments, str):
        try:
            decoded = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"the arguments are not JSON ({exc.msg})") from None
    else:
        decoded = arguments
    if not isinstance(decoded, Mapping) or not isinstance(decoded.get("code"), str):
        raise ValueError('the arguments must be a JSON object with a string "code"')
    return str(decoded["code"])


def _field(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a tool call given as a dict or as an SDK object (``openai`` types)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def execute_tool_call(
    client: Client,
    session_id: str,
    tool_call: Any,
    *,
    time_limit_s: float = 0.0,
    max_chars: int = MAX_OBSERVATION_CHARS,
) -> dict[str, Any]:
    """Run one OpenAI-style tool call (``message.tool_calls[i]``, a dict or an SDK object) in the
    session; the ``{"role": "tool", ...}`` message to append to the conversation."""
    function = _field(tool_call, "function", {})
    name = _field(function, "name", "")
    call_id = _field(tool_call, "id", "")
    if name != TOOL_NAME:
        content = f"error: no tool named {name!r}; the tool is {TOOL_NAME!r}"
    else:
        try:
            code = parse_arguments(_field(function, "arguments", ""))
        except ValueError as exc:
            content = f"error: {exc}"
        else:
            content = observation(client.exec(session_id, code, time_limit_s=time_limit_s), max_chars)
    return {"role": "tool", "tool_call_id": call_id, "name": TOOL_NAME, "content": content}
