"""RPC metrics for every Scorer method, in one place: an interceptor.

Why an interceptor: the count by status code and the latency are then taken
the same way for every RPC, including the ones aborted with an error status
(``context.abort`` raises out of the handler) and the ones the client
cancels, without each handler having to remember it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from ..metrics import Metrics
from ..service import SERVICE_NAME


def _status(context: grpc.aio.ServicerContext, default: grpc.StatusCode) -> grpc.StatusCode:
    code = context.code()
    return code if isinstance(code, grpc.StatusCode) else default


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def _record(self, rpc: str, code: grpc.StatusCode, started: float) -> None:
        self.metrics.requests.labels(rpc, code.name).inc()
        self.metrics.rpc_latency.labels(rpc).observe(time.monotonic() - started)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        service, _, rpc = details.method.lstrip("/").rpartition("/")
        if handler is None or service != SERVICE_NAME:
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(rpc, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream(rpc, handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    @contextmanager
    def _measured(self, rpc: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
        started, code = time.monotonic(), grpc.StatusCode.OK
        try:
            yield
            code = _status(context, grpc.StatusCode.OK)
        except (asyncio.CancelledError, GeneratorExit):
            code = grpc.StatusCode.CANCELLED
            raise
        except BaseException:  # context.abort() raises; the status is on the context
            code = _status(context, grpc.StatusCode.UNKNOWN)
            raise
        finally:
            self._record(rpc, code, started)

    def _unary(self, rpc: str, inner: Any) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
            with self._measured(rpc, context):
                return await inner(request, context)

        return call

    def _stream(self, rpc: str, inner: Any) -> Any:
        async def call(requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            with self._measured(rpc, context):
                async for response in inner(requests, context):
                    yield response

        return call
