"""Entry point of a sandbox container: ``python3 -I -B -m rlce_runner``.

The runtime spec baked into the image (``/opt/rlce/runtime/runtime.toml``)
names the modules the zygote pre-imports for this language.
"""

import tomllib

from .runner import main

try:
    with open("/opt/rlce/runtime/runtime.toml", "rb") as fh:
        _preload = list(tomllib.load(fh).get("preload", []))
except OSError:
    _preload = []

main(_preload)
