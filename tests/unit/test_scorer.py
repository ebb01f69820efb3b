"""Scheduler logic with the fake backend: retries, stop-on-failure, limits."""

import asyncio
import dataclasses
from pathlib import Path

from prometheus_client import CollectorRegistry

from rlce_server.config import Settings
from rlce_server.domain import Job, Limits, StdioSpec, TestCase, Verdict
from rlce_server.metrics import Metrics
from rlce_server.runtimes import load_runtimes
from rlce_server.sandbox.fake import FakeBackend, facts
from rlce_server.scheduling.pool import Pool
from rlce_server.scheduling.scorer import Scorer

LIMITS = Limits(
    time_limit_s=1.0, wall_time_limit_s=3.0, memory_limit_mb=64, output_limit_bytes=1024, total_time_limit_s=5.0
)


def job(n=3, stop=False, total=5.0):
    tests = tuple(TestCase(f"t{i}", 1.0, StdioSpec(str(i).encode(), str(i).encode())) for i in range(n))
    return Job(
        "r1",
        "python",
        "prog",
        tests,
        Limits(
            time_limit_s=1.0,
            wall_time_limit_s=3.0,
            memory_limit_mb=64,
            output_limit_bytes=1024,
            total_time_limit_s=total,
        ),
        stop_on_first_failure=stop,
    )


SPECS = load_runtimes(Path(__file__).resolve().parents[2] / "sandbox_images")


def echo(request):
    return facts(stdout=request.stdin)


def run(backend, the_job, workers=1):
    async def go():
        settings = Settings(workers=workers)
        metrics = Metrics(CollectorRegistry())
        pool = Pool(backend, "python", workers, 100, metrics)
        await pool.start()
        scorer = Scorer(settings, {"python": pool}, {"python": "sha256:fake"}, metrics, {"python": SPECS["python"]})
        result = await scorer.score(the_job)
        await pool.close()
        return result, pool

    return asyncio.run(go())


def test_all_pass():
    result, _ = run(FakeBackend(echo), job())
    assert result.verdict is Verdict.ACCEPTED and result.reward == 1.0 and result.passed == 3


def test_partial_credit_and_stop_on_first_failure():
    def wrong_on_1(request):
        return facts(stdout=b"x") if request.stdin == b"1" else echo(request)

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


def test_total_time_limit(monkeypatch):
    """Each test takes 0.3 s of a fake clock; a 0.5 s request runs two, then runs out."""
    from rlce_server.scheduling import scorer as scorer_module

    class Clock:
        now = 1000.0

        @classmethod
        def monotonic(cls):
            return cls.now

    monkeypatch.setattr(scorer_module, "time", Clock)

    def slow(request):
        Clock.now += 0.3
        return dataclasses.replace(echo(request), wall_s=0.3)

    result, _ = run(FakeBackend(slow), job(n=4, total=0.5))
    verdicts = [t.verdict for t in result.tests]
    assert verdicts[:2] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert verdicts[2:] == [Verdict.TIME_LIMIT_EXCEEDED] * 2


def test_a_program_that_breaks_two_sandboxes_is_a_runtime_error_when_a_control_run_works():
    """Defence in depth: SANDBOX_ERROR would be "no reward" to a trainer; a program
    that breaks fresh sandboxes while the same request with the runtime's own
    program works fails instead. When the control breaks too, it is ours."""
    from rlce_server.errors import SandboxFault

    def breaks(request):
        if request.program == "BREAK":
            raise SandboxFault("the runner died")
        return echo(request)

    async def go(selftest_ok: bool):
        settings = Settings(workers=1)
        metrics = Metrics(CollectorRegistry())
        pool = Pool(FakeBackend(breaks), "python", 1, 100, metrics)
        await pool.start()
        selftest = Job("selftest", "python", "ok" if selftest_ok else "BREAK", job().tests, job().limits)
        scorer = Scorer(
            settings, {"python": pool}, {"python": "x"}, metrics, {"python": SPECS["python"]}, {"python": selftest}
        )
        bad = Job("r", "python", "BREAK", job().tests, job().limits)
        result = await scorer.score(bad)
        await pool.close()
        return result, metrics

    result, metrics = asyncio.run(go(selftest_ok=True))
    assert result.verdict is Verdict.RUNTIME_ERROR and result.reward == 0.0
    assert "breaks the sandbox" in result.error and len(result.tests) == 3
    assert metrics.hacks.labels("python", "sandbox_breaking")._value.get() == 1
    result, _ = asyncio.run(go(selftest_ok=False))  # our machinery is down: no reward, retry later
    assert result.verdict is Verdict.SANDBOX_ERROR


def test_many_stdio_tests_share_round_trips():
    """100 passing stdio tests in batches that double: 1+2+4+8+16+32+37, seven round trips."""
    calls = []
    backend = FakeBackend(lambda r: calls.append(r.stdin) or echo(r))
    result, _ = run(backend, job(n=100))
    assert result.verdict is Verdict.ACCEPTED and result.passed == 100
    assert calls == [str(i).encode() for i in range(100)], "each test ran once, in order"
    assert sum(s.runs for s in backend.created) == 7


def test_a_failure_inside_a_batch_wastes_at_most_what_passed_before_it():
    """Wrong output on test 20 (the runner cannot see it): the host stops at 20, and the
    runs after it in the same batch are thrown away, never graded."""
    calls = []

    def wrong_on_20(request):
        calls.append(request.stdin)
        return facts(stdout=b"x") if request.stdin == b"20" else echo(request)

    result, _ = run(FakeBackend(wrong_on_20), job(n=100, stop=True))
    verdicts = [t.verdict for t in result.tests]
    assert verdicts[:20] == [Verdict.ACCEPTED] * 20 and verdicts[20] is Verdict.WRONG_ANSWER
    assert verdicts[21:] == [Verdict.SKIPPED] * 79
    assert len(calls) <= 2 * 21


def test_a_crash_ends_the_batch_in_the_runner_and_the_rest_still_runs_without_stop():
    def crash_on_5(request):
        return facts(exit_code=1) if request.stdin == b"5" else echo(request)

    result, _ = run(FakeBackend(crash_on_5), job(n=12))
    verdicts = [t.verdict for t in result.tests]
    assert verdicts[5] is Verdict.RUNTIME_ERROR and verdicts.count(Verdict.ACCEPTED) == 11
    result, _ = run(FakeBackend(crash_on_5), job(n=12, stop=True))
    assert [t.verdict for t in result.tests][5:] == [Verdict.RUNTIME_ERROR] + [Verdict.SKIPPED] * 6
