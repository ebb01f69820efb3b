"""veRL with rlce rewards: nothing to write, only configuration.

Point veRL's custom reward function at rlce's module, batched:

    RLCE_TARGETS=sandbox-host:50051 python -m verl.trainer.main_ppo \\
        reward_model.reward_manager=batch \\
        custom_reward_function.path=$(python -c "import rlce_server.rl.verl as m; print(m.__file__)") \\
        custom_reward_function.name=compute_score_batch \\
        ...

``ground_truth`` (``reward_model.ground_truth`` in the parquet) may be any
shape rlce reads: stdin/stdout lists, fn_name call cases, assert lists, or
HumanEval's test + entry_point. This script makes a two-row parquet-like
batch and calls the function the way veRL's BatchRewardManager does:

    python examples/verl_reward.py --target 127.0.0.1:50051
"""

import argparse
import json
import os


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:50051")
    args = ap.parse_args()
    os.environ["RLCE_TARGETS"] = args.target
    from rlce_server.rl.verl import compute_score_batch

    gt = json.dumps({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
    good = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    bad = "```python\nprint(0)\n```"
    out = compute_score_batch(
        data_sources=["codecontests"] * 2, solution_strs=[good, bad], ground_truths=[gt, gt], extra_infos=[{}, {}]
    )
    for label, res in zip(("correct", "wrong"), out, strict=True):
        print(label, res)


if __name__ == "__main__":
    main()
