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

Sessions (docs/SESSIONS.md): ``run`` executes code once; ``session``
opens a live interpreter whose names persist from one ``exec`` to the next::

    with Client() as c, c.session("python") as s:
        s.exec("x = 41")
        print(s.exec("x + 1").result)   # 42

A session lives on the server that opened it: with several servers, the
client sends every call of a session (and of its forks) to that server.

A server with access control (docs/OPERATIONS.md "Access") wants a token
and may serve TLS: ``Client(target, token=..., tls_ca=...)``, and
``tls_cert``/``tls_key`` where it asks for client certificates. Each falls
back to its environment variable (``RLCE_TOKEN``, ``RLCE_TLS_CA``,
``RLCE_TLS_CERT``, ``RLCE_TLS_KEY``); TLS is used when a CA or a client
certificate is given.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import grpc

from ._proto.rlce.v1 import scorer_pb2 as pb
from ._proto.rlce.v1 import scorer_pb2_grpc as pb_grpc
from .service import SERVICE_NAME

__all__ = [
    "Access",
    "AsyncClient",
    "AsyncSession",
    "Client",
    "Session",
    "assertion",
    "call",
    "pb",
    "request",
    "stdio",
    "wait_serving",
]

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


class Access(TypedDict, total=False):
    """How a client proves who it is (each unset one from its ``RLCE_*`` variable)."""

    token: str | None  # RLCE_TOKEN: sent as ``authorization: Bearer <token>``
    tls_ca: str | os.PathLike[str] | None  # RLCE_TLS_CA: PEM CA(s) the server's certificate must chain to
    tls_cert: str | os.PathLike[str] | None  # RLCE_TLS_CERT: PEM client certificate (servers with a client CA)
    tls_key: str | os.PathLike[str] | None  # RLCE_TLS_KEY: its private key


def _pem(path: str | os.PathLike[str] | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


@dataclass(frozen=True)
class Credentials:
    token: str | None
    tls_ca: bytes | None
    tls_cert: bytes | None
    tls_key: bytes | None

    @classmethod
    def resolve(cls, access: Access) -> Credentials:
        env = os.environ
        token = access.get("token") or env.get("RLCE_TOKEN")
        cert = _pem(access.get("tls_cert") or env.get("RLCE_TLS_CERT"))
        key = _pem(access.get("tls_key") or env.get("RLCE_TLS_KEY"))
        if (cert is None) != (key is None):
            raise ValueError("tls_cert and tls_key (RLCE_TLS_CERT, RLCE_TLS_KEY): give both or neither")
        return cls(token.strip() if token else None, _pem(access.get("tls_ca") or env.get("RLCE_TLS_CA")), cert, key)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if self.tls_ca is None and self.tls_cert is None:
            return None
        return grpc.ssl_channel_credentials(self.tls_ca, self.tls_key, self.tls_cert)

    def channel(self, address: str, options: list[tuple[str, Any]]) -> grpc.Channel:
        creds = self.channel_credentials()
        if creds is None:
            return grpc.insecure_channel(address, options=options)
        return grpc.secure_channel(address, creds, options=options)

    def aio_channel(self, address: str, options: list[tuple[str, Any]]) -> grpc.aio.Channel:
        creds = self.channel_credentials()
        if creds is None:
            return grpc.aio.insecure_channel(address, options=options)
        return grpc.aio.secure_channel(address, creds, options=options)


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


def _b(x: bytes | str) -> bytes:
    return x.encode() if isinstance(x, str) else x


def stdio(
    stdin: bytes | str,
    expected: bytes | str,
    match: pb.OutputMatch = pb.TOKENS,
    *,
    name: str = "",
    weight: float = 0.0,
    float_tolerance: float = 0.0,
) -> pb.TestCase:
    test = pb.StdioTest(stdin=_b(stdin), expected_stdout=_b(expected), match=match, float_tolerance=float_tolerance)
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


def interactive(input: str | bytes, answer: str | bytes = b"", *, name: str = "", weight: float = 0.0) -> pb.TestCase:
    """A test judged by the problem's interactor (`interactor <input> <log> <answer>`)."""
    return pb.TestCase(name=name, weight=weight, interactive=pb.InteractiveTest(input=_b(input), answer=_b(answer)))


def judge(
    language: str, source: str, *, files: dict[str, bytes] | None = None, points_max: float = 0.0
) -> pb.JudgeProgram:
    """A checker or interactor (testlib conventions: docs/JUDGES.md)."""
    return pb.JudgeProgram(language=language, source=source, files=files or {}, points_max=points_max)


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


def run_request(
    language: str,
    code: str,
    *,
    stdin: bytes | str = b"",
    files: dict[str, bytes | str] | None = None,
    fetch: Iterable[str] = (),
    limits: pb.Limits | None = None,
    request_id: str = "",
) -> pb.RunRequest:
    """A RunRequest: ``code`` run once; ``files`` written first, ``fetch`` read back after."""
    req = pb.RunRequest(
        request_id=request_id, language=language, code=code, stdin=_bytes(stdin), files=_files(files), fetch=list(fetch)
    )
    if limits is not None:
        req.limits.CopyFrom(limits)
    return req


def open_request(
    language: str = "python",
    *,
    limits: pb.Limits | None = None,
    idle_timeout_s: int = 0,
    files: dict[str, bytes | str] | None = None,
) -> pb.OpenSessionRequest:
    req = pb.OpenSessionRequest(language=language, idle_timeout_s=idle_timeout_s, files=_files(files))
    if limits is not None:
        req.limits.CopyFrom(limits)
    return req


def exec_request(
    session_id: str,
    code: str,
    *,
    stdin: bytes | str = b"",
    files: dict[str, bytes | str] | None = None,
    fetch: Iterable[str] = (),
    time_limit_s: float = 0.0,
) -> pb.ExecRequest:
    return pb.ExecRequest(
        session_id=session_id,
        code=code,
        stdin=_bytes(stdin),
        files=_files(files),
        fetch=list(fetch),
        time_limit_s=time_limit_s,
    )


def _bytes(x: bytes | str) -> bytes:
    return x.encode() if isinstance(x, str) else x


def _files(files: dict[str, bytes | str] | None) -> dict[str, bytes]:
    return {name: _bytes(data) for name, data in (files or {}).items()}


def _addresses(target: str | Sequence[str]) -> list[str]:
    """Each server's own address when there are several (a session must stay on its server)."""
    if isinstance(target, str):
        if not target.startswith("dns:"):
            return []
        host, _, port = target.split("/")[-1].rpartition(":")
        try:
            infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        except (OSError, ValueError):
            return []
        found = [f"{i[4][0]}:{port}" if i[0] == socket.AF_INET else f"[{i[4][0]}]:{port}" for i in infos]
        return sorted(set(found)) if len(set(found)) > 1 else []
    return [addr for _, addr in (_resolve(t) for t in target)] if len(target) > 1 else []


class _Pinned:
    """Stubs pinned to one server each: a session's calls go to the server that opened it."""

    def __init__(self, stub: Any, addresses: list[str], make: Callable[[str], Any]) -> None:
        self.stub = stub
        self.addresses = addresses
        self.make = make
        self.stubs: dict[str, Any] = {}
        self.owner: dict[str, Any] = {}
        self.turn = itertools.count()

    def order(self) -> list[Any]:
        """Where to open a new session: every server once, starting from the next in turn."""
        if not self.addresses:
            return [self.stub]
        start = next(self.turn)
        picked = [self.addresses[(start + i) % len(self.addresses)] for i in range(len(self.addresses))]
        for addr in picked:
            if addr not in self.stubs:
                self.stubs[addr] = self.make(addr)
        return [self.stubs[addr] for addr in picked]

    def of(self, session_id: str) -> Any:
        return self.owner.get(session_id, self.stub)

    def pin(self, session_id: str, stub: Any) -> None:
        if self.addresses:
            self.owner[session_id] = stub
            if len(self.owner) > 100_000:  # forget the oldest (sessions long closed)
                for key in list(self.owner)[:50_000]:
                    del self.owner[key]


def wait_serving(
    target: str, timeout_s: float = 120.0, alive: Callable[[], bool] = lambda: True, **access: Unpack[Access]
) -> None:
    """Block until the server's health check says SERVING (self-tests passed,
    pool warm); raise TimeoutError after ``timeout_s`` or RuntimeError as soon
    as ``alive()`` turns false (e.g. the server process exited). The health
    service needs no token; ``tls_*`` as for :class:`Client`."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    with Credentials.resolve(access).channel(target, list(_CHANNEL_OPTIONS)) as channel:
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
    """Blocking client of one server (``host:port``) or several (a list, or ``dns:///``);
    ``token``, ``tls_ca``, ``tls_cert``, ``tls_key`` for servers with access control."""

    def __init__(self, target: str | Sequence[str] = "127.0.0.1:50051", **access: Unpack[Access]) -> None:
        address, options = channel_target(target)
        credentials = Credentials.resolve(access)
        self.channel = credentials.channel(address, options)
        self.metadata = client_metadata() + credentials.metadata()
        self.stub = pb_grpc.ScorerStub(self.channel)  # type: ignore[no-untyped-call]
        self._channels: list[grpc.Channel] = []

        def pinned(addr: str) -> Any:
            self._channels.append(credentials.channel(addr, list(_CHANNEL_OPTIONS)))
            return pb_grpc.ScorerStub(self._channels[-1])  # type: ignore[no-untyped-call]

        self._pinned = _Pinned(self.stub, _addresses(target), pinned)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()
        for channel in self._channels:
            channel.close()

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

    def register_tests(
        self,
        tests: Iterable[pb.TestCase],
        *,
        checker: pb.JudgeProgram | None = None,
        interactor: pb.JudgeProgram | None = None,
    ) -> str:
        """A ref for the tests and the problem's judges (register a problem once)."""
        resp: pb.RegisterTestsResponse = self.stub.RegisterTests(
            pb.RegisterTestsRequest(tests=list(tests), checker=checker, interactor=interactor), metadata=self.metadata
        )
        return resp.tests_ref

    def list_runtimes(self) -> pb.ListRuntimesResponse:
        resp: pb.ListRuntimesResponse = self.stub.ListRuntimes(pb.ListRuntimesRequest(), metadata=self.metadata)
        return resp

    # -- Run and sessions (docs/SESSIONS.md) --------------------------------------
    def run(self, language: str, code: str, *, timeout_s: float | None = None, **kw: Any) -> pb.RunResponse:
        """Run ``code`` once (``stdin``, ``files``, ``fetch``, ``limits`` as :func:`run_request`)."""
        resp: pb.RunResponse = self.stub.Run(
            run_request(language, code, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    def open_session(self, language: str = "python", *, timeout_s: float | None = None, **kw: Any) -> pb.SessionInfo:
        req = open_request(language, **kw)
        last: grpc.RpcError | None = None
        for stub in self._pinned.order():
            try:
                info: pb.SessionInfo = stub.OpenSession(req, timeout=timeout_s, metadata=self.metadata)
            except grpc.RpcError as exc:  # that server is down or full: the next one
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                    raise
                last = exc
                continue
            self._pinned.pin(info.session_id, stub)
            return info
        assert last is not None
        raise last

    def exec(self, session_id: str, code: str, *, timeout_s: float | None = None, **kw: Any) -> pb.ExecResponse:
        """One cell (``stdin``, ``files``, ``fetch``, ``time_limit_s`` as :func:`exec_request`)."""
        stub = self._pinned.of(session_id)
        resp: pb.ExecResponse = stub.Exec(
            exec_request(session_id, code, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    def fork_session(self, session_id: str, *, timeout_s: float | None = None) -> pb.SessionInfo:
        stub = self._pinned.of(session_id)
        req = pb.ForkSessionRequest(session_id=session_id)
        info: pb.SessionInfo = stub.ForkSession(req, timeout=timeout_s, metadata=self.metadata)
        self._pinned.pin(info.session_id, stub)
        return info

    def close_session(self, session_id: str, *, timeout_s: float | None = None) -> None:
        stub = self._pinned.of(session_id)
        stub.CloseSession(pb.CloseSessionRequest(session_id=session_id), timeout=timeout_s, metadata=self.metadata)

    def session(self, language: str = "python", **kw: Any) -> Session:
        """A live session (closed when its ``with`` block ends)."""
        info = self.open_session(language, **kw)
        return Session(self, info.session_id, info.language)


class Session:
    """A live session of a :class:`Client`; ``with`` closes it."""

    def __init__(self, client: Client, session_id: str, language: str) -> None:
        self.client = client
        self.id = session_id
        self.language = language

    def exec(self, code: str, **kw: Any) -> pb.ExecResponse:
        return self.client.exec(self.id, code, **kw)

    def fork(self) -> Session:
        info = self.client.fork_session(self.id)
        return Session(self.client, info.session_id, info.language)

    def close(self) -> None:
        """Close it (a session already gone is no error here)."""
        try:
            self.client.close_session(self.id)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """asyncio client (grpc.aio) of one server or several, as :class:`Client`."""

    def __init__(self, target: str | Sequence[str] = "127.0.0.1:50051", **access: Unpack[Access]) -> None:
        address, options = channel_target(target)
        credentials = Credentials.resolve(access)
        self.channel = credentials.aio_channel(address, options)
        self.metadata = client_metadata() + credentials.metadata()
        self.stub = pb_grpc.ScorerStub(self.channel)  # type: ignore[no-untyped-call]
        self._channels: list[grpc.aio.Channel] = []

        def pinned(addr: str) -> Any:
            self._channels.append(credentials.aio_channel(addr, list(_CHANNEL_OPTIONS)))
            return pb_grpc.ScorerStub(self._channels[-1])  # type: ignore[no-untyped-call]

        self._pinned = _Pinned(self.stub, _addresses(target), pinned)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()
        for channel in self._channels:
            await channel.close()

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
        try:
            async for resp in call:
                yield resp
        except grpc.aio.AioRpcError as exc:
            # grpc#36066: a request written as the server ends the stream early (a refused
            # token, say) hides the server's status behind this INTERNAL; a unary call shows it
            if exc.code() == grpc.StatusCode.INTERNAL and exc.details() == "Internal error from Core":
                await self.stub.ListRuntimes(pb.ListRuntimesRequest(), timeout=30, metadata=self.metadata)
            raise

    async def register_tests(
        self,
        tests: Iterable[pb.TestCase],
        *,
        checker: pb.JudgeProgram | None = None,
        interactor: pb.JudgeProgram | None = None,
    ) -> str:
        """A ref for the tests and the problem's judges (register a problem once)."""
        resp: pb.RegisterTestsResponse = await self.stub.RegisterTests(
            pb.RegisterTestsRequest(tests=list(tests), checker=checker, interactor=interactor), metadata=self.metadata
        )
        return resp.tests_ref

    async def list_runtimes(self) -> pb.ListRuntimesResponse:
        resp: pb.ListRuntimesResponse = await self.stub.ListRuntimes(pb.ListRuntimesRequest(), metadata=self.metadata)
        return resp

    # -- Run and sessions (docs/SESSIONS.md) --------------------------------------
    async def run(self, language: str, code: str, *, timeout_s: float | None = None, **kw: Any) -> pb.RunResponse:
        resp: pb.RunResponse = await self.stub.Run(
            run_request(language, code, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    async def open_session(
        self, language: str = "python", *, timeout_s: float | None = None, **kw: Any
    ) -> pb.SessionInfo:
        req = open_request(language, **kw)
        last: grpc.aio.AioRpcError | None = None
        for stub in self._pinned.order():
            try:
                info: pb.SessionInfo = await stub.OpenSession(req, timeout=timeout_s, metadata=self.metadata)
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                    raise
                last = exc
                continue
            self._pinned.pin(info.session_id, stub)
            return info
        assert last is not None
        raise last

    async def exec(self, session_id: str, code: str, *, timeout_s: float | None = None, **kw: Any) -> pb.ExecResponse:
        stub = self._pinned.of(session_id)
        resp: pb.ExecResponse = await stub.Exec(
            exec_request(session_id, code, **kw), timeout=timeout_s, metadata=self.metadata
        )
        return resp

    async def fork_session(self, session_id: str, *, timeout_s: float | None = None) -> pb.SessionInfo:
        stub = self._pinned.of(session_id)
        req = pb.ForkSessionRequest(session_id=session_id)
        info: pb.SessionInfo = await stub.ForkSession(req, timeout=timeout_s, metadata=self.metadata)
        self._pinned.pin(info.session_id, stub)
        return info

    async def close_session(self, session_id: str, *, timeout_s: float | None = None) -> None:
        stub = self._pinned.of(session_id)
        await stub.CloseSession(
            pb.CloseSessionRequest(session_id=session_id), timeout=timeout_s, metadata=self.metadata
        )

    async def session(self, language: str = "python", **kw: Any) -> AsyncSession:
        """A live session; ``async with`` closes it."""
        info = await self.open_session(language, **kw)
        return AsyncSession(self, info.session_id, info.language)


class AsyncSession:
    """A live session of an :class:`AsyncClient`."""

    def __init__(self, client: AsyncClient, session_id: str, language: str) -> None:
        self.client = client
        self.id = session_id
        self.language = language

    async def exec(self, code: str, **kw: Any) -> pb.ExecResponse:
        return await self.client.exec(self.id, code, **kw)

    async def fork(self) -> AsyncSession:
        info = await self.client.fork_session(self.id)
        return AsyncSession(self.client, info.session_id, info.language)

    async def close(self) -> None:
        try:
            await self.client.close_session(self.id)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
