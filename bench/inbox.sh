#!/usr/bin/env bash
# The runner's cost per HumanEval job inside one python sandbox (see inbox.py):
#   RLCE_IMAGE_TAG=perf bench/inbox.sh [passes] [--profile]   (INBOX_RUNNER=dir: another runner package, for A/B; INBOX_SUBPROCESS=1: subprocess imported before the zygote forks, as the runner did)
set -euo pipefail
cd "$(dirname "$0")/.."
exec docker run --rm -e INBOX_SUBPROCESS --network none --cpuset-cpus "${INBOX_CPU:-1}" --cpus 1 \
  --tmpfs /w:mode=1777 --tmpfs /tmp:mode=1777 --tmpfs /j --tmpfs /c \
  -v "${INBOX_RUNNER:-$PWD/rlce_server/sandbox/rlce_runner}:/usr/lib/python3/dist-packages/rlce_runner:ro" \
  -v "$PWD/rlce_server/data:/data:ro" -v "$PWD/bench/inbox.py:/inbox.py:ro" \
  --entrypoint python3 "rlce-python:${RLCE_IMAGE_TAG:-perf}" -I -B /inbox.py "$@"
