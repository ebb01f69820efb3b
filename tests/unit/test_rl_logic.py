"""Pure logic of the trainer adapters: code extraction, ground-truth shapes,
reward shaping and the group-neutral fill for trainers without a mask."""

import json

import pytest

from rlce_server.client import pb
from rlce_server.rl.extract import extract_code
from rlce_server.rl.ground_truth import UnknownGroundTruth
from rlce_server.rl.ground_truth import tests_from as to_tests
from rlce_server.rl.shaping import Shaping, group_neutral, reward_of


def test_extracts_the_last_block_in_the_language_and_ignores_thinking():
    text = (
        "<think>maybe\n```python\nprint('draft')\n```\n</think>"
        "Here:\n```js\nconsole.log(1)\n```\n```python\ndef f():\n    return 1\n```\nDone."
    )
    assert extract_code(text) == "def f():\n    return 1\n"
    chat = [{"role": "assistant", "content": "```py\nx = 2\n```"}]
    assert extract_code(chat) == "x = 2\n"
    assert extract_code("```\ny = 3\n```") == "y = 3\n"
    assert extract_code("def g():\n    pass\n") == "def g():\n    pass\n"  # no fences: the whole text
    assert extract_code("```python\nunclosed = 1\n") is None
    assert extract_code("<think>only thinking ```python\nx=1\n```") is None
    assert extract_code("```python\n\n```") is None


def test_ground_truth_shapes():
    he = to_tests({"test": "def check(c):\n    assert c(1) == 2\n", "entry_point": "f"})
    assert he[0].assertion.code.endswith("check(f)\n")
    mbpp = to_tests(json.dumps(["assert f(1) == 2", "assert f(2) == 3"]))
    assert [t.assertion.code for t in mbpp] == ["assert f(1) == 2\n", "assert f(2) == 3\n"]
    io = to_tests(json.dumps({"inputs": ["1 2\n", ["3", "4"]], "outputs": ["3\n", "7"]}))
    assert [(t.stdio.stdin, t.stdio.expected_stdout) for t in io] == [(b"1 2\n", b"3\n"), (b"3\n4", b"7")]
    calls = to_tests({"input_output": {"fn_name": "add", "inputs": [[1, 2]], "outputs": [[3]]}})
    assert (calls[0].call.entry_point, calls[0].call.args_json, calls[0].call.expected_json) == ("add", "[1, 2]", "3")
    own = to_tests([{"call": {"entry_point": "f", "args_json": "[]", "expected_json": "1"}}])
    assert own[0].call.entry_point == "f"
    with pytest.raises(UnknownGroundTruth):
        to_tests({"inputs": [1], "outputs": []})
    with pytest.raises(UnknownGroundTruth):
        to_tests(42)


def test_shaping_is_off_by_default_and_none_stays_none():
    ok = pb.ScoreResponse(verdict=pb.ACCEPTED, reward=1.0, tests=[pb.TestResult(cpu_time_s=0.25)])
    ce = pb.ScoreResponse(verdict=pb.COMPILE_ERROR, reward=0.0)
    assert reward_of(ok) == 1.0 and reward_of(ce) == 0.0 and reward_of(None) is None
    shaping = Shaping(compile_error_penalty=0.5, format_reward=0.1, speed_bonus=0.2, speed_reference_s=1.0)
    assert reward_of(ok, shaping) == pytest.approx(1.0 + 0.1 + 0.2 * 0.75)
    assert reward_of(ce, shaping, formatted=False) == pytest.approx(-0.5)


def test_group_neutral_gives_unscored_samples_zero_advantage():
    rewards, scored = group_neutral([1.0, None, 0.0, None, None], ["a", "a", "a", "b", "b"])
    assert rewards == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert scored == [True, False, True, False, False]
