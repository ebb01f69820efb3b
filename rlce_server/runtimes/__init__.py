"""Runtime specs: each language is a folder of data under sandbox_images/."""

from .registry import RuntimeSpec, load_runtimes

__all__ = ["RuntimeSpec", "load_runtimes"]
