"""OpenRLHF with rlce rewards: run the endpoint, point --remote_rm_url at it.

    rlce openrlhf-rm --target sandbox-host:50051 --host 0.0.0.0 --port 5000
    python -m openrlhf.cli.train_ppo_ray ... \\
        --remote_rm_url http://this-host:5000/get_reward --label_key tests

``--label_key`` names the dataset column with the tests (any shape rlce
reads). This script starts the endpoint in-process and posts one batch the
way OpenRLHF's remote_rm_fn does:

    python examples/openrlhf_remote_rm.py --target 127.0.0.1:50051
"""

import argparse
import json
import threading

import requests

from rlce_server.rl.batch import BatchScorer
from rlce_server.rl.openrlhf import RewardService, make_server


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="127.0.0.1:50051")
    args = ap.parse_args()
    http = make_server(RewardService(BatchScorer(args.target)), "127.0.0.1", 0)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    prompt = "Write add(a, b).\n"
    label = json.dumps(["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
    queries = [
        prompt + "```python\ndef add(a, b):\n    return a + b\n```",
        prompt + "```python\ndef add(a, b):\n    return 3\n```",
    ]
    reply = requests.post(
        f"http://127.0.0.1:{http.server_port}/get_reward",
        json={"query": queries, "prompts": [prompt] * 2, "labels": [label] * 2},
        timeout=120,
    ).json()
    print("rewards", reply["rewards"], "(correct, half right)")
    http.shutdown()


if __name__ == "__main__":
    main()
