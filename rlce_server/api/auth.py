"""Bearer tokens on the gRPC port, in one place: an interceptor.

Installed first (before the metrics interceptor) when the server has
tokens. A call without a valid ``authorization: Bearer <token>`` gets
UNAUTHENTICATED from a stand-in handler: the real one is never looked up,
no request is decoded and nothing runs. The standard health service stays
open (load balancers and probes carry no token); reflection does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from ..access import ServerAccess

OPEN_PREFIX = "/grpc.health.v1.Health/"


REFUSAL = "a valid token is needed: metadata authorization: Bearer <token>"


async def _refuse(_requests: Any, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)


# stream-stream, with no deserializer: fits any call and reads nothing from it
_REFUSED = grpc.stream_stream_rpc_method_handler(_refuse)


def authorization(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            return value
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, access: ServerAccess, refused: Callable[[], None]) -> None:
        self.access = access
        self.refused = refused

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        if details.method.startswith(OPEN_PREFIX) or self.access.allows(authorization(details.invocation_metadata)):
            return await continuation(details)
        self.refused()
        return _REFUSED
