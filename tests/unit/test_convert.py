"""Every malformed request names the field and the problem."""

import pytest

from rlce_server.api.convert import convert_request
from rlce_server.client import assertion, call, pb, stdio
from rlce_server.config import Settings
from rlce_server.errors import InvalidRequest

SETTINGS = Settings(max_tests=5, max_program_bytes=1000)
KINDS = {"python": ["stdio", "call", "assertion"]}


def convert(req):
    return convert_request(req, SETTINGS, KINDS, lambda ref: None)


def req(**kw):
    base = {"language": "python", "program": "def f(x): return x", "tests": [call("f", [1], 1)]}
    base.update(kw)
    return pb.ScoreRequest(**base)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (req(language="cobol"), "language"),
        (req(language=""), "language"),
        (req(program="   "), "program"),
        (req(program="x" * 2000), "program"),
        (req(tests=[]), "tests"),
        (req(tests=[pb.TestCase(name="no kind")]), "tests[0].kind"),
        (req(tests=[call("f", [1], 1)] * 6), "tests"),
        (req(tests=[pb.TestCase(call=pb.CallTest(args_json="[1]", expected_json="1"))]), "tests[0].call.entry_point"),
        (
            req(tests=[pb.TestCase(call=pb.CallTest(entry_point="f", args_json="[1", expected_json="1"))]),
            "tests[0].call.args_json",
        ),
        (
            req(tests=[pb.TestCase(call=pb.CallTest(entry_point="f", args_json="{}", expected_json="1"))]),
            "tests[0].call.args_json",
        ),
        (
            req(tests=[pb.TestCase(call=pb.CallTest(entry_point="f", args_json="[]", expected_json="nope"))]),
            "tests[0].call.expected_json",
        ),
        (
            req(tests=[pb.TestCase(call=pb.CallTest(entry_point="f()", args_json="[]", expected_json="1"))]),
            "tests[0].call.entry_point",
        ),
        (req(tests=[assertion("  ")]), "tests[0].assertion.code"),
        (req(tests=[stdio("", "", float_tolerance=-1)]), "tests[0].stdio.float_tolerance"),
        (req(tests=[pb.TestCase(weight=-1, assertion=pb.AssertTest(code="pass"))]), "tests[0].weight"),
        (req(limits=pb.Limits(time_limit_s=10_000)), "limits.time_limit_s"),
        (req(limits=pb.Limits(time_limit_s=-1)), "limits.time_limit_s"),
        (req(limits=pb.Limits(memory_limit_mb=10**6)), "limits.memory_limit_mb"),
        (req(limits=pb.Limits(output_limit_bytes=10**12)), "limits.output_limit_bytes"),
        (req(limits=pb.Limits(total_time_limit_s=float("inf"))), "limits.total_time_limit_s"),
        (req(tests=[pb.TestCase(weight=1e308, stdio=pb.StdioTest())]), "tests[0].weight"),
        (req(tests=[pb.TestCase(weight=float("nan"), stdio=pb.StdioTest())]), "tests[0].weight"),
        # floors: below them a sandboxed process could not even start (never our failure)
        (req(limits=pb.Limits(memory_limit_mb=1)), "limits.memory_limit_mb"),
        (req(limits=pb.Limits(time_limit_s=1e-6)), "limits.time_limit_s"),
        (req(limits=pb.Limits(wall_time_limit_s=10_000)), "limits.wall_time_limit_s"),
        (req(tests_ref="sha256:unknown", tests=[]), "tests_ref"),
        (req(tests_ref="sha256:x"), "tests_ref"),
        (req(policy=pb.ScoringPolicy(reward_mode=77)), "policy.reward_mode"),
    ],
)
def test_bad_input_names_the_field(request_, field):
    with pytest.raises(InvalidRequest) as info:
        convert(request_)
    assert info.value.field == field
    assert str(info.value).startswith(field + ":")


def test_defaults_and_tightening():
    job = convert(req())
    assert job.limits.time_limit_s == SETTINGS.limits.time_limit_s
    assert job.limits.wall_time_limit_s == 2 * SETTINGS.limits.time_limit_s + 1
    job = convert(req(limits=pb.Limits(time_limit_s=0.5, memory_limit_mb=64)))
    assert job.limits.time_limit_s == 0.5 and job.limits.memory_limit_mb == 64
    assert job.limits.wall_time_limit_s == 2.0  # the backstop follows the request's own CPU limit
    # cpu_time_limit_s alone means the same; both set: the tighter; the wall backstop may be set
    assert convert(req(limits=pb.Limits(cpu_time_limit_s=2))).limits.time_limit_s == 2
    assert convert(req(limits=pb.Limits(time_limit_s=3, cpu_time_limit_s=2))).limits.time_limit_s == 2
    assert convert(req(limits=pb.Limits(time_limit_s=1, wall_time_limit_s=9))).limits.wall_time_limit_s == 9
    assert job.request_id  # made when empty
    assert job.tests[0].weight == 1.0
