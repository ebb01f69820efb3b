"""GRPO with TRL, rewarded by rlce.

The lines you add to a TRL script are marked ``# rlce``. The dataset needs a
test column in one of the shapes RlceReward reads (here HumanEval's ``test``
and ``entry_point``). Without TRL installed this script scores two chat
completions the way GRPOTrainer would call the reward function, so the
wiring can be checked against a running server (``rlce serve``):

    python examples/trl_grpo.py --target 127.0.0.1:50051 [--model Qwen/Qwen2.5-0.5B-Instruct]
"""

import argparse
import gzip
import json
from pathlib import Path

from rlce_server.rl.trl import RlceReward  # rlce

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:50051")
    ap.add_argument("--model", default=None, help="train for real (needs trl, and a GPU to be useful)")
    args = ap.parse_args()
    reward = RlceReward(args.target)  # rlce: one line, as reward_funcs=[reward]

    with gzip.open(ROOT / "rlce_server" / "data" / "HumanEval.jsonl.gz", "rt") as fh:
        rows = [json.loads(line) for line in fh]
    if args.model:
        from datasets import Dataset
        from trl import GRPOConfig, GRPOTrainer

        ds = Dataset.from_list([{**r, "prompt": [{"role": "user", "content": r["prompt"]}]} for r in rows])
        trainer = GRPOTrainer(
            model=args.model,
            reward_funcs=[reward],  # rlce
            args=GRPOConfig(output_dir="grpo-rlce", num_generations=8, max_completion_length=512),
            train_dataset=ds,
        )
        trainer.train()
        return

    r = rows[0]
    completions = [
        [{"role": "assistant", "content": f"```python\n{r['prompt'] + r['canonical_solution']}```"}],
        [{"role": "assistant", "content": f"```python\n{r['prompt']}    return None\n```"}],
    ]
    rewards = reward(prompts=[r["prompt"]] * 2, completions=completions, test=[r["test"]] * 2,
                     entry_point=[r["entry_point"]] * 2)  # fmt: skip
    print(f"{r['task_id']}: rewards {rewards} (canonical, broken)")


if __name__ == "__main__":
    main()
