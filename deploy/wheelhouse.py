"""Fill deploy/wheels/ with rlce and every dependency as wheels, on the host.

Why: the server image then installs with ``pip --no-index`` and needs no
network (or certificate set-up) inside ``docker build``. Where a build can
reach PyPI directly, skip this: the Dockerfile installs from PyPI when
deploy/wheels/ is empty.

    python3 deploy/wheelhouse.py        # then: docker-compose -f deploy/docker-compose.yml build
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "deploy" / "wheels"
# The server image is Debian bookworm: CPython 3.11.2, glibc 2.36.
PYTHON = "3.11.2"
TAGS = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    reqs = list(meta["dependencies"]) + list(extras["server"]) + list(extras["redis"])
    # pip evaluates environment markers for the running interpreter, not for
    # --python-version: redis needs this on bookworm's 3.11.2 (< 3.11.3)
    reqs.append("async-timeout>=4.0.3")
    machine = platform.machine()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(OUT), str(ROOT)], check=True)
    platforms = [arg for tag in TAGS for arg in ("--platform", f"{tag}_{machine}")]
    subprocess.run(
        [*pip, "download", "-d", str(OUT), "--only-binary=:all:", "--python-version", PYTHON, *platforms, *reqs],
        check=True,
    )
    print(f"{len(list(OUT.glob('*.whl')))} wheels in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
