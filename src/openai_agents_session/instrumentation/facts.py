"""What one operation did, whichever session produced it.

One type, :class:`OperationFacts`, carries everything the signals need: the
store's own :class:`~openai_agents_session.events.StoreEvent` (or, for a session that
reports none, what can be derived from the call) and what only the wrapper knows
(duration, limit, error). The span, metrics and log modules read it and nothing else.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..events import Operation, StoreEvent

__all__ = ["ERROR_TYPES", "ErrorType", "OperationFacts", "classify_error", "gather"]

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
    """One operation's facts.

    Attributes:
        store: what the store reported; derived from arguments and result when the
            session reports nothing (``reported`` is then false).
        error_message, error_stacktrace: the error as telemetry may show it (see
            ``privacy.describe_error``), empty when the operation succeeded.
        content: the items written or returned, only when content capture is on.
    """

    store: StoreEvent
    duration: float
    limit: int | None = None
    reported: bool = False
    error: BaseException | None = None
    error_type: ErrorType | None = None
    error_message: str = ""
    error_stacktrace: str = ""
    slow: bool = False
    content: Any = None

    @property
    def operation(self) -> Operation:
        return self.store.operation

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


def gather(
    operation: Operation,
    events: Sequence[StoreEvent],
    duration: float,
    limit: int | None = None,
    items_in: Sequence[Any] | None = None,
    result: Any = None,
) -> OperationFacts:
    """The facts of a completed call from the events its store reported, if any."""
    if not events:
        return OperationFacts(_derived(operation, items_in, result), duration, limit)
    if len(events) == 1 and events[0].operation == operation:
        return OperationFacts(events[0], duration, limit, reported=True)  # the common case
    own = [event for event in events if event.operation == operation]
    if len(own) == 1:
        return OperationFacts(own[0], duration, limit, reported=True)
    if own:
        # A session that calls its store more than once per operation: sum up.
        return OperationFacts(_summed(operation, own), duration, limit, reported=True)
    return OperationFacts(_derived(operation, items_in, result), duration, limit)


def _summed(operation: Operation, own: Sequence[StoreEvent]) -> StoreEvent:
    return StoreEvent(
        operation,
        items=sum(e.items for e in own),
        bytes=sum(e.bytes for e in own),
        session_length=own[-1].session_length,
        ttl_refreshed=any(e.ttl_refreshed for e in own),
        trimmed=sum(e.trimmed for e in own),
        corrupt_skipped=sum(e.corrupt_skipped for e in own),
        item_sizes=tuple(size for e in own for size in e.item_sizes),
        replayed=any(e.replayed for e in own),
        log_evictions=sum(e.log_evictions for e in own),
        round_trips=sum(e.round_trips for e in own),
        expired=next((e.expired for e in own if e.expired is not None), None),
    )


def _derived(operation: Operation, items_in: Sequence[Any] | None, result: Any) -> StoreEvent:
    """What a session that reports nothing still shows through its arguments and result."""
    items = 0
    if operation == "get_items":
        items = len(result) if isinstance(result, list) else 0
    elif operation == "pop_item":
        items = 0 if result is None else 1
    elif operation in ("add_items", "replace_items") and items_in is not None:
        # A replacement hook answers False when it declined to replace anything.
        items = 0 if result is False else len(items_in)
    return _counted(operation, items)


@functools.lru_cache(maxsize=1024)
def _counted(operation: Operation, items: int) -> StoreEvent:
    # Events are immutable, so one per (operation, count) serves every call: building a
    # frozen dataclass costs more than the rest of an instrumented call's bookkeeping.
    return StoreEvent(operation, items=items)
