"""Where storage spans attach in a trace: the seam between storage spans and a tracing bridge.

``InstrumentedSession`` asks :func:`storage_span_parent` for the parent of each
storage span. With no resolver registered, the answer is "the current
OpenTelemetry context". A bridge from another tracing system (the Agents SDK's, see
``enable_agents_tracing``) registers a resolver that returns the OpenTelemetry
mirror of whatever span is current in that system, so storage calls nest under the
agent, turn or tool that made them.

Two facts flow the other way, so a bridge can correlate what it could not parent:

* ``StorageParent.on_conversation`` is called with the (privacy-filtered)
  conversation id of the storage call, so the run's spans can carry
  ``gen_ai.conversation.id``;
* :func:`record_unparented` keeps the context of a storage span that had no bridge
  parent (the Agents SDK reads history before its trace opens) for the bridge to
  link to the run's root span when the run starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext

__all__ = [
    "ParentResolver",
    "StorageParent",
    "UnparentedStorageSpan",
    "pop_unparented",
    "record_unparented",
    "register_parent_resolver",
    "storage_span_parent",
]


@dataclass(frozen=True)
class StorageParent:
    """Where to put a storage span: a parent context and/or links."""

    context: Context | None = None
    links: tuple[Link, ...] = ()
    # Called with the (privacy-filtered) conversation id of the storage call, so
    # the bridge can put gen_ai.conversation.id on the spans of the run.
    on_conversation: Callable[[str], None] | None = None


ParentResolver = Callable[[], StorageParent | None]

_resolvers: list[ParentResolver] = []


def register_parent_resolver(resolver: ParentResolver) -> Callable[[], None]:
    """Add ``resolver``; returns a function that removes it. Registering twice is a no-op."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)

    def unregister() -> None:
        if resolver in _resolvers:
            _resolvers.remove(resolver)

    return unregister


def storage_span_parent() -> StorageParent | None:
    """The first non-empty answer of the registered resolvers, or ``None``.

    Raises whatever a resolver raises: the caller counts it as a telemetry error.
    """
    for resolver in tuple(_resolvers):
        parent = resolver()
        if parent is not None:
            return parent
    return None


@dataclass
class UnparentedStorageSpan:
    span_context: SpanContext
    conversation_id: str | None


@dataclass
class _Notes:
    # Tasks inherit a copy of their parent's context, and with it this mutable
    # object; the owner check keeps concurrent runs from reading each other's notes.
    owner: object | None
    unparented: list[UnparentedStorageSpan] = field(default_factory=list)


def _current_task() -> object | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


_notes: ContextVar[_Notes | None] = ContextVar("openai_agents_session_trace_notes", default=None)


def _current_notes() -> _Notes:
    notes = _notes.get()
    owner = _current_task()
    if notes is None or notes.owner is not owner:
        notes = _Notes(owner)
        _notes.set(notes)
    return notes


def record_unparented(span_context: SpanContext, conversation_id: str | None) -> None:
    """Remember a storage span that ran with no bridge parent, on this task's context.

    Only kept while a resolver is registered (nobody else would read it); at most
    the 8 newest are kept.
    """
    if not _resolvers:
        return
    notes = _current_notes()
    notes.unparented.append(UnparentedStorageSpan(span_context, conversation_id))
    del notes.unparented[:-8]


def pop_unparented() -> list[UnparentedStorageSpan]:
    """Take the unparented storage spans recorded on this task's context."""
    notes = _notes.get()
    if notes is None or notes.owner is not _current_task() or not notes.unparented:
        return []
    taken = list(notes.unparented)
    notes.unparented.clear()
    return taken
