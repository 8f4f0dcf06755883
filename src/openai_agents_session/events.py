"""Facts only the store knows, reported per operation without importing telemetry.

This is the whole protocol between a store and ``instrument()``; any session can
speak it, the wrapper needs nothing else from a store:

* per operation, the store calls :func:`report` once with a :class:`StoreEvent`;
* optionally, the store has a ``store_info()`` method returning a :class:`StoreInfo`
  (what it is and where it connects), read once when it is instrumented.

A reported event goes to two places:

* the ``observer`` the store was built with (default: none), for apps that want the
  raw facts;
* whoever is collecting on the current task through :func:`collect_store_events`,
  which is how ``InstrumentedSession`` ties each fact to the call that produced it,
  even when many calls on one session run concurrently.

Reporting must never break storage: an observer that raises is isolated here.

Example::

    class Printer:
        def on_store_event(self, event: StoreEvent) -> None:
            print(event.operation, event.session_length)

    session = RedisSession("user-1", client, observer=Printer())
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "ExpiryReason",
    "Operation",
    "StoreEvent",
    "StoreInfo",
    "StoreObserver",
    "collect_store_events",
    "report",
]

# replace_items: the atomic history replacement the SDK's compaction session asks for.
Operation = Literal["get_items", "add_items", "pop_item", "clear_session", "replace_items"]
# Why a session ended before its idle TTL: only the max_age bound, for now.
ExpiryReason = Literal["max_age"]


@dataclass(frozen=True, slots=True)
class StoreEvent:
    """What one storage operation did, as seen by the server.

    Attributes:
        operation: the session method that ran.
        items: items returned (get), written (add or replace), popped (pop) or
            removed (clear).
        bytes: serialised bytes of those items.
        session_length: list length after the operation (``0`` when the key is gone).
        ttl_refreshed: the server re-armed the key's TTL in this operation.
        trimmed: items dropped from the head by ``max_items``.
        corrupt_skipped: stored items that were not valid JSON and were skipped
            (get) or dropped (pop).
        item_sizes: serialised size of each written item, in order (add only).
        replayed: the call was a copy of a write or pop the server had already
            applied (re-sent by the client library, delivered late, or retried by
            the caller): acknowledged without being applied again; a replayed pop
            returns the item the original removed.
        log_evictions: operation-log entries this call pushed out while they were
            still inside the log's window: the one way exactly-once weakens (see
            :mod:`openai_agents_session.store.oplog`).
        round_trips: round trips to the server this operation took.
        expired: why the session's previous life ended, when this operation is the
            first to find it gone: ``"max_age"`` when it outlived ``max_age`` (the
            operation then starts a new session, or reads an empty one); ``None``
            otherwise. Reported once per expiry.
    """

    operation: Operation
    items: int = 0
    bytes: int = 0
    session_length: int | None = None
    ttl_refreshed: bool = False
    trimmed: int = 0
    corrupt_skipped: int = 0
    item_sizes: tuple[int, ...] = ()
    replayed: bool = False
    log_evictions: int = 0
    round_trips: int = 1
    expired: ExpiryReason | None = None

    @property
    def duplicate_batch(self) -> bool:
        """The former name of :attr:`replayed`, kept for observers that read it."""
        return self.replayed


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """What a store is and where it connects, for span attributes.

    Attributes:
        system: ``db.system.name`` (e.g. ``"redis"``).
        namespace: ``db.namespace``: where in the server the data lives (the key prefix).
        server_address: ``server.address``: host name, IP or socket path, when known.
        server_port: ``server.port``, when known.
    """

    system: str
    namespace: str | None = None
    server_address: str | None = None
    server_port: int | None = None


@runtime_checkable
class StoreObserver(Protocol):
    """Receives every :class:`StoreEvent` of the stores it is given to."""

    def on_store_event(self, event: StoreEvent) -> None: ...


_collector: ContextVar[list[StoreEvent] | None] = ContextVar(
    "openai_agents_session_store_events", default=None
)
# The list that report() appends to on this task, if any. collect_store_events() is
# the way to use it; instrumentation sets it directly, once per call.
store_event_collector = _collector


@contextmanager
def collect_store_events() -> Iterator[list[StoreEvent]]:
    """Collect the events reported by stores called inside this block, on this task."""
    events: list[StoreEvent] = []
    token = _collector.set(events)
    try:
        yield events
    finally:
        _collector.reset(token)


def report(event: StoreEvent, observer: StoreObserver | None = None) -> None:
    """Deliver ``event`` to ``observer`` and to the current collector, if any.

    An observer that raises is ignored: facts about storage must never change the
    outcome of storage.
    """
    events = _collector.get()
    if events is not None:
        events.append(event)
    if observer is not None:
        # By contract an observer cannot fail a store call.
        with suppress(Exception):
            observer.on_store_event(event)
