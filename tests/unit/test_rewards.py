from rlce_server import rewards
from rlce_server.domain import AssertSpec, RewardMode, TestCase, TestOutcome, Verdict


def cases(*weights):
    return [TestCase(str(i), w, AssertSpec("pass")) for i, w in enumerate(weights)]


def outs(*verdicts):
    return [TestOutcome(str(i), v) for i, v in enumerate(verdicts)]


def test_partial_is_weighted_share():
    t = cases(1.0, 3.0)
    o = outs(Verdict.WRONG_ANSWER, Verdict.ACCEPTED)
    assert rewards.reward(RewardMode.PARTIAL, Verdict.WRONG_ANSWER, t, o) == 0.75


def test_all_or_nothing():
    t = cases(1.0, 1.0)
    assert (
        rewards.reward(RewardMode.ALL_OR_NOTHING, Verdict.WRONG_ANSWER, t, outs(Verdict.ACCEPTED, Verdict.WRONG_ANSWER))
        == 0.0
    )
    assert (
        rewards.reward(RewardMode.ALL_OR_NOTHING, Verdict.ACCEPTED, t, outs(Verdict.ACCEPTED, Verdict.ACCEPTED)) == 1.0
    )


def test_zero_verdicts_give_zero():
    t = cases(1.0)
    for v in (Verdict.COMPILE_ERROR, Verdict.SANDBOX_ERROR, Verdict.INVALID_REQUEST):
        assert rewards.reward(RewardMode.PARTIAL, v, t, outs(Verdict.ACCEPTED)) == 0.0


def test_overall_verdict_is_first_failure():
    assert (
        rewards.overall_verdict(outs(Verdict.ACCEPTED, Verdict.TIME_LIMIT_EXCEEDED, Verdict.WRONG_ANSWER))
        is Verdict.TIME_LIMIT_EXCEEDED
    )
    assert rewards.overall_verdict(outs(Verdict.ACCEPTED)) is Verdict.ACCEPTED
    assert rewards.overall_verdict(outs(Verdict.WRONG_ANSWER, Verdict.SKIPPED)) is Verdict.WRONG_ANSWER
