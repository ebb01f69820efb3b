"""Strict value codec shared by the sandbox and the trusted side.

Why a codec of our own and not pickle or repr: a value that crosses from the
candidate's process must be *data*, never behaviour. Only exact built-in types
are encoded (``type(v) is int``, never a subclass), so an object whose
``__eq__`` always returns True, or an ``int`` subclass that lies, cannot be
carried across. The decoder is strict about shape, depth and size, and never
evaluates anything.

Wire form is a JSON tree:

* ``null``, ``true``/``false``, integers, finite floats, strings: as JSON
* list: JSON array
* tuple / set / frozenset / dict / bytes / non-finite float: a one-key object
  ``{"$tuple": [...]}``, ``{"$set": [...]}``, ``{"$frozenset": [...]}``,
  ``{"$dict": [[k, v], ...]}``, ``{"$bytes": "<base64>"}``, ``{"$float": "nan"}``
* a few exact stdlib value types, rebuilt by the decoder's own classes:
  ``{"$complex": [re, im]}``, ``{"$Counter": pairs}``, ``{"$OrderedDict": pairs}``,
  ``{"$defaultdict": [factory, pairs]}``, ``{"$deque": [...]}``,
  ``{"$Decimal": "1.5"}``, ``{"$Fraction": [num, den]}``, and builtin types
  themselves as ``{"$type": "int"}``
* an opaque object kept in the candidate's process: ``{"$ref": <int>}``
  (only where the caller allows handles)

stdlib only: this module is copied into the sandbox images.
"""

from __future__ import annotations

import base64
import collections
import decimal
import fractions
import json
import math
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_BYTES = 16 * 1024 * 1024

_BUILTIN_TYPES: dict[str, Any] = {
    t.__name__: t
    for t in (int, float, complex, str, bytes, bool, list, tuple, dict, set, frozenset, type(None), object)
}
_PAIR_TYPES: dict[str, Any] = {"$Counter": collections.Counter, "$OrderedDict": collections.OrderedDict}
# Distinct keys of one hash value a set or dict may hold. Python's int and float hashes are not
# randomised (k * (2**61 - 1) all hash to 0), so keys chosen to collide make building the
# container quadratic: 40,000 of them held the host's GIL for seconds. Honest keys almost never
# share a hash at all.
MAX_SAME_HASH = 16
_STD_TAGS = frozenset({"$complex", "$type", "$defaultdict", "$deque", "$Decimal", "$Fraction", *_PAIR_TYPES})
_TAGS = frozenset({"$tuple", "$set", "$frozenset", "$dict", "$bytes", "$float", "$ref", *_STD_TAGS})


class CodecError(ValueError):
    """A value that is not a plain, bounded built-in value."""


def _check_hashes(keys: list[Any], tag: str) -> None:
    """Refuse keys whose hashes collide on purpose, before any set or dict is built of them.

    Every call of the value channel decodes through here, so the common case is one C-level
    pass: a set of the keys' hash values (small ints, which spread). Only when that shows at
    least ``MAX_SAME_HASH`` repeats (one hash value held by more than ``MAX_SAME_HASH`` keys
    needs that many) are the keys counted per hash value."""
    if len(keys) <= MAX_SAME_HASH:
        return
    if len(keys) - len(set(map(hash, keys))) < MAX_SAME_HASH:  # (TypeError if unhashable: "malformed")
        return
    seen: dict[int, int] = {}
    for key in keys:
        h = hash(key)
        n = seen.get(h, 0) + 1
        if n > MAX_SAME_HASH:
            raise CodecError(f"{tag} with more than {MAX_SAME_HASH} keys of one hash value")
        seen[h] = n


class _Budget:
    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes = 0

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise CodecError(f"value has more than {MAX_NODES} elements")


def _plain_scalar(v: Any) -> bool:
    """None, a bool, str, int or finite float: encoded and decoded as itself, no walk needed."""
    t = type(v)
    return v is None or t is bool or t is str or t is int or (t is float and math.isfinite(v))


def encode(
    value: Any,
    *,
    allow_nonfinite: bool = True,
    make_ref: Callable[[Any], int] | None = None,
) -> Any:
    """Turn a value into a JSON-able tree; raise CodecError on anything else.

    ``make_ref`` lets the program server hand out handles for objects that are
    not plain values (instances of the program's own classes).
    """
    if _plain_scalar(value):
        return value  # as ``enc`` below returns it: the common case of a call's arguments and result
    budget = _Budget()

    def enc(v: Any, depth: int) -> Any:
        budget.tick()
        if depth > MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH}")
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v
        if t is float:
            if math.isfinite(v):
                return v
            if not allow_nonfinite:
                raise CodecError("NaN and Infinity are not allowed")
            return {"$float": repr(v)}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"$tuple": [enc(x, depth + 1) for x in v]}
        if t is dict:
            return {"$dict": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if t is set or t is frozenset:
            tag = "$set" if t is set else "$frozenset"
            return {tag: [enc(x, depth + 1) for x in v]}
        if t is bytes:
            return {"$bytes": base64.b64encode(v).decode("ascii")}
        return enc_std(v, t, depth)

    def pairs(v: Any, depth: int) -> list[Any]:
        return [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]

    def enc_std(v: Any, t: type, depth: int) -> Any:
        if t is complex:
            return {"$complex": [enc(v.real, depth + 1), enc(v.imag, depth + 1)]}
        name = getattr(v, "__name__", "") if t is type else ""
        if name and _BUILTIN_TYPES.get(name) is v:
            return {"$type": name}
        if t is collections.Counter:
            return {"$Counter": pairs(v, depth)}
        if t is collections.OrderedDict:
            return {"$OrderedDict": pairs(v, depth)}
        if t is collections.defaultdict:
            factory = v.default_factory
            known = _BUILTIN_TYPES.get(getattr(factory, "__name__", "")) is factory
            return {"$defaultdict": [getattr(factory, "__name__", None) if known else None, pairs(v, depth)]}
        if t is collections.deque:
            return {"$deque": [enc(x, depth + 1) for x in v]}
        if t is decimal.Decimal:
            return {"$Decimal": str(v)}
        if t is fractions.Fraction:
            return {"$Fraction": [v.numerator, v.denominator]}
        if make_ref is not None:
            return {"$ref": make_ref(v)}
        raise CodecError(f"type {t.__name__!r} is not a plain built-in value")

    return enc(value, 0)


# Made once: ``json.dumps``/``json.loads`` with arguments build a new encoder
# (decoder) per call, and the value channel calls them several times per call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def dumps(tree: Any) -> bytes:
    """Serialise an encoded tree (no NaN literals: they are tagged)."""
    data = _ENCODER.encode(tree)
    raw = data.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        raise CodecError(f"value is larger than {MAX_BYTES} bytes when encoded")
    return raw


def _reject_constant(name: str) -> Any:
    raise CodecError(f"bare {name} is not allowed in a value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(raw: bytes) -> Any:
    """Parse an encoded tree from untrusted bytes (shape checked by decode)."""
    if len(raw) > MAX_BYTES:
        raise CodecError(f"value is larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8", "surrogatepass")
        return _DECODER.decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CodecError(f"malformed value: {exc}") from None
    except ValueError as exc:  # e.g. int digits limit
        raise CodecError(f"malformed value: {exc}") from None


def decode(
    tree: Any,
    *,
    allow_nonfinite: bool = True,
    make_proxy: Callable[[int], Any] | None = None,
) -> Any:
    """Rebuild plain values from a tree, checking every node's shape."""
    if _plain_scalar(tree):
        return tree  # as ``dec`` below returns it
    budget = _Budget()

    def dec(node: Any, depth: int) -> Any:
        budget.tick()
        if depth > MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH}")
        t = type(node)
        if node is None or t is bool or t is str or t is int:
            return node
        if t is float:
            if not math.isfinite(node):
                raise CodecError("untagged non-finite float")
            return node
        if t is list:
            return [dec(x, depth + 1) for x in node]
        if t is not dict or len(node) != 1:
            raise CodecError("malformed value node")
        ((tag, body),) = node.items()
        if tag not in _TAGS:
            raise CodecError(f"unknown value tag {tag!r}")
        if tag == "$float":
            if not allow_nonfinite:
                raise CodecError("NaN and Infinity are not allowed")
            if body not in ("nan", "inf", "-inf"):
                raise CodecError("malformed float tag")
            return float(body)
        if tag == "$bytes":
            if type(body) is not str:
                raise CodecError("malformed bytes tag")
            try:
                return base64.b64decode(body, validate=True)
            except ValueError:
                raise CodecError("malformed base64 in bytes tag") from None
        if tag in _STD_TAGS:
            return dec_std(tag, body, depth)
        if tag == "$ref":
            if make_proxy is None:
                raise CodecError("an opaque object is not a plain value")
            if type(body) is not int:
                raise CodecError("malformed ref tag")
            return make_proxy(body)
        if type(body) is not list:
            raise CodecError(f"malformed {tag} tag")
        items = [dec(x, depth + 1) for x in body] if tag != "$dict" else None
        try:
            if tag == "$tuple":
                return tuple(items or ())
            if tag in ("$set", "$frozenset"):
                _check_hashes(items or [], tag)
                return (set if tag == "$set" else frozenset)(items or ())
            out = {}
            keys = []
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise CodecError("malformed dict entry")
                keys.append(dec(pair[0], depth + 1))
            _check_hashes(keys, tag)  # (before the dict is built: that is what collisions make slow)
            for key, pair in zip(keys, body):
                out[key] = dec(pair[1], depth + 1)
            return out
        except TypeError as exc:  # unhashable member
            raise CodecError(f"malformed {tag}: {exc}") from None

    def dec_pairs(body: Any, depth: int) -> list[tuple[Any, Any]]:
        if type(body) is not list:
            raise CodecError("malformed pairs")
        out = []
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise CodecError("malformed pair")
            out.append((dec(pair[0], depth + 1), dec(pair[1], depth + 1)))
        _check_hashes([k for k, _ in out], "pairs")
        return out

    def dec_std(tag: str, body: Any, depth: int) -> Any:
        try:
            if tag == "$complex":
                if type(body) is not list or len(body) != 2:
                    raise CodecError("malformed complex")
                re_, im = dec(body[0], depth + 1), dec(body[1], depth + 1)
                if type(re_) is not float or type(im) is not float:
                    raise CodecError("malformed complex")
                return complex(re_, im)
            if tag == "$type":
                if type(body) is not str or body not in _BUILTIN_TYPES:
                    raise CodecError("only builtin types can be sent")
                return _BUILTIN_TYPES[body]
            if tag in _PAIR_TYPES:
                return _PAIR_TYPES[tag](dict(dec_pairs(body, depth)))
            if tag == "$defaultdict":
                if type(body) is not list or len(body) != 2:
                    raise CodecError("malformed defaultdict")
                if body[0] is not None and body[0] not in _BUILTIN_TYPES:
                    raise CodecError("defaultdict factory must be a builtin type")
                factory = _BUILTIN_TYPES[body[0]] if body[0] is not None else None
                return collections.defaultdict(factory, dec_pairs(body[1], depth))
            if tag == "$deque":
                if type(body) is not list:
                    raise CodecError("malformed deque")
                return collections.deque(dec(x, depth + 1) for x in body)
            if tag == "$Decimal":
                if type(body) is not str or len(body) > 10_000:
                    raise CodecError("malformed Decimal")
                return decimal.Decimal(body)
            if type(body) is not list or len(body) != 2 or any(type(x) is not int for x in body) or body[1] == 0:
                raise CodecError("malformed Fraction")
            return fractions.Fraction(body[0], body[1])
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise CodecError(f"malformed {tag}: {exc}") from None

    return dec(tree, 0)
