"""Turning items into stored JSON and back.

Items are encoded *before* any I/O so that a batch with one bad item writes
nothing. Stored form: compact JSON, UTF-8, one document per list element; any JSON
document written by older versions (or by the seed package's ``json.dumps``) reads
back the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from ..errors import ItemTooLargeError
from .stack import on_fresh_stack

__all__ = ["MAX_ITEM_DEPTH", "decode_item", "decode_items", "encode_items", "stored_size"]

# Deepest nesting of lists and objects an item may have. Checked before encoding,
# so whether an item is accepted never depends on how deep the caller's stack is;
# reads and pops decode anything this accepts, from any stack depth (see .stack).
MAX_ITEM_DEPTH = 200

_encoder = json.JSONEncoder(
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    check_circular=True,
)
# The scanner of json.loads's default decoder: decodes one JSON value from an index.
# JSONDecoder sets it in __init__, which typeshed does not declare.
_scanner: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _plain(item: Any) -> Any:
    # Pydantic models (the SDK's own item types) are stored as their JSON form.
    dump = getattr(item, "model_dump", None)
    if callable(dump) and not isinstance(item, dict):
        return dump(mode="json", exclude_unset=True)
    return item


def encode_items(
    items: Sequence[Any],
    *,
    max_item_bytes: int | None = None,
    max_batch_bytes: int | None = None,
) -> list[bytes]:
    """Encode every item or raise naming the first bad one; never a partial result.

    Raises:
        TypeError: ``items`` is not a list/tuple, or an item holds a value JSON
            cannot represent (a set, bytes, an object).
        ValueError: an item holds NaN/Infinity, a circular reference, or a string
            that is not valid Unicode (a lone surrogate).
        ItemTooLargeError: an item or the whole batch is over its byte limit.
    """
    if isinstance(items, (str, bytes, dict)) or not isinstance(items, Sequence):
        raise TypeError(f"items must be a list of session items, got {type(items).__name__}")
    total = len(items)
    encoded: list[bytes] = []
    batch_bytes = 0
    for index, item in enumerate(items):
        plain = _plain(item)
        if _nested_deeper_than(plain, MAX_ITEM_DEPTH):
            raise ValueError(
                f"item {index} of {total} is nested more than {MAX_ITEM_DEPTH} levels deep "
                "(or refers to itself); nothing was written"
            )
        try:
            data = _encode(plain)
        except TypeError as exc:
            raise TypeError(
                f"item {index} of {total} is not JSON-serialisable: {exc}; nothing was written"
            ) from exc
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"item {index} of {total} holds a string that is not valid Unicode "
                f"({exc.reason} at position {exc.start}); nothing was written"
            ) from exc
        except ValueError as exc:
            raise ValueError(
                f"item {index} of {total} cannot be stored as JSON: {exc}; nothing was written"
            ) from exc
        if max_item_bytes is not None and len(data) > max_item_bytes:
            raise ItemTooLargeError(
                f"item {index} of {total} is {len(data)} bytes as JSON, over "
                f"max_item_bytes={max_item_bytes}; nothing was written"
            )
        batch_bytes += len(data)
        if max_batch_bytes is not None and batch_bytes > max_batch_bytes:
            raise ItemTooLargeError(
                f"the batch of {total} items is over max_batch_bytes={max_batch_bytes} "
                f"by item {index}; nothing was written"
            )
        encoded.append(data)
    return encoded


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` deep; no recursion.

    A value that refers to itself nests without end, so it is caught here too.
    """
    if not isinstance(value, (dict, list, tuple)):
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list, tuple)):
                if depth >= limit:
                    return True
                pending.append((child, depth + 1))
    return False


def _encode(plain: Any) -> bytes:
    try:
        return _encoder.encode(plain).encode("utf-8")
    except RecursionError:
        # Within MAX_ITEM_DEPTH, but the caller's own stack is deep: encode where
        # the stack is empty, so the answer does not depend on the caller.
        return on_fresh_stack(lambda: _encoder.encode(plain).encode("utf-8"))


class CorruptItem(Exception):
    """A stored element that is not a JSON document."""


def decode_item(raw: bytes | str) -> Any:
    """Decode one stored element; raise :class:`CorruptItem` when it is not JSON."""
    try:
        # json.loads(bytes) sniffs the encoding first; stored items are UTF-8.
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        try:
            return json.loads(text)
        except RecursionError:
            # Deep, but accepted on write: decode where the caller's stack depth
            # cannot matter. Only deeper than any write accepts is corrupt.
            return on_fresh_stack(lambda: json.loads(text))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise CorruptItem(str(exc)) from exc


def stored_size(raw: bytes | str) -> int:
    """Size in bytes of a stored element as the server holds it."""
    return len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))


def decode_items(raw_items: Sequence[bytes | str]) -> tuple[list[Any], int, int]:
    """Decode a read's elements: (valid items in order, corrupt ones skipped, bytes of the valid).

    The usual case, every element a compact JSON document, takes one pass through
    the json module's C scanner; any element it does not take whole (whitespace
    around it, extra data, not JSON, not UTF-8) sends the read element by element
    through ``json.loads``, so what decodes and what is skipped is exactly what
    ``json.loads`` says.
    """
    try:
        if raw_items and isinstance(raw_items[0], str):
            # A client with decode_responses=True: every element is text.
            texts = cast("Sequence[str]", raw_items)
            return _scan_all(texts), 0, sum(map(stored_size, texts))
        data = cast("Sequence[bytes]", raw_items)
        return _scan_all([raw.decode("utf-8") for raw in data]), 0, sum(map(len, data))
    except (ValueError, RecursionError, StopIteration, AttributeError):
        # ValueError covers UnicodeDecodeError; StopIteration is the scanner finding
        # no value; AttributeError a reply mixing text and bytes.
        return _decode_each(raw_items)


def _scan_all(texts: Sequence[str]) -> list[Any]:
    # json.loads ends in the scanner too, after two whitespace regex matches and
    # two Python calls per document: a third of a 20-item read's decoding.
    scan = _scanner
    items = []
    for text in texts:
        item, end = scan(text, 0)
        if end != len(text):
            raise ValueError("not one JSON document")
        items.append(item)
    return items


def _decode_each(raw_items: Sequence[bytes | str]) -> tuple[list[Any], int, int]:
    items: list[Any] = []
    corrupt = 0
    size = 0
    for raw in raw_items:
        try:
            items.append(decode_item(raw))
        except CorruptItem:
            corrupt += 1
            continue
        size += stored_size(raw)
    return items, corrupt, size
