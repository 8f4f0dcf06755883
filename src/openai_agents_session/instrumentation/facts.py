"""What one session operation's facts are, whichever session produced them.

The signal modules (spans, metrics, logs) only decide *how* to emit; this module
decides *what* happened: from the store's own events when the inner session
reports them, otherwise derived from the call's arguments and result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..events import Operation, StoreEvent

__all__ = ["ERROR_TYPES", "OperationFacts", "classify_error", "facts_from_events"]

ErrorType = Literal["timeout", "connection", "redis", "serialization", "cancelled", "other"]
ERROR_TYPES: tuple[ErrorType, ...] = (
    "timeout",
    "connection",
    "redis",
    "serialization",
    "cancelled",
    "other",
)


@dataclass(slots=True)
class OperationFacts:
    operation: Operation
    duration: float = 0.0
    error: BaseException | None = None
    error_type: ErrorType | None = None
    # The error's message and traceback as telemetry may show them: with the
    # session id replaced unless the app opted into raw ids.
    error_message: str | None = None
    error_stacktrace: str | None = None
    limit: int | None = None
    items: int | None = None
    bytes: int | None = None
    session_length: int | None = None
    ttl_refreshed: bool = False
    trimmed: int = 0
    corrupt_skipped: int = 0
    duplicate_batch: bool = False
    round_trips: int | None = None
    item_sizes: tuple[int, ...] = field(default_factory=tuple)
    from_store: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cancelled(self) -> bool:
        return self.error_type == "cancelled"


def classify_error(exc: BaseException) -> ErrorType:
    """Map an exception to the fixed ``error_type`` label set."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    # redis' TimeoutError is also a RedisError, and on 3.11+ asyncio's is the builtin.
    if isinstance(exc, (RedisTimeoutError, TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    if isinstance(exc, (RedisConnectionError, ConnectionError)):
        return "connection"
    if isinstance(exc, RedisError):
        return "redis"
    if isinstance(exc, (TypeError, ValueError)):
        return "serialization"
    return "other"


def facts_from_events(
    facts: OperationFacts,
    events: Sequence[StoreEvent],
    *,
    items_in: Sequence[Any] | None = None,
    result: Any = None,
) -> OperationFacts:
    """Fill ``facts`` from the store's events, or derive what can be derived."""
    if len(events) == 1 and events[0].operation == facts.operation:
        # The common case, one store call per operation: no summing needed.
        event = events[0]
        facts.from_store = True
        facts.items = event.items
        facts.bytes = event.bytes
        facts.session_length = event.session_length
        facts.ttl_refreshed = event.ttl_refreshed
        facts.trimmed = event.trimmed
        facts.corrupt_skipped = event.corrupt_skipped
        facts.duplicate_batch = event.duplicate_batch
        facts.round_trips = event.round_trips
        facts.item_sizes = event.item_sizes
        return facts
    own = [event for event in events if event.operation == facts.operation]
    if own:
        # The innermost store reports once per call; a wrapper that itself calls
        # the store more than once (rare) still sums up correctly.
        facts.from_store = True
        facts.items = sum(e.items for e in own)
        facts.bytes = sum(e.bytes for e in own)
        facts.session_length = own[-1].session_length
        facts.ttl_refreshed = any(e.ttl_refreshed for e in own)
        facts.trimmed = sum(e.trimmed for e in own)
        facts.corrupt_skipped = sum(e.corrupt_skipped for e in own)
        facts.duplicate_batch = any(e.duplicate_batch for e in own)
        facts.round_trips = sum(e.round_trips for e in own)
        facts.item_sizes = tuple(size for e in own for size in e.item_sizes)
        return facts
    if facts.error is not None:
        return facts
    if facts.operation == "add_items" and items_in is not None:
        facts.items = len(items_in)
    elif facts.operation == "get_items" and isinstance(result, list):
        facts.items = len(result)
    elif facts.operation == "pop_item":
        facts.items = 0 if result is None else 1
    return facts
