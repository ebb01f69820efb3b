"""Code extraction from what a chat model writes.

Completions come as plain strings or as chat messages (TRL's conversational
format: a list of ``{"role", "content"}`` dicts). The program is the last
fenced block tagged with the language (```` ```python ````), else the last
untagged fenced block, else -- only if there is no fence at all -- the whole
text. Reasoning in ``<think>...</think>`` is dropped first, so a block the
model only considered is not scored. ``None`` means nothing usable (an
unclosed fence, an empty block): a format failure, not a program.
"""

from __future__ import annotations

import re
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)

ALIASES = {
    "python": {"python", "py", "python3", "py3"},
    "cpp": {"cpp", "c++", "cc", "cxx"},
    "java": {"java"},
    "javascript": {"javascript", "js", "node", "nodejs"},
    "go": {"go", "golang"},
    "rust": {"rust", "rs"},
}


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, a message dict, or a list of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        content = completion.get("content", "")
        if isinstance(content, list):  # multimodal content parts
            return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return str(content)
    if isinstance(completion, (list, tuple)):
        replies = [m for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "\n".join(completion_text(m) for m in (replies or completion))
    return ""


def extract_code(completion: Any, language: str = "python", *, require_fence: bool = False) -> str | None:
    """The program in a completion (see the module notes); ``require_fence``: text
    without a fenced block has none (graders that take only the last fenced block:
    rllm/DeepCoder, genesys)."""
    text = _THINK.sub("", completion_text(completion))
    if "<think>" in text.lower():  # an unfinished thought: everything after it is thinking
        text = text[: text.lower().index("<think>")]
    names = ALIASES.get(language, {language})
    tagged: list[str] = []
    untagged: list[str] = []
    for match in _FENCE.finditer(text):
        tag, body = match.group(2).lower(), match.group(3)
        if tag in names:
            tagged.append(body)
        elif not tag:
            untagged.append(body)
    for blocks in (tagged, untagged):
        if blocks and blocks[-1].strip():
            return blocks[-1]
    if "```" in text or "~~~" in text or require_fence:
        return None  # fences, but none usable (unclosed, other language, empty)
    return text if text.strip() else None
