"""``rlce images build``: build the sandbox images through the Docker SDK.

The base image is the stock ``debian:bookworm-slim`` when it is present or can
be pulled. Where no registry answers, the base is made from Debian packages
with mmdebstrap, using this machine's own apt sources, and imported with
``docker import``; the Dockerfiles take it as the ``BASE`` build argument.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import docker
import docker.errors

from .config import Settings
from .runtimes import load_runtimes

log = logging.getLogger("rlce.images")
RUNNER_PACKAGE = Path(__file__).resolve().parent / "sandbox" / "rlce_runner"
SPAWN_HELPER = "spawn"  # sandbox_images/spawn: not a runtime (no runtime.toml), a part of each


def ensure_base(client: Any, settings: Settings) -> str:
    """Return the name of a usable Debian bookworm base image."""
    for name in (settings.base_image, settings.local_base_image):
        try:
            client.images.get(name)
            return name
        except docker.errors.ImageNotFound:
            pass
    try:
        client.images.pull(settings.base_image)
        return settings.base_image
    except docker.errors.DockerException as exc:
        log.info("cannot pull %s (%s); building the base locally", settings.base_image, str(exc)[:200])
    if shutil.which("mmdebstrap") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "mmdebstrap"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tar = Path(tmp) / "base.tar"
        cmd = ["mmdebstrap", "--variant=minbase", "--quiet", "bookworm", str(tar), str(settings.apt_sources)]
        subprocess.run(cmd, check=True)
        repo, _, tag = settings.local_base_image.partition(":")
        client.api.import_image(src=str(tar), repository=repo, tag=tag or "latest")
    return settings.local_base_image


def build_spawn_helper(client: Any, settings: Settings, base: str) -> str:
    """The image holding the static spawn helper every runtime image copies (sandbox_images/spawn)."""
    tag = settings.image_name(SPAWN_HELPER)
    client.images.build(
        path=str(settings.images_dir / SPAWN_HELPER), tag=tag, buildargs={"BASE": base}, rm=True, forcerm=True
    )
    return tag


def build(settings: Settings, runtimes: list[str] | None = None, client: Any = None) -> dict[str, str]:
    """Build the named runtimes (all by default); return {runtime: image id}."""
    client = client or docker.from_env(timeout=600)
    specs = load_runtimes(settings.images_dir)
    names = runtimes or sorted(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ValueError(f"unknown runtimes {unknown}; known: {sorted(specs)}")
    base = ensure_base(client, settings)
    spawn = build_spawn_helper(client, settings, base)
    built = {}
    for name in names:
        with tempfile.TemporaryDirectory() as ctx:
            shutil.copytree(specs[name].folder, Path(ctx) / name)
            shutil.copytree(RUNNER_PACKAGE, Path(ctx) / "rlce_runner", ignore=shutil.ignore_patterns("__pycache__"))
            image, _ = client.images.build(
                path=ctx,
                dockerfile=f"{name}/Dockerfile",
                tag=settings.image_name(name),
                buildargs={"BASE": base, "SPAWN": spawn},
                rm=True,
                forcerm=True,
                labels={"rlce.runtime": name},
            )
        built[name] = image.id
        log.info("built %s -> %s", settings.image_name(name), image.id)
    return built
