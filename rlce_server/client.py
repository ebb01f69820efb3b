"""Python client for rlce, sync and asyncio, with helpers to build tests.

from rlce_server.client import Client, assertion, stdio, call
with Client("127.0.0.1:50051") as c:
    r = c.score("python", "def f(x): return x + 1", [call("f", [1], 2)])
    print(r.verdict, r.reward)

Several servers: pass a list of ``host:port`` targets, or one
``dns:///name:port`` target whose name resolves to many addresses (a
Kubernetes headless Service). Calls are then spread by gRPC's own round
robin, and each address is health-checked (``grpc.health.v1``) so that a
server that is starting, draining or down gets no new calls.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import grpc

from ._proto.rlce.v1 import scorer_pb2 as pb
from ._proto.rlce.v1 import scorer_pb2_grpc as pb_grpc
from .service import SERVICE_NAME

__all__ = ["AsyncClient", "Client", "assertion", "call", "pb", "request", "stdio", "wait_serving"]

_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
# Round robin over every resolved address, skipping those whose health
# check for the Scorer service is not SERVING.
_BALANCED = json.dumps(
    {"loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": SERVICE_NAME}}
)


def _resolve(target: str) -> tuple[str, str]:
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        ip = ipaddress.ip_address(infos[0][4][0])
    return ("ipv4" if ip.version == 4 else "ipv6"), (f"{ip}:{port}" if ip.version == 4 else f"[{ip}]:{port}")


CLIENT_ID_KEY = "rlce-client-id"


def client_metadata() -> tuple[tuple[str, str], ...]:
    """Identifies this client object to the server, which shares sandboxes
    fairly between clients (channels in one process share a connection, so
    the peer address alone cannot tell them apart)."""
    return ((CLIENT_ID_KEY, uuid.uuid4().hex),)


def channel_target(target: str | Sequence[str]) -> tuple[str, list[tuple[str, Any]]]:
    """The gRPC target and channel options for one server or several."""
    options: list[tuple[str, Any]] = list(_CHANNEL_OPTIONS)
    if isinstance(target, str) and not target.startswith("dns:"):
        return target, options
    options.append(("grpc.service_config", _BALANCED))
    if isinstance(target, str):
        return target, options
    if not target:
        raise ValueError("targets: at least one host:port is required")
    resolved = [_resolve(t) for t in target]
    families = {family for family, _ in resolved}
    if len(families) != 1:
        raise ValueError("targets: mix of IPv4 and IPv6 addresses; use one family")
    return f"{families.pop()}:{','.join(addr for _, addr in resolved)}", options


def stdio(
    stdin: bytes | str,
    expected: bytes | str,
    match: pb.OutputMatch = pb.TOKENS,
    *,
    name: str = "",
    weight: float = 0.0,
    float_tolerance: float = 0.0,
) -> pb.TestCase:
    def b(x: bytes | str) -> bytes:
        return x.encode() if isinstance(x, str) else x

    test = pb.StdioTest(stdin=b(stdin), expected_stdout=b(expected), match=match, float_tolerance=float_tolerance)
    return pb.TestCase(name=name, weight=weight, stdio=test)


def call(
    entry_point: str,
    args: Sequence[Any],
    expected: Any,
    *,
    name: str = "",
    weight: float = 0.0,
    float_tolerance: float = 0.0,
) -> pb.TestCase:
    return pb.TestCase(
        name=name,
        weight=weight,
        call=pb.CallTest(
            entry_point=entry_point,
            args_json=json.dumps(list(args)),
            expected_json=json.dumps(expected),
            float_tolerance=float_tolerance,
        ),
    )


def assertion(code: str, *, name: str = "", weight: float = 0.0) -> pb.TestCase:
    return pb.TestCase(name=name, weight=weight, assertion=pb.AssertTest(code=code))


def request(
    language: str,
    program: str,
    tests: Iterable[pb.TestCase] = (),
    *,
    request_id: str = "",
    tests_ref: str = "",
    limits: pb.Limits | None = None,
    policy: pb.ScoringPolicy | None = None,
    no_cache: bool = False,
) -> pb.ScoreRequest:
    """A ScoreRequest; ``no_cache`` forces a real run (sets ``policy.no_cache``)."""
    req = pb.ScoreRequest(
        request_id=request_id, language=language, program=program, tests=list(tests), tests_ref=tests_ref
    )
    if limits is not None:
        req.limits.CopyFrom(limits)
    if policy is not None:
        req.policy.CopyFrom(policy)
    if no_cache:
        req.policy.no_cache = True
    return req


def wait_serving(target: str, timeout_s: float = 120.0, alive: Callable[[], bool] = lambda: True) -> None:
    """Block until the server's health check says SERVING (self-tests passed,
    pool warm); raise TimeoutError after ``timeout_s`` or RuntimeError as soon
    as ``alive()`` turns false (e.g. the server process exited)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        serving = health_pb2.HealthCheckResponse.SERVING
        while True:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == serving:
                    return
            except grpc.RpcError:
                pass
            if not alive():
                raise RuntimeError(f"the server at {target} stopped before it was SERVING")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server at {target} was not SERVING within {timeout_s}s")
            time.sleep(0.2)


class Client:
    """Blocking client of one server (``host:port``) or several (a list, or ``dns:///``)."""

    def __init__(self, target: str | Sequence[str] = "127.0.0.1:50051") -> None:
        address, options = channel_target(target)
        self.channel = grpc.insecure_channel(address, options=options)
        self.metadata = client_metadata()
        self.stub = pb_grpc.ScorerStub(self.channel)  # type: ignore[no-untyped-call]

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        grpc.channel_ready_future(self.channel).result(timeout=timeout_s, metadata=self.metadata)

    def score(
        self,
        language: str,
        program: str,
        tests: Iterable[pb.TestCase] = (),
        *,
        timeout_s: float | None = None,
        **kw: Any,
    ) -> pb.ScoreResponse:
        resp: pb.ScoreResponse = self.stub.Score(
            request(language, program, tests, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    def score_request(self, req: pb.ScoreRequest, timeout_s: float | None = None) -> pb.ScoreResponse:
        resp: pb.ScoreResponse = self.stub.Score(req, timeout=timeout_s, metadata=self.metadata)
        return resp

    def score_stream(
        self, requests: Iterable[pb.ScoreRequest], timeout_s: float | None = None
    ) -> Iterable[pb.ScoreResponse]:
        return self.stub.ScoreStream(iter(requests), timeout=timeout_s, metadata=self.metadata)  # type: ignore[no-any-return]

    def register_tests(self, tests: Iterable[pb.TestCase]) -> str:
        resp: pb.RegisterTestsResponse = self.stub.RegisterTests(
            pb.RegisterTestsRequest(tests=list(tests)), metadata=self.metadata
        )
        return resp.tests_ref

    def list_runtimes(self) -> pb.ListRuntimesResponse:
        resp: pb.ListRuntimesResponse = self.stub.ListRuntimes(pb.ListRuntimesRequest(), metadata=self.metadata)
        return resp


class AsyncClient:
    """asyncio client (grpc.aio) of one server or several, as :class:`Client`."""

    def __init__(self, target: str | Sequence[str] = "127.0.0.1:50051") -> None:
        address, options = channel_target(target)
        self.channel = grpc.aio.insecure_channel(address, options=options)
        self.metadata = client_metadata()
        self.stub = pb_grpc.ScorerStub(self.channel)  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def score(
        self,
        language: str,
        program: str,
        tests: Iterable[pb.TestCase] = (),
        *,
        timeout_s: float | None = None,
        **kw: Any,
    ) -> pb.ScoreResponse:
        resp: pb.ScoreResponse = await self.stub.Score(
            request(language, program, tests, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    async def score_stream(
        self, requests: Iterable[pb.ScoreRequest] | AsyncIterator[pb.ScoreRequest], timeout_s: float | None = None
    ) -> AsyncIterator[pb.ScoreResponse]:
        call = self.stub.ScoreStream(requests, timeout=timeout_s, metadata=self.metadata)
        async for resp in call:
            yield resp

    async def register_tests(self, tests: Iterable[pb.TestCase]) -> str:
        resp: pb.RegisterTestsResponse = await self.stub.RegisterTests(
            pb.RegisterTestsRequest(tests=list(tests)), metadata=self.metadata
        )
        return resp.tests_ref

    async def list_runtimes(self) -> pb.ListRuntimesResponse:
        resp: pb.ListRuntimesResponse = await self.stub.ListRuntimes(pb.ListRuntimesRequest(), metadata=self.metadata)
        return resp
