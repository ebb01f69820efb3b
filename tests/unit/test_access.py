"""Access, the pure parts: token files, the authorization header, the
settings' checks of their files, and the signed shared cache tier."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from rlce_server.access import AccessError, ServerAccess, parse_tokens, presented_token, read_tokens
from rlce_server.config import Settings
from rlce_server.metrics import Metrics
from rlce_server.scheduling.cache import ResultCache, SignedStore, sign, verify

ROOT = Path(__file__).resolve().parents[2]
T1, T2 = "a" * 16 + "-trainer", "b" * 16 + "-prometheus"


def test_tokens_file_one_per_line_with_comments_and_blank_lines():
    text = f"# trainer\n{T1}\n\n  {T2}  \n# again\n{T1}\n"
    assert parse_tokens(text, "f") == (T1.encode(), T2.encode())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "f: no tokens"),
        ("# only a comment\n\n", "f: no tokens"),
        ("short\n", "f:1: token shorter than 16"),
        (f"{T1}\nhas a space in it here\n", "f:2: a token is visible ASCII"),
        ("tab\there-and-more-text\n", "f:1: a token is visible ASCII"),
    ],
)
def test_bad_tokens_files_are_refused_naming_the_line(text, problem):
    with pytest.raises(AccessError, match=problem):
        parse_tokens(text, "f")


def test_token_files_that_cannot_be_read_are_named(tmp_path):
    with pytest.raises(AccessError, match=f"{tmp_path / 'none'}: no such file"):
        read_tokens(tmp_path / "none")
    (tmp_path / "latin").write_bytes(b"\xe9" * 20 + b"\n")
    with pytest.raises(AccessError, match="ASCII"):
        read_tokens(tmp_path / "latin")


def test_authorization_values():
    assert presented_token(f"Bearer {T1}") == T1
    assert presented_token(f"bearer  {T1} ") == T1
    assert presented_token("Basic " + base64.b64encode(f"rlce:{T1}".encode()).decode()) == T1
    assert presented_token("Basic !!!") is None
    assert presented_token(T1) is None
    assert presented_token(None) is None and presented_token("") is None


def test_server_access_checks_every_token_and_is_open_without_any():
    access = ServerAccess(tokens=(T1.encode(), T2.encode()))
    assert access.allows(f"Bearer {T1}") and access.allows(f"Bearer {T2}")
    assert not access.allows(f"Bearer {T1}x") and not access.allows(f"Bearer {T1[:-1]}")
    assert not access.allows(None) and not access.allows("Bearer ") and not access.allows("Bearer \udcff")
    assert ServerAccess().open and ServerAccess().allows(None)


def test_settings_read_the_access_files_at_start(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{T1}\n")
    assert Settings(auth_tokens_file=tokens).access.tokens == (T1.encode(),)
    with pytest.raises(ValidationError, match=f"{tmp_path / 'missing'}: no such file"):
        Settings(auth_tokens_file=tmp_path / "missing")
    with pytest.raises(ValidationError, match="give both"):
        Settings(tls_cert=tokens)
    with pytest.raises(ValidationError, match="client certificates need TLS"):
        Settings(tls_client_ca=tokens)
    with pytest.raises(ValidationError, match="not a PEM certificate"):
        Settings(tls_cert=tokens, tls_key=tokens)


def test_redis_without_a_key_is_refused_and_a_short_key_too(tmp_path):
    with pytest.raises(ValidationError, match="cache_redis_url without cache_hmac_key_file"):
        Settings(cache_redis_url="redis://127.0.0.1:6379/0")
    assert Settings(cache_redis_url="redis://127.0.0.1:6379/0", cache_max_bytes=0).cache_hmac_key is None
    key = tmp_path / "key"
    key.write_text("x" * 31 + "\n")
    with pytest.raises(ValidationError, match="has 31 bytes; at least 32"):
        Settings(cache_redis_url="redis://h/0", cache_hmac_key_file=key)
    key.write_text("x" * 64 + "\n")
    assert Settings(cache_redis_url="redis://h/0", cache_hmac_key_file=key).cache_hmac_key == b"x" * 64


def test_rlce_serve_says_in_one_line_what_is_wrong(tmp_path):
    cases = {
        ("--auth-tokens-file", str(tmp_path / "none")): f"invalid settings: {tmp_path / 'none'}: no such file",
        ("--cache-redis-url", "redis://127.0.0.1:1/0"): "invalid settings: cache_redis_url without",
    }
    for args, expected in cases.items():
        cmd = [sys.executable, "-m", "rlce_server", "serve", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"rlce: {expected}") and len(done.stderr.strip().splitlines()) == 1


KEY, OTHER = b"k" * 32, b"o" * 32


def test_signature_binds_key_name_and_value():
    entry = sign(KEY, "n1", b"value")
    assert verify(KEY, "n1", entry) == b"value"
    assert verify(OTHER, "n1", entry) is None  # another key
    assert verify(KEY, "n2", entry) is None  # moved to another name
    assert verify(KEY, "n1", entry[:-1] + b"X") is None  # value changed
    assert verify(KEY, "n1", b"value") is None and verify(KEY, "n1", b"") is None  # unsigned


class Dict:
    """An in-memory shared store (what Redis holds)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    async def set(self, key: str, value: bytes) -> None:
        self.data[key] = value

    async def close(self) -> None:
        pass


def test_signed_store_a_forged_entry_is_a_counted_miss_and_other_keys_are_not_forgeries():
    async def go():
        raw = Dict()
        metrics = Metrics(CollectorRegistry())
        store = SignedStore(raw, KEY, metrics.cache_rejected.inc)
        await store.set("job", b"answer")
        assert await store.get("job") == b"answer"
        (name,) = raw.data
        raw.data[name] = b"forged answer"
        cache = ResultCache(1000, metrics, store)
        runs = []

        async def run():
            runs.append(1)
            return b"real answer", True

        assert await cache.get_or_run("job", "python", run) == (b"real answer", False)
        assert runs == [1] and metrics.cache_rejected._value.get() == 1
        assert verify(KEY, name, raw.data[name]) == b"real answer"  # the run's answer replaced it, signed
        # a server with another key (say, after a rotation) sees a miss, not a forgery
        rotated = SignedStore(raw, OTHER, metrics.cache_rejected.inc)
        assert await rotated.get("job") is None and metrics.cache_rejected._value.get() == 1

    asyncio.run(go())
