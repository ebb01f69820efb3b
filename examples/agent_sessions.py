"""A tool-using "model" in an agentic rollout: Python calls in a live session, then a scored answer.

The model here is scripted -- the assistant messages a real model would
write, with OpenAI-style tool calls -- so that the loop around it is the
point: every tool call runs as a cell of one rlce session (names persist
from call to call), each observation goes back into the conversation, and
the final answer is scored with ``Score`` against hidden tests, which is the
trajectory's reward. A second trajectory forks the session after the
exploration turns (GRPO branching from a shared prefix) and answers wrong.

    rlce serve &
    python examples/agent_sessions.py --target 127.0.0.1:50051
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rlce_server.client import Client, Session, call, pb
from rlce_server.rl.extract import extract_code
from rlce_server.rl.tools import PYTHON_TOOL, execute_tool_call

TASK = "Write `def median(xs)` returning the median of a non-empty list of numbers."
HIDDEN_TESTS = [call("median", [[3, 1, 2]], 2), call("median", [[4, 1, 3, 2]], 2.5), call("median", [[7]], 7)]


def tool_call(i: int, code: str) -> dict[str, Any]:
    return {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": "python", "arguments": json.dumps({"code": code})},
    }


# What the model says, turn by turn: two exploration turns, then an answer (good or bad).
MEDIAN = """def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
"""
EXPLORE = [
    tool_call(1, "xs = [4, 1, 3, 2]\nsorted(xs)"),
    tool_call(2, MEDIAN + "[median(xs), median([3, 1, 2]), median([7])]"),
]
GOOD_ANSWER = f"The median sorts the list and takes the middle one (or two):\n```python\n{MEDIAN}```"
BAD_ANSWER = "```python\ndef median(xs):\n    return sorted(xs)[len(xs) // 2]\n```"


def rollout(client: Client, session: Session, turns: list[dict[str, Any]], messages: list[dict[str, Any]]) -> None:
    """The assistant's tool calls, each run in the session, each observation appended."""
    for call_ in turns:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call_]})
        messages.append(execute_tool_call(client, session.id, call_))


def reward(client: Client, answer: str) -> pb.ScoreResponse:
    """The trajectory's reward: its final answer's code against the hidden tests."""
    return client.score("python", extract_code(answer) or answer, HIDDEN_TESTS, no_cache=True)


def main(target: str = "127.0.0.1:50051", show: bool = True) -> dict[str, float]:
    """Two trajectories from one prefix; their rewards (1.0 for the good answer, less for the bad)."""
    rewards = {}
    with Client(target) as client, client.session("python") as session:
        prefix: list[dict[str, Any]] = [
            {"role": "system", "content": "You can run Python with the `python` tool."},
            {"role": "user", "content": TASK},
        ]
        rollout(client, session, EXPLORE, prefix)
        # trajectory "bad" branches off here, with everything the prefix defined (`median`, `xs`)
        with session.fork() as branch:
            bad = list(prefix)
            rollout(client, branch, [tool_call(3, "median = lambda xs: sorted(xs)[len(xs) // 2]\nmedian(xs)")], bad)
            bad.append({"role": "assistant", "content": BAD_ANSWER})
            good = list(prefix)
            rollout(client, session, [tool_call(3, "median(xs)")], good)  # the original still has its own median
            good.append({"role": "assistant", "content": GOOD_ANSWER})
            for name, conversation in (("good", good), ("bad", bad)):
                scored = reward(client, conversation[-1]["content"])
                rewards[name] = scored.reward
                if show:
                    print(f"--- trajectory {name!r}: tools={PYTHON_TOOL['function']['name']}")
                    for m in conversation[2:]:
                        if m["role"] == "tool":
                            print(f"  tool> {m['content']}")
                    print(f"  answer: {pb.Verdict.Name(scored.verdict)}, reward {scored.reward:.2f}")
    return rewards


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:50051")
    main(ap.parse_args().target)
