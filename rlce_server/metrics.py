"""Prometheus metrics, all on an injected registry (tests build their own).

Names follow ``rlce_<subsystem>_<name>_<unit>``; buckets are explicit.
Pool and queue gauges are read at scrape time from the live objects.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60)
REWARD_BUCKETS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "rlce_api_requests_total", "Requests by RPC and status code", ["rpc", "code"], registry=registry
        )
        self.rpc_latency = Histogram(
            "rlce_api_request_duration_seconds", "RPC latency", ["rpc"], buckets=LATENCY_BUCKETS, registry=registry
        )
        self.inflight = Gauge("rlce_api_inflight_requests", "Requests being served", registry=registry)
        self.verdicts = Counter(
            "rlce_scoring_verdicts_total", "Overall verdicts by language", ["language", "verdict"], registry=registry
        )
        self.test_verdicts = Counter(
            "rlce_scoring_test_verdicts_total",
            "Per-test verdicts by language",
            ["language", "verdict"],
            registry=registry,
        )
        self.rewards = Histogram(
            "rlce_scoring_reward", "Rewards given", ["language"], buckets=REWARD_BUCKETS, registry=registry
        )
        self.queue_wait = Histogram(
            "rlce_queue_wait_seconds",
            "Time a job waited for a sandbox",
            ["language"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.run_duration = Histogram(
            "rlce_scoring_run_duration_seconds",
            "Time a job held a sandbox",
            ["language"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.limit_hits = Counter(
            "rlce_scoring_limit_hits_total", "Tests stopped by a limit", ["language", "limit"], registry=registry
        )
        self.leftovers = Counter(
            "rlce_sandbox_leftovers_removed_total",
            "What programs left behind and rlce removed (daemon processes, files, SysV IPC objects)",
            ["runtime", "kind"],
            registry=registry,
        )
        self.sandbox_starts = Counter(
            "rlce_pool_sandbox_starts_total", "Sandboxes started", ["runtime"], registry=registry
        )
        self.sandbox_recycles = Counter(
            "rlce_pool_sandbox_recycles_total", "Sandboxes replaced", ["runtime", "reason"], registry=registry
        )
        self.sandbox_failures = Counter(
            "rlce_pool_sandbox_failures_total", "Sandbox machinery faults", ["runtime", "stage"], registry=registry
        )
        self.runner_restarts = Counter(
            "rlce_pool_runner_restarts_total",
            "Sandboxes whose runner broke or failed its reset, replaced by a fresh one",
            ["runtime"],
            registry=registry,
        )
        self.hacks = Counter(
            "rlce_sandbox_stopped_total",
            "What the sandbox stopped, by kind (reward hacking showing in training)",
            ["language", "kind"],
            registry=registry,
        )
        self.compile_duration = Histogram(
            "rlce_scoring_compile_duration_seconds",
            "Compile step per job (runtimes with one; Python has none)",
            ["language"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.pool_size = Gauge("rlce_pool_sandboxes", "Live sandboxes", ["runtime", "state"], registry=registry)
        self.queue_depth = Gauge("rlce_queue_depth", "Jobs waiting for a sandbox", registry=registry)
        self.cache_hits = Counter(
            "rlce_cache_hits_total",
            "Answers from the result cache, by tier (local, shared, coalesced)",
            ["language", "tier"],
            registry=registry,
        )
        self.cache_misses = Counter(
            "rlce_cache_misses_total", "Requests the result cache could not answer", ["language"], registry=registry
        )
        self.cache_errors = Counter(
            "rlce_cache_shared_errors_total", "Failed calls to the shared cache (Redis)", registry=registry
        )
        self.cache_bytes = Gauge("rlce_cache_size_bytes", "Bytes held by the local result cache", registry=registry)
        self.cache_entries = Gauge("rlce_cache_entries", "Entries in the local result cache", registry=registry)
        self.cache_rejected = Counter(
            "rlce_cache_shared_rejected_total",
            "Shared-tier entries whose signature did not check (unsigned, forged, moved), taken as misses",
            registry=registry,
        )
        # sessions (docs/SESSIONS.md) and one-shot runs
        self.session_open = Gauge("rlce_session_open", "Live sessions, forks included", ["language"], registry=registry)
        self.session_cells = Counter(
            "rlce_session_cells_total", "Cells run in sessions, by verdict", ["language", "verdict"], registry=registry
        )
        self.session_forks = Counter("rlce_session_forks_total", "Sessions forked", ["language"], registry=registry)
        self.session_ended = Counter(
            "rlce_session_ended_total",
            "Sessions ended, by reason (closed, expired, budget, gone, lost, stopped)",
            ["language", "reason"],
            registry=registry,
        )
        self.session_latency = Histogram(
            "rlce_session_op_duration_seconds",
            "Session operations (open, exec, fork, close) as the server saw them",
            ["language", "op"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.session_sandboxes = Gauge(
            "rlce_session_sandboxes", "Session sandboxes (they never run scoring jobs)", ["runtime"], registry=registry
        )
        self.runs = Counter(
            "rlce_session_runs_total", "One-shot Run requests, by verdict", ["language", "verdict"], registry=registry
        )
        self.unauthenticated = Counter(
            "rlce_api_unauthenticated_requests_total",
            "Requests refused for want of a valid token, by port (grpc, metrics)",
            ["port"],
            registry=registry,
        )

    def watch_pool(self, runtime: str, live: Callable[[], int], busy: Callable[[], int]) -> None:
        self.pool_size.labels(runtime, "live").set_function(live)
        self.pool_size.labels(runtime, "busy").set_function(busy)
        self.pool_size.labels(runtime, "idle").set_function(lambda: max(live() - busy(), 0))

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def watch_cache(self, size: Callable[[], int], entries: Callable[[], int]) -> None:
        self.cache_bytes.set_function(size)
        self.cache_entries.set_function(entries)
