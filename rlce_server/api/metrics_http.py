"""The metrics port: Prometheus text at ``/metrics``, behind the server's access.

A small threaded WSGI server (stdlib ``wsgiref``) around
``prometheus_client.make_wsgi_app``: with tokens, a scrape without a valid
``Authorization: Bearer <token>`` is a 401 (counted); with a certificate it
serves HTTPS (and wants client certificates where the server does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

from ..access import ServerAccess, TLSServerMixin

UNAUTHORIZED = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("WWW-Authenticate", 'Bearer realm="rlce"'),
]


class _Server(TLSServerMixin, ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    timeout = 30  # a client that stops sending releases its thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def guarded(app: Callable[..., Iterable[bytes]], access: ServerAccess, refused: Callable[[], None]) -> Any:
    """``app`` behind ``access``'s tokens."""

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not access.allows(environ.get("HTTP_AUTHORIZATION")):
            refused()
            start_response("401 Unauthorized", UNAUTHORIZED)
            return [b"a valid token is needed: Authorization: Bearer <token>\n"]
        return app(environ, start_response)

    return call


def start_metrics_server(
    host: str, port: int, registry: CollectorRegistry, access: ServerAccess, refused: Callable[[], None]
) -> WSGIServer:
    """Serve ``registry`` on ``host:port`` in a daemon thread; ``shutdown()`` stops it."""
    server = _Server((host, port), _Quiet, access.tls.context if access.tls else None)
    server.set_app(guarded(make_wsgi_app(registry), access, refused))
    threading.Thread(target=server.serve_forever, name="rlce-metrics", daemon=True).start()
    return server
