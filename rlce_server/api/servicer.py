"""The Scorer service over grpc.aio.

Unary Score: a malformed request is INVALID_ARGUMENT naming the field; a full
queue is RESOURCE_EXHAUSTED. ScoreStream: every request gets exactly one
response (INVALID_REQUEST for a malformed one, SANDBOX_ERROR if our side
fails), answered as each finishes; at most ``stream_inflight`` run at once
per stream, which is the stream's back-pressure. Sandboxes are shared fairly
between streams (and unary clients); identical requests are answered from the
result cache or coalesced into one run (``cached`` set), unless
``policy.no_cache``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from .._proto.rlce.v1 import scorer_pb2 as pb
from .._proto.rlce.v1 import scorer_pb2_grpc as pb_grpc
from ..config import Settings
from ..domain import Job, Verdict
from ..errors import InvalidRequest, SandboxFault, SessionNotFound, SessionsExhausted
from ..metrics import Metrics
from ..runtimes import RuntimeSpec
from ..scheduling.admission import Admission
from ..scheduling.cache import ResultCache, cache_key
from ..scheduling.oneshot import OneShot
from ..scheduling.scorer import Scorer
from ..sessions import SessionManager
from . import convert, sessions
from .registered_tests import RegisteredTests, tests_digest

log = logging.getLogger("rlce.api")


def _client(context: grpc.aio.ServicerContext) -> str:
    """Whom a request belongs to, for fair sharing: the client's id if it
    sent one (``rlce-client-id``), else its connection."""
    for key, value in context.invocation_metadata() or ():
        if key == "rlce-client-id" and isinstance(value, str):
            return f"client:{value[:64]}"
    return f"peer:{context.peer()}"


class ScorerServicer(pb_grpc.ScorerServicer):
    def __init__(
        self,
        settings: Settings,
        scorer: Scorer,
        specs: dict[str, RuntimeSpec],
        metrics: Metrics,
        cache: ResultCache | None = None,
        oneshot: OneShot | None = None,
        session_manager: SessionManager | None = None,
    ) -> None:
        self.oneshot = oneshot
        self.sessions = session_manager
        self.settings = settings
        self.cache = cache
        self._streams = itertools.count(1)
        self.scorer = scorer
        self.specs = specs
        self.metrics = metrics
        self.kinds = {name: list(spec.test_kinds) for name, spec in specs.items()}
        self.store = RegisteredTests(settings.registered_tests_max, settings.registered_tests_max_bytes)
        self.admission = Admission(settings.queue_size)

    def _job(self, request: pb.ScoreRequest) -> Job:
        size = request.ByteSize()
        if size > self.settings.max_request_bytes:
            raise InvalidRequest("request", f"is {size} bytes; at most {self.settings.max_request_bytes} are allowed")
        return convert.convert_request(request, self.settings, self.kinds, self.store.get)

    async def _scored(self, job: Job, *, owner: str) -> pb.ScoreResponse:
        """Score through the result cache unless the request opts out."""
        if self.cache is None or job.no_cache:
            return convert.to_response(await self.scorer.score(job, owner=owner))

        own: list[pb.ScoreResponse] = []  # this request's own run, if it made one

        async def run() -> tuple[bytes, bool]:
            result = await self.scorer.score(job, owner=owner)
            own.append(convert.to_response(result))
            return own[0].SerializeToString(), result.verdict is not Verdict.SANDBOX_ERROR

        judges = [j.language for j in (job.checker, job.interactor) if j is not None]
        images = " ".join(f"{lang}={self.scorer.digests.get(lang, '')}" for lang in [job.language, *judges])
        key = cache_key(job, images)
        data, _ = await self.cache.get_or_run(key, job.language, run)
        if own:  # ran here (as the leader, or after a failed one): no copy, and not "cached"
            return own[0]
        response = pb.ScoreResponse.FromString(data)
        response.cached = True
        response.request_id = job.request_id
        return response

    async def _admit(self, context: grpc.aio.ServicerContext) -> str:
        """The caller's client id, once admitted (unary: RESOURCE_EXHAUSTED past the queue)."""
        client = _client(context)
        if not self.admission.try_enter(client):
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"more than {self.settings.queue_size} requests are in and this client has its share; retry later",
            )
        self.metrics.inflight.inc()
        return client

    async def Score(self, request: pb.ScoreRequest, context: grpc.aio.ServicerContext) -> pb.ScoreResponse:
        client = await self._admit(context)
        try:
            job = self._job(request)
            return await self._scored(job, owner=client)
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Exception as exc:  # ours, unexpected: answer SANDBOX_ERROR, never UNKNOWN
            log.exception("request failed inside rlce", extra={"request_id": request.request_id})
            return convert.internal_error_response(request.request_id, len(request.tests), exc)
        finally:
            self.metrics.inflight.dec()
            self.admission.leave(client)
        raise AssertionError("unreachable")

    async def _answer(self, request: pb.ScoreRequest, owner: str) -> pb.ScoreResponse:
        try:
            job = self._job(request)
        except InvalidRequest as exc:
            return convert.invalid_response(request.request_id, str(exc), len(request.tests))
        try:
            return await self._scored(job, owner=owner)
        except Exception as exc:  # never leave a stream request unanswered
            log.exception("request failed inside rlce", extra={"request_id": job.request_id})
            return convert.internal_error_response(job.request_id, len(job.tests), exc)

    async def ScoreStream(
        self, request_iterator: AsyncIterator[pb.ScoreRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ScoreResponse]:
        out: asyncio.Queue[pb.ScoreResponse | None] = asyncio.Queue()
        slots = asyncio.Semaphore(self.settings.stream_inflight)
        tasks: set[asyncio.Task[None]] = set()
        client = _client(context)
        owner = f"{client}/stream:{next(self._streams)}"  # sandboxes are shared fairly between streams

        async def one(req: pb.ScoreRequest) -> None:
            self.metrics.inflight.inc()
            try:
                out.put_nowait(await self._answer(req, owner))
            finally:
                self.metrics.inflight.dec()
                self.admission.leave(client)
                slots.release()

        async def read() -> None:
            try:
                async for req in request_iterator:
                    await slots.acquire()
                    await self.admission.enter(client)  # back-pressure: the stream's client has its share
                    task = asyncio.get_running_loop().create_task(one(req))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                while tasks:
                    await asyncio.gather(*list(tasks), return_exceptions=True)
            finally:
                out.put_nowait(None)

        reader = asyncio.get_running_loop().create_task(read())
        try:
            while True:
                item = await out.get()
                if item is None:
                    break
                yield item
            await reader
        finally:
            reader.cancel()
            for task in list(tasks):
                task.cancel()

    async def ListRuntimes(
        self, request: pb.ListRuntimesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRuntimesResponse:
        defaults = convert.limits_to_proto(self.settings.limits.defaults())
        caps = convert.limits_to_proto(self.settings.limits.caps())
        runtimes = []
        for name, spec in self.specs.items():
            if name not in self.scorer.pools:
                continue
            runtimes.append(
                pb.RuntimeInfo(
                    name=name,
                    display_name=spec.display_name,
                    version=self.scorer.pools[name].version,
                    image=self.settings.image_name(name),
                    image_digest=self.scorer.digests.get(name, ""),
                    test_kinds=list(spec.test_kinds),
                    default_limits=defaults,
                    max_limits=caps,
                )
            )
        return pb.ListRuntimesResponse(runtimes=runtimes)

    async def RegisterTests(
        self, request: pb.RegisterTestsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterTestsResponse:
        try:
            size = request.ByteSize()
            if size > self.settings.max_request_bytes:
                raise InvalidRequest(
                    "request", f"is {size} bytes; at most {self.settings.max_request_bytes} are allowed"
                )
            if not request.tests:
                raise InvalidRequest("tests", "at least one test is required")
            checker = request.checker if request.HasField("checker") else None
            interactor = request.interactor if request.HasField("interactor") else None
            problem = convert.convert_problem(request.tests, checker, interactor, self.settings)
            ref = tests_digest(request.tests, checker, interactor)
            if self.store.get(ref) is None and (problem.checker or problem.interactor):
                # the judges are built now and the checker must accept every expected answer
                await self.scorer.check_problem(problem, owner=_client(context))
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except SandboxFault as exc:  # ours: the judges could not be built or checked now
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"the problem's judges could not be checked, retry: {exc}")
        self.store.put(ref, problem, size)
        return pb.RegisterTestsResponse(tests_ref=ref)

    # -- Run and sessions (docs/SESSIONS.md) ----------------------------------------
    async def Run(self, request: pb.RunRequest, context: grpc.aio.ServicerContext) -> pb.RunResponse:
        client = await self._admit(context)
        try:
            if self.oneshot is None:
                raise InvalidRequest("request", "this server does not serve Run")
            job = sessions.convert_run(request, self.settings, self.scorer.pools)
            return sessions.run_response(await self.oneshot.run(job, owner=client))
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Exception as exc:  # ours, unexpected: SANDBOX_ERROR, never UNKNOWN
            log.exception("run failed inside rlce", extra={"request_id": request.request_id})
            return pb.RunResponse(
                request_id=request.request_id, verdict=pb.SANDBOX_ERROR, error=f"internal error, retry later: {exc!r}"
            )
        finally:
            self.metrics.inflight.dec()
            self.admission.leave(client)
        raise AssertionError("unreachable")

    def _manager(self) -> SessionManager:
        if self.sessions is None:
            raise InvalidRequest("language", "this server serves no sessions")
        return self.sessions

    async def _session_call(self, context: grpc.aio.ServicerContext, call: Any) -> Any:
        """A session operation, its failures as gRPC status codes (the server serving on regardless)."""
        try:
            return await call()
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except SessionNotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except SessionsExhausted as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except SandboxFault as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"sandbox failure, retry: {exc}")
        except Exception as exc:
            log.exception("session operation failed inside rlce")
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"internal error, retry: {exc!r}")
        raise AssertionError("unreachable")

    async def OpenSession(self, request: pb.OpenSessionRequest, context: grpc.aio.ServicerContext) -> pb.SessionInfo:
        async def call() -> pb.SessionInfo:
            manager = self._manager()
            job = sessions.convert_open(request, self.settings, manager.pools)
            opened = await manager.open(job.language, job.limits, job.idle_timeout_s, job.files)
            return pb.SessionInfo(session_id=opened.id, language=opened.language)

        result: pb.SessionInfo = await self._session_call(context, call)
        return result

    async def Exec(self, request: pb.ExecRequest, context: grpc.aio.ServicerContext) -> pb.ExecResponse:
        async def call() -> pb.ExecResponse:
            manager = self._manager()
            job = sessions.convert_exec(request, self.settings)
            done = await manager.exec(job.session_id, job.code, job.stdin, job.files, job.fetch, job.time_limit_s)
            return sessions.exec_response(job.session_id, done)

        result: pb.ExecResponse = await self._session_call(context, call)
        return result

    async def ForkSession(self, request: pb.ForkSessionRequest, context: grpc.aio.ServicerContext) -> pb.SessionInfo:
        async def call() -> pb.SessionInfo:
            forked = await self._manager().fork(sessions.session_id(request.session_id))
            return pb.SessionInfo(session_id=forked.id, language=forked.language)

        result: pb.SessionInfo = await self._session_call(context, call)
        return result

    async def CloseSession(
        self, request: pb.CloseSessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CloseSessionResponse:
        async def call() -> pb.CloseSessionResponse:
            sid = sessions.session_id(request.session_id)
            await self._manager().close(sid)
            return pb.CloseSessionResponse(session_id=sid)

        result: pb.CloseSessionResponse = await self._session_call(context, call)
        return result
