"""The one settings tree: typed, validated at start-up, units in the names.

Values come from (lowest to highest) defaults, ``RLCE_*`` environment
variables (nested with ``__``, e.g. ``RLCE_LIMITS__TIME_LIMIT_S``) and
command-line flags. Nothing is built at import time: ``Settings()`` is made
once by the CLI and passed down explicitly.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .access import ServerAccess, read_key
from .domain import Limits

ROOT = Path(__file__).resolve().parent.parent


def default_wall_s(time_limit_s: float) -> float:
    """The wall-clock backstop of a CPU-time limit (API.md): 2 * time_limit_s + 1."""
    return 2 * time_limit_s + 1


class LimitSettings(BaseModel):
    """Per-test defaults, the caps no request may exceed, and the floors it may not go under."""

    model_config = ConfigDict(frozen=True)

    time_limit_s: float = Field(5.0, gt=0, description="CPU seconds of the program's process tree")
    wall_time_limit_s: float | None = Field(None, gt=0, description="None: 2 * time_limit_s + 1")
    memory_limit_mb: int = Field(512, ge=16)
    output_limit_bytes: int = Field(1 << 20, ge=1024)
    total_time_limit_s: float = Field(60.0, gt=0)

    max_time_limit_s: float = Field(60.0, gt=0)
    max_wall_time_limit_s: float = Field(121.0, gt=0)
    max_memory_limit_mb: int = Field(4096, ge=16)
    max_output_limit_bytes: int = Field(16 << 20, ge=1024)
    max_total_time_limit_s: float = Field(600.0, gt=0)

    # Below these a sandboxed process cannot even start its interpreter; a request
    # asking for less is refused (INVALID_ARGUMENT), never run into our own failure.
    min_time_limit_s: float = Field(0.01, gt=0)
    min_memory_limit_mb: int = Field(16, ge=1)
    min_output_limit_bytes: int = Field(1024, ge=1)

    def defaults(self) -> Limits:
        """What a request gets for every limit it leaves unset."""
        return Limits(
            time_limit_s=self.time_limit_s,
            wall_time_limit_s=self.wall_time_limit_s or default_wall_s(self.time_limit_s),
            memory_limit_mb=self.memory_limit_mb,
            output_limit_bytes=self.output_limit_bytes,
            total_time_limit_s=self.total_time_limit_s,
        )

    def caps(self) -> Limits:
        """What no request may exceed."""
        return Limits(
            time_limit_s=self.max_time_limit_s,
            wall_time_limit_s=self.max_wall_time_limit_s,
            memory_limit_mb=self.max_memory_limit_mb,
            output_limit_bytes=self.max_output_limit_bytes,
            total_time_limit_s=self.max_total_time_limit_s,
        )

    def floors(self) -> Limits:
        """What no request may go under."""
        return Limits(
            time_limit_s=self.min_time_limit_s,
            wall_time_limit_s=self.min_time_limit_s,
            memory_limit_mb=self.min_memory_limit_mb,
            output_limit_bytes=self.min_output_limit_bytes,
            total_time_limit_s=self.min_time_limit_s,
        )

    @model_validator(mode="after")
    def _defaults_within_caps(self) -> LimitSettings:
        pairs = [
            ("time_limit_s", self.time_limit_s, self.max_time_limit_s),
            ("wall_time_limit_s", self.defaults().wall_time_limit_s, self.max_wall_time_limit_s),
            ("memory_limit_mb", self.memory_limit_mb, self.max_memory_limit_mb),
            ("output_limit_bytes", self.output_limit_bytes, self.max_output_limit_bytes),
            ("total_time_limit_s", self.total_time_limit_s, self.max_total_time_limit_s),
        ]
        for name, value, cap in pairs:
            if value > cap:
                raise ValueError(f"default {name}={value} exceeds its cap {cap}")
        return self


class SessionSettings(BaseModel):
    """Live sessions and one-shot runs (docs/SESSIONS.md): their own sandboxes, caps and lifetimes."""

    model_config = ConfigDict(frozen=True)

    sandboxes: int = Field(2, ge=0, le=64, description="session sandboxes per runtime; 0: no sessions")
    slots_per_sandbox: int = Field(128, ge=1, le=1024, description="session trees one sandbox holds at once")
    max_open: int = Field(512, ge=1, description="sessions open on this server at once, forks included")
    max_per_tree: int = Field(16, ge=1, description="sessions in one tree: an opened session and its forks")
    idle_timeout_s: float = Field(300.0, gt=0, description="a session unused this long is closed")
    max_idle_timeout_s: float = Field(3600.0, gt=0)
    cpu_budget_s: float = Field(600.0, gt=0, description="CPU seconds a session's cells may use in all")
    tree_files_mb: int = Field(64, ge=1, description="files one tree may hold (its slot's own tmpfs)")
    tree_inodes: int = Field(2048, ge=16)
    tree_tasks: int = Field(64, ge=4, description="processes and threads one tree may hold (RLIMIT_NPROC)")
    sandbox_memory_mb: int = Field(6144, ge=256, description="a session sandbox's memory (its sessions share it)")
    prestart: bool = Field(False, description="start the session sandboxes with the server, not at first use")
    sweep_interval_s: float = Field(1.0, gt=0, description="how often idle sessions are looked for")

    @model_validator(mode="after")
    def _timeouts(self) -> SessionSettings:
        if self.idle_timeout_s > self.max_idle_timeout_s:
            raise ValueError(f"idle_timeout_s={self.idle_timeout_s} exceeds max_idle_timeout_s")
        if 2 * self.max_per_tree > self.tree_tasks:
            raise ValueError("tree_tasks must leave each session of a full tree a second process (2 * max_per_tree)")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RLCE_", env_nested_delimiter="__", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int = Field(9464, ge=0, le=65535, description="0 disables /metrics")
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    runtimes: list[str] = Field(default_factory=lambda: ["python"])
    instance_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])

    images_dir: Path = ROOT / "sandbox_images"
    image_prefix: str = "rlce-"
    image_tag: str = "latest"
    base_image: str = "debian:bookworm-slim"
    local_base_image: str = "rlce-base:bookworm"
    apt_sources: Path = Path("/etc/apt/sources.list.d/debian.sources")
    run_dir: Path = Path("/run/rlce")

    # sandbox container shape
    isolation: Literal["pool", "container"] = "pool"
    # defence in depth (every job is already reset and verified): a fresh container
    # costs ~1 s of CPU, so at 1000 jobs it took ~8% of a saturated 2-core machine
    recycle_after_jobs: int = Field(5000, ge=1)
    sandbox_cpus: float = Field(1.0, gt=0)
    pin_sandbox_cpus: bool = Field(True, description="pin each sandbox (of at most 1 CPU) to one host CPU")
    sandbox_memory_headroom_mb: int = Field(256, ge=64)
    container_runtime: str | None = Field(None, description="e.g. runsc for gVisor")
    seccomp_profile: Path | None = Field(None, description="a Docker seccomp profile JSON instead of the default")
    extra_seccomp: bool = Field(True, description="stack rlce's tighter filter on every test process")

    # admission and request shape
    queue_size: int = Field(1024, ge=1)
    stream_inflight: int = Field(64, ge=1)
    max_request_bytes: int = Field(32 << 20, ge=1024)
    max_tests: int = Field(1000, ge=1)
    max_program_bytes: int = Field(1 << 20, ge=1)
    fetch_max_bytes: int = Field(16 << 20, ge=1024, description="files a Run or Exec may fetch back, together")
    registered_tests_max: int = Field(4096, ge=1)
    registered_tests_max_bytes: int = Field(256 << 20, ge=1 << 20)
    runner_reply_margin_s: float = Field(15.0, gt=0)
    grace_s: float = Field(10.0, ge=0)
    health_check_interval_s: float = Field(1.0, gt=0)

    # result cache (see scheduling/cache.py): 0 bytes turns it off
    cache_max_bytes: int = Field(256 << 20, ge=0)
    cache_redis_url: str = Field("", description="e.g. redis://host:6379/0: a cache shared by several servers")
    cache_ttl_s: int = Field(7 * 24 * 3600, ge=1)
    cache_hmac_key_file: Path | None = Field(None, description="signs the shared tier's entries; Redis needs it")

    # access (docs/OPERATIONS.md "Access"): read and checked at start; none of them: open, plaintext
    auth_tokens_file: Path | None = Field(None, description="one token per line: every RPC but health needs one")
    tls_cert: Path | None = Field(None, description="PEM certificate chain: serve TLS (gRPC and /metrics)")
    tls_key: Path | None = Field(None, description="the certificate's PEM private key")
    tls_client_ca: Path | None = Field(None, description="PEM CA certificates: also require client certificates")

    limits: LimitSettings = Field(default_factory=LimitSettings)
    sessions: SessionSettings = Field(default_factory=SessionSettings)

    _access: ServerAccess = PrivateAttr(default_factory=ServerAccess)
    _cache_hmac_key: bytes | None = PrivateAttr(None)

    def image_name(self, runtime: str) -> str:
        return f"{self.image_prefix}{runtime}:{self.image_tag}"

    @model_validator(mode="after")
    def _read_access_files(self) -> Settings:
        self._access = ServerAccess.load(self.auth_tokens_file, self.tls_cert, self.tls_key, self.tls_client_ca)
        if self.cache_hmac_key_file is not None:
            self._cache_hmac_key = read_key(self.cache_hmac_key_file, "cache HMAC key")
        elif self.cache_redis_url and self.cache_max_bytes > 0:
            raise ValueError(
                "cache_redis_url without cache_hmac_key_file: whoever can write to that Redis could write "
                "rewards; give every server the same key (--cache-hmac-key-file, e.g. `openssl rand -hex 32`)"
            )
        return self

    @property
    def access(self) -> ServerAccess:
        """Tokens and TLS, as read from their files at start."""
        return self._access

    @property
    def cache_hmac_key(self) -> bytes | None:
        return self._cache_hmac_key
