"""Load ``sandbox_images/<lang>/runtime.toml`` files into typed specs.

Adding a language touches only its folder: this loader finds every folder
with a runtime.toml and validates it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SandboxShape(BaseModel):
    model_config = ConfigDict(frozen=True)

    work_dir_mb: int = Field(64, ge=1)
    tmp_mb: int = Field(32, ge=1)
    pids: int = Field(128, ge=8)


class SelfTest(BaseModel):
    """One self-test case, in the same shape as a request's TestCase."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["stdio", "call", "assertion"]
    stdin: str = ""
    expected_stdout: str = ""
    entry_point: str = ""
    args_json: str = "[]"
    expected_json: str = "null"
    code: str = ""


class RuntimeSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    display_name: str
    executor: Literal["python-fork", "exec"]
    test_kinds: list[Literal["stdio", "call", "assertion"]]
    version_command: list[str]
    preload: list[str] = []
    selftest: str
    selftest_tests: list[SelfTest] = []
    sandbox: SandboxShape = SandboxShape()
    folder: Path

    def selftest_program(self) -> str:
        return (self.folder / self.selftest).read_text()


def load_runtimes(images_dir: Path) -> dict[str, RuntimeSpec]:
    specs: dict[str, RuntimeSpec] = {}
    for toml_path in sorted(images_dir.glob("*/runtime.toml")):
        with toml_path.open("rb") as fh:
            data = tomllib.load(fh)
        spec = RuntimeSpec(folder=toml_path.parent, **data)
        if spec.name != toml_path.parent.name:
            raise ValueError(f"{toml_path}: name {spec.name!r} must equal its folder name")
        specs[spec.name] = spec
    return specs
