"""The strict value codec: only exact built-in types cross, shapes are checked."""

import math

import pytest

from rlce_server.sandbox.rlce_runner import codec


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -5,
        2**200,
        1.5,
        "héllo\udcff",
        [1, [2]],
        (1, (2, 3)),
        {1: "a", "b": (2,)},
        {1, 2},
        frozenset({"x"}),
        b"\x00\xff",
        [],
        (),
        {},
    ],
)
def test_round_trip(value):
    assert codec.decode(codec.loads(codec.dumps(codec.encode(value)))) == value


def test_types_survive_round_trip():
    out = codec.decode(codec.loads(codec.dumps(codec.encode([1, 1.0, True, (1,), [1]]))))
    assert [type(x) for x in out] == [int, float, bool, tuple, list]


def test_subclasses_are_rejected():
    class LyingInt(int):
        def __eq__(self, other):
            return True

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for bad in (LyingInt(3), AlwaysEqual(), [AlwaysEqual()], {"k": LyingInt(1)}):
        with pytest.raises(codec.CodecError):
            codec.encode(bad)


def test_nonfinite_floats():
    assert math.isnan(codec.decode(codec.encode(float("nan"))))
    with pytest.raises(codec.CodecError):
        codec.encode(float("nan"), allow_nonfinite=False)
    with pytest.raises(codec.CodecError):
        codec.decode({"$float": "inf"}, allow_nonfinite=False)
    with pytest.raises(codec.CodecError):
        codec.loads(b"NaN")


def test_depth_and_shape_limits():
    deep: list = []
    node = deep
    for _ in range(codec.MAX_DEPTH + 5):
        node.append([])
        node = node[0]
    with pytest.raises(codec.CodecError):
        codec.encode(deep)
    for malformed in ({"a": 1}, {"$tuple": 1}, {"$dict": [[1]]}, {"$bytes": "!!"}, {"$set": [[1]]}, {"$ref": 1}):
        with pytest.raises(codec.CodecError):
            codec.decode(malformed)


def test_refs_only_where_allowed():
    class Thing:
        pass

    objs: list = []

    def make_ref(o):
        objs.append(o)
        return len(objs)

    tree = codec.encode([Thing()], make_ref=make_ref)
    assert tree == [{"$ref": 1}]
    assert codec.decode(tree, make_proxy=lambda n: ("proxy", n)) == [("proxy", 1)]


def test_stdlib_value_types_round_trip_with_exact_types():
    import collections
    import decimal
    import fractions

    values = [
        complex(1, -2),
        collections.Counter("abca"),
        collections.OrderedDict(a=1),
        collections.defaultdict(list, {1: [2]}),
        collections.deque([1, 2]),
        decimal.Decimal("1.10"),
        fractions.Fraction(3, 4),
        int,
        str,
        type(None),
    ]
    for v in values:
        back = codec.decode(codec.loads(codec.dumps(codec.encode(v))))
        assert back == v and type(back) is type(v)
    assert codec.decode(codec.encode(collections.defaultdict(list))).default_factory is list


def test_subclass_of_stdlib_type_is_not_carried():
    import collections

    class Sneaky(collections.Counter):
        def __eq__(self, other):
            return True

    with pytest.raises(codec.CodecError):
        codec.encode(Sneaky())
    with pytest.raises(codec.CodecError):
        codec.decode({"$type": "eval"})


def test_keys_chosen_to_collide_are_refused_before_any_container_is_built():
    """Int hashes are not randomised (k * (2**61 - 1) all hash to 0): 40,000 such keys made
    rebuilding a set or dict quadratic on the trusted side (seconds of the host's GIL)."""
    colliding = [k * (2**61 - 1) for k in range(1, 40_001)]
    for tree in (
        {"$set": colliding},
        {"$frozenset": colliding},
        {"$dict": [[k, 0] for k in colliding]},
        {"$Counter": [[k, 1] for k in colliding]},
        {"$defaultdict": ["int", [[k, 1] for k in colliding]]},
        {"$set": [{"$tuple": [k]} for k in colliding]},  # (colliding members collide their tuples too)
    ):
        with pytest.raises(codec.CodecError, match="one hash value"):
            codec.decode(tree)
    few = colliding[: codec.MAX_SAME_HASH]  # honest values rarely share a hash at all; a few may
    assert codec.decode({"$set": few}) == set(few)
    assert codec.decode({"$set": list(range(100_000))}) == set(range(100_000))
