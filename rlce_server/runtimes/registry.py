"""Load ``sandbox_images/<lang>/runtime.toml`` files into typed specs.

Adding a language touches only its folder: this loader finds every folder
with a runtime.toml and validates it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SandboxShape(BaseModel):
    model_config = ConfigDict(frozen=True)

    work_dir_mb: int = Field(64, ge=1)
    tmp_mb: int = Field(32, ge=1)
    pids: int = Field(128, ge=8)
    artifact_cache_mb: int = Field(64, ge=1)
    judge_dir_mb: int = Field(64, ge=1)  # a judge's input, output and answer files
    # memory the runtime's build servers may hold (docs/RUNTIMES.md): added to the container's
    # limit, so that a program within its own limit never competes with them
    build_servers_mb: int = Field(0, ge=0)


class CompileLimits(BaseModel):
    """Limits of one build (all its steps together), separate from the tests' limits."""

    model_config = ConfigDict(frozen=True)

    time_s: float = Field(30.0, gt=0)
    cpu_s: float = Field(30.0, gt=0)
    memory_mb: int = Field(2048, ge=64)
    output_bytes: int = Field(16384, ge=256)


FILE_SOURCES = ("program", "test", "test_digest", "report:program", "report:test", "judge")


class BuildSpec(BaseModel):
    """How a compiled runtime builds and runs one kind of test (or one side of a split test).

    ``files`` maps a file name in the build directory to its content: one of
    ``FILE_SOURCES`` (the request's program, the test's code, the test's
    SHA-256, the other build's report) or ``{runtime = "name"}`` for a file of
    the runtime's folder. ``steps`` run in order (argv lists; ``{dir}`` is the
    build directory, ``{run_uid}`` the uid its outputs will run as);
    ``outputs`` are kept; ``report`` is a small file sent back to the host;
    ``run`` is the process's argv (``{build}`` is where the outputs are).
    ``record``: an in-process harness hands back the runner's nonce after the
    test ran to its end -- the only evidence of a pass.
    """

    model_config = ConfigDict(frozen=True)

    files: dict[str, str | dict[str, str]]
    steps: list[list[str]] = []
    outputs: list[str]
    run: list[str]
    env: dict[str, str] = {}
    run_env: dict[str, str] = {}
    record: bool = False
    # how a failed assertion ends (anything else that fails is a runtime error)
    assert_exit_codes: list[int] = []
    assert_signals: list[int] = []
    # address space allowed above the request's memory limit (JVM and V8 reserve
    # far more than they use; ``{memory_mb}`` in ``run`` caps their heap instead)
    address_space_extra_mb: int = Field(0, ge=0)
    report: str = ""
    # A resident process that serves ``steps`` one build after another (a warm compiler) instead
    # of a process per step: it gets each step's argv and build directory (docs/RUNTIMES.md,
    # "Build servers"). Never for a judge's build.
    server: list[str] = []

    @field_validator("files")
    @classmethod
    def _known_sources(cls, files: dict[str, str | dict[str, str]]) -> dict[str, str | dict[str, str]]:
        for name, source in files.items():
            if isinstance(source, dict):
                if set(source) != {"runtime"}:
                    raise ValueError(f'file {name}: a table source must be {{runtime = "file"}}')
            elif source not in FILE_SOURCES:
                raise ValueError(f"file {name}: source {source!r} is not one of {FILE_SOURCES}")
        return files

    @model_validator(mode="after")
    def _served_steps_take_no_env(self) -> BuildSpec:
        """A server is one process: it cannot give each build an environment of its own."""
        if self.server and self.env:
            raise ValueError("a build served by a server takes no env (set it in the server's own argv)")
        return self


class JudgeBuildSpec(BuildSpec):
    """How this runtime builds a problem's checker or interactor (``"judge"``: its
    source; the request's support files are written beside it)."""

    # its outputs run in any runtime's sandbox: a static binary (C++, Go, Rust)
    portable: bool = False
    # built and run by what every image has (the Python interpreter): no need to
    # build it elsewhere, its outputs include the support files
    runs_anywhere: bool = False
    # a Python script of the outputs, forked from the sandbox's warm zygote
    # instead of starting an interpreter per run ({build}: where the outputs are)
    script: str = ""


class SplitBuildSpec(BaseModel):
    """An assertion test out of the program's process (docs/SPLIT_TESTS.md):
    the program's build (candidate uid) and the test's build (test uid)."""

    model_config = ConfigDict(frozen=True)

    program: BuildSpec
    test: BuildSpec

    @model_validator(mode="after")
    def _one_direction(self) -> SplitBuildSpec:
        if "report:test" in self.program.files.values() and "report:program" in self.test.files.values():
            raise ValueError("the program and test builds cannot each need the other's report")
        if "test" in self.program.files.values():
            raise ValueError("the program's build must never see the test")
        if "program" in self.test.files.values():
            raise ValueError("the test's build must never see the program's code")
        return self

    @property
    def order(self) -> tuple[str, str]:
        """Which build runs first: the one whose report the other takes."""
        return ("test", "program") if "report:test" in self.program.files.values() else ("program", "test")


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
    # a file of the runtime's folder; default: the runtime's ``selftest``
    program: str = ""


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
    compile: CompileLimits = CompileLimits()
    # exec runtimes: one build per test kind ("stdio", "assertion")
    build: dict[str, BuildSpec | SplitBuildSpec] = {}
    # how this runtime builds and runs a problem's judges (checkers, interactors)
    judge: JudgeBuildSpec | None = None
    folder: Path


def load_runtimes(images_dir: Path) -> dict[str, RuntimeSpec]:
    specs: dict[str, RuntimeSpec] = {}
    for toml_path in sorted(images_dir.glob("*/runtime.toml")):
        with toml_path.open("rb") as fh:
            data = tomllib.load(fh)
        spec = RuntimeSpec(folder=toml_path.parent, **data)
        if spec.name != toml_path.parent.name:
            raise ValueError(f"{toml_path}: name {spec.name!r} must equal its folder name")
        if spec.executor == "exec":
            missing = [k for k in spec.test_kinds if k not in spec.build]
            if missing:
                raise ValueError(f"{toml_path}: test kinds {missing} have no [build.<kind>] table")
        specs[spec.name] = spec
    return specs
