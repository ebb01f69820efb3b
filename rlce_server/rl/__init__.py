"""rlce for RL trainers: a batch client and drop-in reward functions.

Each trainer adapter is its own module (``trl``, ``verl``, ``openrlhf``) and
imports nothing heavy at load time; the trainer packages are never imported
by rlce.
"""
