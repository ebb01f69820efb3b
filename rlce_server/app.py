"""Composition root: build every part from Settings, start and stop in order.

Start: engine reachable -> leftovers of dead servers removed -> pools warm ->
each runtime's self-test ACCEPTED -> health SERVING. Stop: health
NOT_SERVING -> in-flight work drains within the grace period -> every
container this server made is removed.

Access (``settings.access``): the auth interceptor before the metrics one,
TLS on the gRPC and metrics ports, the shared cache tier signed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from ._proto.rlce.v1 import scorer_pb2_grpc as pb_grpc
from .api.auth import AuthInterceptor
from .api.interceptor import MetricsInterceptor
from .api.metrics_http import start_metrics_server
from .api.servicer import ScorerServicer
from .config import Settings
from .domain import AssertSpec, CallSpec, Job, OutputMatch, StdioSpec, TestCase, Verdict
from .errors import SandboxFault
from .metrics import Metrics
from .runtimes import RuntimeSpec, load_runtimes
from .sandbox.backend import Backend
from .scheduling.cache import RedisStore, ResultCache, SharedStore, SignedStore
from .scheduling.oneshot import OneShot
from .scheduling.pool import Pool
from .scheduling.scorer import Scorer
from .service import SERVICE_NAME
from .sessions import SessionManager

log = logging.getLogger("rlce.app")


def selftest_jobs(spec: RuntimeSpec, settings: Settings) -> list[Job]:
    """The runtime's self-tests as jobs: one per program file they use."""
    limits = settings.limits.defaults()
    by_program: dict[str, list[TestCase]] = {}
    for i, t in enumerate(spec.selftest_tests):
        if t.kind == "stdio":
            s: Any = StdioSpec(t.stdin.encode(), t.expected_stdout.encode(), match=OutputMatch.EXACT)
        elif t.kind == "call":
            s = CallSpec(entry_point=t.entry_point, args_json=t.args_json, expected_json=t.expected_json)
        else:
            s = AssertSpec(code=t.code)
        by_program.setdefault(t.program or spec.selftest, []).append(TestCase(name=f"selftest-{i}", weight=1.0, spec=s))
    return [
        Job(
            request_id=f"selftest-{spec.name}-{n}",
            language=spec.name,
            program=(spec.folder / program).read_text(),
            tests=tuple(tests),
            limits=limits,
        )
        for n, (program, tests) in enumerate(by_program.items())
    ]


def _reader(pool: Pool, attr: str) -> Callable[[], int]:
    def read() -> int:
        value: int = getattr(pool, attr)
        return value

    return read


class App:
    def __init__(
        self, settings: Settings, backend: Backend | None = None, registry: CollectorRegistry | None = None
    ) -> None:
        self.settings = settings
        all_specs = load_runtimes(settings.images_dir)
        missing = [r for r in settings.runtimes if r not in all_specs]
        if missing:
            raise ValueError(f"unknown runtimes {missing}; known: {sorted(all_specs)}")
        self.specs = {name: all_specs[name] for name in settings.runtimes}
        self.registry = registry or CollectorRegistry()
        self.metrics = Metrics(self.registry)
        if backend is None:
            from .sandbox.docker_backend import DockerBackend

            backend = DockerBackend(settings, self.specs)
        self.backend = backend
        self.pools = {
            name: Pool(backend, name, settings.workers, settings.recycle_after_jobs, self.metrics)
            for name in self.specs
        }
        for name, pool in self.pools.items():
            self.metrics.watch_pool(name, _reader(pool, "live"), _reader(pool, "busy"))
        self.digests: dict[str, str] = {}
        selftests = {name: selftest_jobs(spec, settings)[0] for name, spec in self.specs.items()}
        self.scorer = Scorer(settings, self.pools, self.digests, self.metrics, self.specs, selftests)
        self.oneshot = OneShot(
            self.pools,
            self.specs,
            self.metrics,
            settings.runner_reply_margin_s,
            settings.fetch_max_bytes,
            fresh_sandbox_each=settings.isolation == "container",
        )
        # live sessions: Python (the runtimes whose programs fork from a zygote), in sandboxes of their own
        live = [name for name, spec in self.specs.items() if spec.executor == "python-fork"]
        self.sessions = SessionManager(settings, backend, live, self.metrics)
        self.cache: ResultCache | None = None
        if settings.cache_max_bytes > 0:
            shared: SharedStore | None = None
            if settings.cache_redis_url:
                assert settings.cache_hmac_key is not None  # Settings refuses Redis without a key
                redis = RedisStore(settings.cache_redis_url, settings.cache_ttl_s)
                shared = SignedStore(redis, settings.cache_hmac_key, self.metrics.cache_rejected.inc)
            self.cache = ResultCache(settings.cache_max_bytes, self.metrics, shared)
        self.health = health.aio.HealthServicer()
        self.server: grpc.aio.Server | None = None
        self.port = 0
        self.metrics_port = 0
        self._metrics_server: Any = None
        self._watcher: asyncio.Task[None] | None = None
        self.serving = False

    async def start(self) -> None:
        s = self.settings
        await self.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        removed = await self.backend.remove_leftovers(own=False)
        if removed:
            log.info("removed %d containers left by earlier servers", removed)
        for name in self.specs:
            self.digests[name] = await asyncio.to_thread(self.backend.image_digest, name)
        access = s.access
        interceptors: list[grpc.aio.ServerInterceptor] = [MetricsInterceptor(self.metrics)]
        if not access.open:
            interceptors.insert(0, AuthInterceptor(access, self.metrics.unauthenticated.labels("grpc").inc))
        self.server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", 2 * s.max_request_bytes),
                ("grpc.max_send_message_length", 256 << 20),
                ("grpc.so_reuseport", 0),
            ],
        )
        servicer = ScorerServicer(s, self.scorer, self.specs, self.metrics, self.cache, self.oneshot, self.sessions)
        pb_grpc.add_ScorerServicer_to_server(servicer, self.server)  # type: ignore[no-untyped-call]
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection([SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server)
        credentials = access.grpc_credentials()
        address = f"{s.host}:{s.port}"
        if credentials is None:
            self.port = self.server.add_insecure_port(address)
        else:
            self.port = self.server.add_secure_port(address, credentials)
        if self.port == 0:
            raise OSError(f"cannot listen on {s.host}:{s.port}")
        access.warn_if_exposed(s.host, "the gRPC and metrics ports")
        await self.server.start()
        if s.metrics_port:
            refused = self.metrics.unauthenticated.labels("metrics").inc
            self._metrics_server = start_metrics_server(s.host, s.metrics_port, self.registry, access, refused)
            self.metrics_port = self._metrics_server.server_port
        await asyncio.gather(*(pool.start() for pool in self.pools.values()))
        await self.sessions.start()
        jobs = [job for spec in self.specs.values() for job in selftest_jobs(spec, s)]
        results = await asyncio.gather(*(self.scorer.score(job) for job in jobs))
        for job, result in zip(jobs, results):
            if result.verdict is not Verdict.ACCEPTED:
                details = [(t.name, t.verdict.name, t.message) for t in result.tests]
                raise SandboxFault(
                    f"self-test of {job.language} failed: {result.verdict.name} {result.error} {details}"
                )
        await self._set_health(True)
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        guard = ("TLS" if access.tls else "plaintext") + (", open" if access.open else f", {len(access.tokens)} tokens")
        runtimes = ", ".join(self.specs)
        log.info("serving on %s:%d (%s; %d workers per runtime: %s)", s.host, self.port, guard, s.workers, runtimes)

    async def _set_health(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        self.serving = serving
        await self.health.set("", status)
        await self.health.set(SERVICE_NAME, status)

    async def _watch(self) -> None:
        """NOT_SERVING while the engine does not answer or a pool has no live
        sandbox; SERVING again once the pools have refilled."""
        engine_was_ok = True
        while True:
            await asyncio.sleep(self.settings.health_check_interval_s)
            try:
                await asyncio.to_thread(self.backend.ping)
                engine_ok = True
            except Exception as exc:
                engine_ok = False
                for pool in self.pools.values():
                    pool.last_error = pool.last_error or str(exc)
            for pool in self.pools.values():
                pool.engine_down = not engine_ok
            if engine_ok and not engine_was_ok:
                log.warning("the engine answers again: rebuilding the pools")
                for pool in self.pools.values():
                    pool.rebuild()
            engine_was_ok = engine_ok
            # a sandbox being replaced leaves a pool empty for a moment: that is no outage
            healthy = engine_ok and not any(pool.starved for pool in self.pools.values())
            if healthy != self.serving:
                log.warning("health -> %s", "SERVING" if healthy else "NOT_SERVING")
                await self._set_health(healthy)

    async def stop(self, grace_s: float | None = None) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        await self.health.enter_graceful_shutdown()
        if self.server is not None:
            await self.server.stop(self.settings.grace_s if grace_s is None else grace_s)
        await self.sessions.stop()
        for pool in self.pools.values():
            await pool.close()
        await self.backend.remove_leftovers(own=True)
        if self.cache is not None:
            await self.cache.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
            self._metrics_server = None
