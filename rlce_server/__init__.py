"""rlce: sandboxed code-execution rewards for reinforcement learning."""

__version__ = "0.1.0"
