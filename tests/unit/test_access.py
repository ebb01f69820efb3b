"""Access, the pure parts: token files, the authorization header, the
settings' checks of their files."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from rlce_server.access import AccessError, ServerAccess, parse_tokens, presented_token, read_tokens
from rlce_server.config import Settings

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


def test_rlce_serve_says_in_one_line_what_is_wrong(tmp_path):
    cases = {
        ("--auth-tokens-file", str(tmp_path / "none")): f"invalid settings: {tmp_path / 'none'}: no such file",
    }
    for args, expected in cases.items():
        cmd = [sys.executable, "-m", "rlce_server", "serve", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"rlce: {expected}") and len(done.stderr.strip().splitlines()) == 1
