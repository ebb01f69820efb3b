"""Who may use a server: bearer tokens and TLS, for every port rlce serves.

One ``ServerAccess`` is read from files at start (``--auth-tokens-file``,
``--tls-cert``/``--tls-key``, ``--tls-client-ca``) and used by the gRPC
server, the metrics port and ``rlce openrlhf-rm``. No tokens file: open, as
on the loopback default. Stdlib and grpc only: the OpenRLHF endpoint runs on
a client-only install.

A token file holds one token per line (blank lines and ``#`` comments
ignored); a token is at least ``MIN_TOKEN_CHARS`` visible ASCII characters.
Callers send ``authorization: Bearer <token>`` (gRPC metadata or HTTP
header); HTTP also takes Basic with the token as password, which is what a
URL ``http://rlce:<token>@host/`` makes clients send. Tokens are compared in
constant time, each against all.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import socket
import socketserver
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

log = logging.getLogger("rlce.access")
MIN_TOKEN_CHARS = 16
MIN_KEY_BYTES = 32


class AccessError(ValueError):
    """A tokens, certificate or key file that cannot be used; the message names it."""


def read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise AccessError(f"{path}: no such file (the {what})") from None
    except OSError as exc:
        raise AccessError(f"{path}: cannot read the {what}: {exc.strerror}") from None


def parse_tokens(text: str, source: str) -> tuple[bytes, ...]:
    """The tokens of a tokens file's text; ``source`` names it in errors."""
    tokens: list[bytes] = []
    for n, line in enumerate(text.splitlines(), 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if not all("!" <= c <= "~" for c in token):
            raise AccessError(f"{source}:{n}: a token is visible ASCII without spaces")
        if len(token) < MIN_TOKEN_CHARS:
            raise AccessError(f"{source}:{n}: token shorter than {MIN_TOKEN_CHARS} characters (guessable)")
        if token.encode() not in tokens:
            tokens.append(token.encode())
    if not tokens:
        raise AccessError(f"{source}: no tokens (one per line)")
    return tuple(tokens)


def read_tokens(path: Path) -> tuple[bytes, ...]:
    data = read_file(path, "auth tokens file")
    try:
        return parse_tokens(data.decode("ascii"), str(path))
    except UnicodeDecodeError:
        raise AccessError(f"{path}: a tokens file is ASCII text") from None


def read_key(path: Path, what: str) -> bytes:
    """A secret key file's bytes (surrounding whitespace dropped), at least ``MIN_KEY_BYTES`` long."""
    key = read_file(path, what).strip()
    if len(key) < MIN_KEY_BYTES:
        raise AccessError(
            f"{path}: the {what} has {len(key)} bytes; at least {MIN_KEY_BYTES} are needed "
            f"(e.g. `openssl rand -hex 32 > {path}`)"
        )
    return key


def presented_token(authorization: str | None) -> str | None:
    """The token in an ``authorization`` value: ``Bearer <token>``, or Basic with the token as password."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(rest.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


@dataclass(frozen=True)
class ServerTLS:
    cert_pem: bytes
    key_pem: bytes
    client_ca_pem: bytes | None
    context: ssl.SSLContext  # for the HTTP ports

    @classmethod
    def load(cls, cert: Path, key: Path, client_ca: Path | None) -> ServerTLS:
        cert_pem, key_pem = read_file(cert, "TLS certificate"), read_file(key, "TLS key")
        ca_pem = read_file(client_ca, "TLS client CA") if client_ca is not None else None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(cert, key)
        except ssl.SSLError as exc:
            raise AccessError(f"{cert}, {key}: not a PEM certificate and its private key ({exc.reason})") from None
        if ca_pem is not None:
            try:
                context.load_verify_locations(cadata=ca_pem.decode("ascii", "replace"))
            except ssl.SSLError as exc:
                raise AccessError(f"{client_ca}: not PEM CA certificates ({exc.reason})") from None
            context.verify_mode = ssl.CERT_REQUIRED
        return cls(cert_pem, key_pem, ca_pem, context)


@dataclass(frozen=True)
class ServerAccess:
    """Tokens (none: open) and TLS (none: plaintext) of a server."""

    tokens: tuple[bytes, ...] = ()
    tls: ServerTLS | None = None

    @classmethod
    def load(
        cls,
        tokens_file: Path | None = None,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        tls_client_ca: Path | None = None,
    ) -> ServerAccess:
        if (tls_cert is None) != (tls_key is None):
            raise AccessError("tls_cert and tls_key: give both (the certificate and its private key) or neither")
        if tls_client_ca is not None and tls_cert is None:
            raise AccessError("tls_client_ca: client certificates need TLS; give tls_cert and tls_key too")
        tokens = read_tokens(tokens_file) if tokens_file is not None else ()
        tls = ServerTLS.load(tls_cert, tls_key, tls_client_ca) if tls_cert and tls_key else None
        return cls(tokens, tls)

    @property
    def open(self) -> bool:
        return not self.tokens

    def allows(self, authorization: str | None) -> bool:
        """Whether an ``authorization`` value carries a valid token (always, when open)."""
        if self.open:
            return True
        token = presented_token(authorization)
        if token is None:
            return False
        given = token.encode("utf-8", "surrogateescape")
        valid = False
        for known in self.tokens:  # every one, so the time does not tell which matched
            valid |= hmac.compare_digest(given, known)
        return valid

    def grpc_credentials(self) -> grpc.ServerCredentials | None:
        if self.tls is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls.key_pem, self.tls.cert_pem)],
            root_certificates=self.tls.client_ca_pem,
            require_client_auth=self.tls.client_ca_pem is not None,
        )

    def warn_if_exposed(self, host: str, what: str) -> None:
        """Log what an address other than loopback is open to."""
        if host in ("localhost", "127.0.0.1", "::1"):
            return
        if self.open:
            log.warning("%s on %s without --auth-tokens-file: whoever reaches it may use it", what, host)
        elif self.tls is None:
            log.warning("%s on %s without TLS: tokens and answers cross the network in the clear", what, host)


class TLSServerMixin(socketserver.BaseServer):
    """For socketserver HTTP servers: TLS when given an ``ssl_context``, with
    the handshake in the request's own thread, so a client that never
    finishes one cannot stall the accept loop (failures logged at debug
    level); IPv6 addresses as well as IPv4 ones."""

    handshake_timeout_s = 10.0
    address_family: int

    def __init__(self, address: tuple[str, int], handler: Any, ssl_context: ssl.SSLContext | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.handshake_timeout_s)
        with self.ssl_context.wrap_socket(request, server_side=True) as tls:
            super().finish_request(tls, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)
