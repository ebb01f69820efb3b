"""Entry point of a sandbox container: ``python3 -I -B -m rlce_runner``.

The runtime spec baked into the image (``/opt/rlce/runtime/runtime.toml``)
names the modules the zygote pre-imports for this language and the command
that prints its toolchain's version.
"""

import tomllib

from .runner import main

try:
    with open("/opt/rlce/runtime/runtime.toml", "rb") as fh:
        _spec = tomllib.load(fh)
except OSError:
    _spec = {}

main(list(_spec.get("preload", [])), list(_spec.get("version_command", [])))
