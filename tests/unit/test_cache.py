"""Result cache logic: keys, LRU by bytes, coalescing, failures not shared."""

import asyncio
import dataclasses

import pytest
from prometheus_client import CollectorRegistry

from rlce_server.domain import Job, JudgeSpec, Limits, RewardMode, StdioSpec, TestCase
from rlce_server.metrics import Metrics
from rlce_server.scheduling.cache import NOT_KEYED, ResultCache, cache_key

LIMITS = Limits(
    time_limit_s=1.0, wall_time_limit_s=3.0, memory_limit_mb=64, output_limit_bytes=1024, total_time_limit_s=5.0
)


def job(program="print(1)", stdin=b"", expected=b"1\n", **kw):
    tests = (TestCase("t", 1.0, StdioSpec(stdin, expected)),)
    return Job("r1", "python", program, tests, LIMITS, **kw)


def new_cache(max_bytes=1000, shared=None):
    metrics = Metrics(CollectorRegistry())
    return ResultCache(max_bytes, metrics, shared), metrics


def test_key_covers_everything_that_decides_the_answer_and_not_the_request_id():
    base = cache_key(job(), "sha256:a")
    assert cache_key(dataclasses.replace(job(), request_id="other"), "sha256:a") == base
    different = [
        cache_key(job(), "sha256:b"),
        cache_key(job(program="print(2)"), "sha256:a"),
        cache_key(job(stdin=b"x"), "sha256:a"),
        cache_key(job(expected=b"2\n"), "sha256:a"),
        cache_key(
            dataclasses.replace(
                job(),
                limits=Limits(
                    time_limit_s=2.0,
                    wall_time_limit_s=3.0,
                    memory_limit_mb=64,
                    output_limit_bytes=1024,
                    total_time_limit_s=5.0,
                ),
            ),
            "sha256:a",
        ),
        cache_key(job(reward_mode=RewardMode.ALL_OR_NOTHING), "sha256:a"),
        cache_key(job(stop_on_first_failure=True), "sha256:a"),
        cache_key(dataclasses.replace(job(), language="cpp"), "sha256:a"),
    ]
    assert base not in different and len(set(different)) == len(different)


def judge(source="import sys\nsys.exit(0)\n", language="python", points_max=1.0):
    return JudgeSpec(language, source, (), LIMITS, points_max)


def test_the_problems_judges_are_in_the_key():
    """A wrong program accepted under a lenient checker must not be answered from the
    cache when a strict checker (or none) judges it, nor one interactor's for another's."""
    keys = [
        cache_key(job(), "i"),
        cache_key(job(checker=judge()), "i"),
        cache_key(job(checker=judge("import sys\nsys.exit(1)\n")), "i"),
        cache_key(job(checker=judge(language="cpp")), "i"),
        cache_key(job(checker=judge(points_max=2.0)), "i"),
        cache_key(job(interactor=judge()), "i"),
        cache_key(job(interactor=judge("print(1)\n")), "i"),
        cache_key(job(checker=dataclasses.replace(judge(), files=(("a.txt", b"1"),))), "i"),
    ]
    assert len(set(keys)) == len(keys)


def test_every_field_of_a_job_but_the_request_id_and_no_cache_is_in_the_key():
    """Keyed by construction: a field added to Job later changes the key without a list to update."""
    assert {"request_id", "no_cache"} == NOT_KEYED
    base = job()
    other = {
        "language": "cpp",
        "program": "print(2)",
        "tests": (TestCase("u", 1.0, StdioSpec(b"", b"1\n")),),
        "limits": dataclasses.replace(LIMITS, memory_limit_mb=65),
        "reward_mode": RewardMode.ALL_OR_NOTHING,
        "stop_on_first_failure": True,
        "checker": judge(),
        "interactor": judge(),
    }
    for f in dataclasses.fields(Job):
        if f.name in NOT_KEYED:
            assert cache_key(dataclasses.replace(base, **{f.name: "x" if f.name == "request_id" else True}), "i") == (
                cache_key(base, "i")
            )
            continue
        assert f.name in other, f"a new Job field {f.name!r}: add a differing value here"
        assert cache_key(dataclasses.replace(base, **{f.name: other[f.name]}), "i") != cache_key(base, "i"), f.name


def test_hit_after_miss_and_lru_eviction_by_bytes():
    async def go():
        cache, metrics = new_cache(max_bytes=250)
        runs = []

        def runner(value):
            async def run():
                runs.append(value)
                return value, True

            return run

        assert await cache.get_or_run("a", "python", runner(b"A" * 100)) == (b"A" * 100, False)
        assert await cache.get_or_run("a", "python", runner(b"X")) == (b"A" * 100, True)
        await cache.get_or_run("b", "python", runner(b"B" * 100))
        await cache.get_or_run("a", "python", runner(b"X"))  # a is now the most recent
        await cache.get_or_run("c", "python", runner(b"C" * 100))  # evicts b
        assert cache.bytes <= 250
        assert await cache.get_or_run("a", "python", runner(b"X")) == (b"A" * 100, True)
        assert await cache.get_or_run("b", "python", runner(b"B2")) == (b"B2", False)
        assert runs == [b"A" * 100, b"B" * 100, b"C" * 100, b"B2"]
        assert metrics.cache_hits.labels("python", "local")._value.get() == 3

    asyncio.run(go())


def test_identical_requests_in_flight_run_once():
    async def go():
        cache, metrics = new_cache()
        started = 0
        gate = asyncio.Event()

        async def run():
            nonlocal started
            started += 1
            await gate.wait()
            return b"answer", True

        waiters = [asyncio.create_task(cache.get_or_run("k", "python", run)) for _ in range(5)]
        await asyncio.sleep(0.01)
        gate.set()
        got = await asyncio.gather(*waiters)
        assert started == 1
        assert sorted(cached for _, cached in got) == [False, True, True, True, True]
        assert metrics.cache_hits.labels("python", "coalesced")._value.get() == 4

    asyncio.run(go())


def test_uncacheable_answers_are_neither_kept_nor_shared():
    async def go():
        cache, _ = new_cache()
        gate = asyncio.Event()
        runs = 0

        async def run():
            nonlocal runs
            runs += 1
            await gate.wait()
            return b"sandbox error", False

        first = asyncio.create_task(cache.get_or_run("k", "python", run))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(cache.get_or_run("k", "python", run))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(first, second)
        assert runs == 2, "a follower of a failed run runs on its own"
        await cache.get_or_run("k", "python", run)
        assert runs == 3 and cache.bytes == 0

    asyncio.run(go())


def test_leader_cancelled_follower_still_answered():
    async def go():
        cache, _ = new_cache()
        gate = asyncio.Event()

        async def run():
            await gate.wait()
            return b"v", True

        leader = asyncio.create_task(cache.get_or_run("k", "python", run))
        await asyncio.sleep(0.01)
        follower = asyncio.create_task(cache.get_or_run("k", "python", run))
        await asyncio.sleep(0.01)
        leader.cancel()
        gate.set()
        assert await follower == (b"v", True)
        with pytest.raises(asyncio.CancelledError):
            await leader

    asyncio.run(go())


def test_shared_store_failure_is_a_miss():
    class Broken:
        async def get(self, key):
            raise ConnectionError("redis is down")

        async def set(self, key, value):
            raise ConnectionError("redis is down")

        async def close(self):
            pass

    async def go():
        cache, metrics = new_cache(shared=Broken())

        async def run():
            return b"v", True

        assert await cache.get_or_run("k", "python", run) == (b"v", False)
        assert metrics.cache_errors._value.get() == 2

    asyncio.run(go())
