"""Hostile inputs for the store, and a model of what the store must do with each.

The model is the storage contract, written down independently of the store:

* a batch is a list (or tuple) of items; each item is stored as its compact JSON
  document, UTF-8, NaN/Infinity refused; anything JSON cannot hold raises
  ``TypeError``, anything it can type but not store (NaN, lone surrogates, cycles,
  too deep, too big) raises ``ValueError``; a failing batch writes nothing;
* a read returns every stored element that parses as JSON, newest ``limit`` of
  them; a pop removes and returns the newest element that parses, dropping
  unparsable ones on the way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)

TEN_MB = "x" * (10 * 1024 * 1024)
DEFAULT_MAX_ITEM_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024
# The documented deepest nesting an item may have.
MAX_ITEM_DEPTH = 200


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _circular() -> Any:
    loop: list[Any] = []
    loop.append(loop)
    return loop


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**4400, max_value=10**4400 + 1),  # over int->str digit limit
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u2028", "🙂", "{}", '"', "\\"]),
)
non_json = st.one_of(
    st.binary(max_size=20),
    st.frozensets(st.integers(), max_size=3),
    st.sets(st.integers(), max_size=3),
    st.complex_numbers(allow_nan=False),
    st.builds(object),
    st.dictionaries(st.tuples(st.integers()), st.integers(), min_size=1, max_size=2),
    st.builds(_circular),
    # Within and beyond the documented depth limit, and far beyond the recursion limit.
    st.sampled_from([50, 199, 200, 201, 400, 2000, 50_000]).map(_nested),
)
AT_ITEM_LIMIT = {"output": "y" * (DEFAULT_MAX_ITEM_BYTES - 13)}  # JSON exactly 4 MiB
# Megabytes are slow to move: one item in fifty of this branch is big.
sized = st.integers(min_value=0, max_value=49).map(
    lambda n: TEN_MB if n == 0 else AT_ITEM_LIMIT if n == 1 else {"size": "z" * n}
)
json_ish = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(
            st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
            children,
            max_size=4,
        ),
    ),
    max_leaves=8,
)
items = st.one_of(json_ish, json_ish, json_ish, non_json, sized)
batches = st.one_of(
    st.lists(items, max_size=5),
    st.lists(items, max_size=3).map(tuple),
    st.sampled_from([{"role": "user"}, "not a list", b"bytes", None, 42]),
    st.builds(lambda: (x for x in [{"a": 1}])),  # an iterator, not a list
)

# Session ids that are valid but awkward for a key-value store, including pieces
# that name the store's own keys next to the list (old and new layouts).
PIECES = [
    "{", ":", "x", "\n", "\r\n", "*", "?", "[", " ", "\x00", "é", "🙂", "{x}", "/",
    ":batches", ":lastpop", "}", "\xffops",
]  # fmt: skip
BRACED = ["}", "a}b", "}{", "{}", "{{}}", "{a}{b}", "x{y}z", "{x}}", "}}{{", "{:}", "{\n}"]
valid_session_ids = st.one_of(
    st.text(min_size=1, max_size=30),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join),
    st.sampled_from(["a" * 100_000, "::", "\n", *BRACED]),
)
any_session_ids = st.one_of(
    valid_session_ids,
    st.sampled_from(["", "user-\ud800", b"user-1", b"\xff", 42, None, ["a"], "a" * 1_000_000]),
)
limits = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.integers(min_value=-3, max_value=12),
    st.sampled_from([2**63, 2**64, 10**30]),
    st.sampled_from([1.5, "5", b"5", True, False, math.nan, [1]]),
)
option_values = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=5),
    st.integers(min_value=1, max_value=10**30),
    st.sampled_from([1.5, "10", True, math.inf, -1]),
)


@dataclass(frozen=True)
class Add:
    session: int
    batch: Any


@dataclass(frozen=True)
class Get:
    session: int
    limit: Any


@dataclass(frozen=True)
class Pop:
    session: int


@dataclass(frozen=True)
class Clear:
    session: int


@dataclass(frozen=True)
class Corrupt:
    """Elements written behind the store's back: not JSON, not UTF-8, too deep..."""

    session: int
    raws: tuple[bytes, ...]


@dataclass(frozen=True)
class WrongType:
    """The session key holds another Redis type."""

    kind: str


@dataclass(frozen=True)
class Construct:
    session_id: Any
    options: dict[str, Any] = field(default_factory=dict)


raw_elements = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [b"{", b"null", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'"\\ud800"', b"1e999", b"{}"]
    ),
)


def cases(sessions: int) -> st.SearchStrategy[Any]:
    index = st.integers(min_value=0, max_value=sessions - 1)
    return st.one_of(
        st.builds(Add, index, batches),
        st.builds(Add, index, batches),
        st.builds(Get, index, limits),
        st.builds(Pop, index),
        st.builds(Clear, index),
        st.builds(Corrupt, index, st.lists(raw_elements, min_size=1, max_size=3).map(tuple)),
        st.builds(WrongType, st.sampled_from(["string", "hash", "set", "zset"])),
        st.builds(
            Construct,
            any_session_ids,
            st.dictionaries(
                st.sampled_from(["ttl", "max_items", "max_item_bytes", "max_batch_bytes"]),
                option_values,
                max_size=2,
            ),
        ),
    )


def _depth(value: Any) -> int:
    """Nesting depth of lists/objects, level by level (a cycle counts as endless)."""
    depth, level = 0, [value]
    while level and depth <= MAX_ITEM_DEPTH:
        containers = [v for v in level if isinstance(v, (dict, list, tuple))]
        if not containers:
            break
        depth += 1
        level = [c for v in containers for c in (v.values() if isinstance(v, dict) else v)]
    return depth


def expected_batch(batch: Any) -> list[bytes] | type[Exception]:
    """What ``add_items(batch)`` must store (default limits), or the error family."""
    if isinstance(batch, (str, bytes, dict)) or not isinstance(batch, (list, tuple)):
        return TypeError
    encoded: list[bytes] = []
    for item in batch:
        if _depth(item) > MAX_ITEM_DEPTH:
            return ValueError
        try:
            data = _encoder.encode(item).encode("utf-8")
        except TypeError:
            return TypeError
        except (ValueError, RecursionError):
            return ValueError
        if len(data) > DEFAULT_MAX_ITEM_BYTES:
            return ValueError
        encoded.append(data)
    if sum(map(len, encoded)) > DEFAULT_MAX_BATCH_BYTES:
        return ValueError
    return encoded


def parsed(raw: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(raw)
    except (ValueError, RecursionError):
        return False, None


def expected_read(stored: Sequence[bytes], limit: int | None) -> list[Any]:
    valid = [value for ok, value in map(parsed, stored) if ok]
    if limit is None:
        return valid
    return [] if limit <= 0 else valid[-limit:]


def expected_pop(stored: list[bytes]) -> Any:
    """Pop from the model list in place, as the store must."""
    while stored:
        ok, value = parsed(stored.pop())
        if ok:
            return value
    return None
