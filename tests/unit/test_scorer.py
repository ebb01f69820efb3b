"""Scheduler logic with the fake backend: retries, stop-on-failure, limits."""

import asyncio

from prometheus_client import CollectorRegistry

from rlce_server.config import Settings
from rlce_server.domain import Job, Limits, StdioSpec, TestCase, Verdict
from rlce_server.metrics import Metrics
from rlce_server.sandbox.fake import FakeBackend, facts
from rlce_server.scheduling.pool import Pool
from rlce_server.scheduling.scorer import Scorer

LIMITS = Limits(1.0, 1.0, 64, 1024, 5.0)


def job(n=3, stop=False, total=5.0):
    tests = tuple(TestCase(f"t{i}", 1.0, StdioSpec(str(i).encode(), str(i).encode())) for i in range(n))
    return Job("r1", "python", "prog", tests, Limits(1.0, 1.0, 64, 1024, total), stop_on_first_failure=stop)


def echo(msg):
    import base64

    return facts(stdout=base64.b64decode(msg["stdin"]))


def run(backend, the_job, workers=1):
    async def go():
        settings = Settings(workers=workers)
        metrics = Metrics(CollectorRegistry())
        pool = Pool(backend, "python", workers, 100, metrics)
        await pool.start()
        scorer = Scorer(settings, {"python": pool}, {"python": "sha256:fake"}, metrics)
        result = await scorer.score(the_job, admit_or_fail=True)
        await pool.close()
        return result, pool

    return asyncio.run(go())


def test_all_pass():
    result, _ = run(FakeBackend(echo), job())
    assert result.verdict is Verdict.ACCEPTED and result.reward == 1.0 and result.passed == 3


def test_partial_credit_and_stop_on_first_failure():
    def wrong_on_1(msg):
        return facts(stdout=b"x") if msg["stdin"] == "MQ==" else echo(msg)

    result, _ = run(FakeBackend(wrong_on_1), job())
    assert result.verdict is Verdict.WRONG_ANSWER and abs(result.reward - 2 / 3) < 1e-9
    result, _ = run(FakeBackend(wrong_on_1), job(stop=True))
    assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER, Verdict.SKIPPED]
    assert abs(result.reward - 1 / 3) < 1e-9


def test_one_fault_is_retried_on_a_fresh_sandbox():
    backend = FakeBackend(echo, faults=[True])
    result, _ = run(backend, job())
    assert result.verdict is Verdict.ACCEPTED
    assert backend.created[0].destroyed, "the faulty sandbox was not replaced"


def test_persistent_fault_is_sandbox_error_with_zero_reward():
    backend = FakeBackend(echo, faults=[True] * 10)
    result, _ = run(backend, job())
    assert result.verdict is Verdict.SANDBOX_ERROR and result.reward == 0.0 and "retry" in result.error


def test_total_time_limit():
    import time

    def slow(msg):
        time.sleep(0.3)
        return echo(msg)

    result, _ = run(FakeBackend(slow), job(n=4, total=0.5))
    verdicts = [t.verdict for t in result.tests]
    assert verdicts[:2] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert verdicts[2:] == [Verdict.TIME_LIMIT_EXCEEDED] * 2
