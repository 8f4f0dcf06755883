"""OpenTelemetry spans for session operations.

One INTERNAL span per operation, so Redis command spans from
``opentelemetry-instrumentation-redis`` nest beneath it. Naming and attributes
follow the database-client conventions (``db.system.name``, ``db.operation.name``,
``db.namespace``) and the GenAI ones (``gen_ai.conversation.id``,
``gen_ai.operation.name`` with the memory operation names); both are still
evolving, so the mapping is documented in the README and kept in this module.
"""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from .facts import OperationFacts
from .parenting import record_unparented, storage_span_parent

__all__ = ["ATTR", "SpanFactory"]

_SCOPE = "openai_agents_session"

# GenAI memory operation names, as close as the conventions get today.
GEN_AI_OPERATION = {
    "get_items": "search_memory",
    "add_items": "update_memory",
    "pop_item": "delete_memory",
    "clear_session": "delete_memory",
}

ATTR = "openai_agents_session."


class SpanFactory:
    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        *,
        store_name: str,
        db_system: str | None,
        namespace: str | None,
    ) -> None:
        from .. import __version__

        self._tracer: Tracer = trace.get_tracer(
            _SCOPE, __version__, tracer_provider=tracer_provider
        )
        self._active = tracer_provider is not None
        self._next_check = 0.0
        self._store_name = store_name
        # The OTel SDK validates every attribute (about 1.5 µs each): spans carry
        # only attributes with information; zero-valued facts are left out.
        self._static: dict[str, Any] = {}
        if db_system:
            self._static["db.system.name"] = db_system
        if namespace:
            self._static["db.namespace"] = namespace
        self._names = {operation: f"{operation} {store_name}" for operation in GEN_AI_OPERATION}
        # Start attributes per (operation, conversation id), built once: a wrapped
        # session has one id, so this stays tiny.
        self._start_attributes: dict[tuple[str, str | None], dict[str, Any]] = {}

    def active(self) -> bool:
        """False while no tracing SDK is installed: every span would be a no-op.

        The app may install its global provider after instrumenting, so this is
        re-checked, at most once a second (the lookup reads the environment); once
        installed, a global provider cannot be replaced.
        """
        if self._active:
            return True
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + 1.0
            provider = trace.get_tracer_provider()
            self._active = not isinstance(provider, trace.ProxyTracerProvider)
        return self._active

    def _attributes(self, operation: str, conversation_id: str | None) -> dict[str, Any]:
        cached = self._start_attributes.get((operation, conversation_id))
        if cached is None:
            cached = dict(self._static)
            cached["db.operation.name"] = operation
            cached["gen_ai.operation.name"] = GEN_AI_OPERATION[operation]
            if conversation_id is not None:
                cached["gen_ai.conversation.id"] = conversation_id
            if len(self._start_attributes) > 256:
                self._start_attributes.clear()
            self._start_attributes[(operation, conversation_id)] = cached
        return cached

    def start(self, operation: str, conversation_id: str | None, limit: int | None) -> Span:
        parent = storage_span_parent()
        # A copy: the tracer may keep what it is given.
        attributes = dict(self._attributes(operation, conversation_id))
        if limit is not None:
            attributes[ATTR + "limit"] = limit
        # Given at start, so samplers can decide on them too.
        span = self._tracer.start_span(
            self._names[operation],
            context=parent.context if parent else None,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            links=parent.links if parent else (),
        )
        if parent is None:
            record_unparented(span.get_span_context(), conversation_id)
        elif parent.on_conversation is not None and conversation_id is not None:
            parent.on_conversation(conversation_id)
        return span

    @staticmethod
    def finish(span: Span, facts: OperationFacts) -> None:
        try:
            if span.is_recording():
                span.set_attributes(_fact_attributes(facts))
                if facts.cancelled:
                    # Cancellation is the caller's decision, not a storage failure.
                    span.add_event("cancelled")
                elif facts.error is not None:
                    # An exception event as record_exception writes it, but with the
                    # text privacy-filtered: store errors name keys holding session ids.
                    span.add_event(
                        "exception",
                        {
                            "exception.type": _qualified_name(facts.error),
                            "exception.message": facts.error_message or "",
                            "exception.stacktrace": facts.error_stacktrace or "",
                            "exception.escaped": True,
                        },
                    )
                    span.set_status(Status(StatusCode.ERROR, type(facts.error).__name__))
        finally:
            span.end()


def _fact_attributes(facts: OperationFacts) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if facts.error is not None:
        attributes["error.type"] = _qualified_name(facts.error)
        attributes[ATTR + "error_type"] = facts.error_type or "other"
        return attributes
    if facts.items is not None:
        attributes[ATTR + "items"] = facts.items
    if facts.bytes:
        attributes[ATTR + "bytes"] = facts.bytes
    if facts.session_length is not None:
        attributes[ATTR + "session_length"] = facts.session_length
    if facts.ttl_refreshed:
        attributes[ATTR + "ttl_refreshed"] = True
    if facts.trimmed:
        attributes[ATTR + "trimmed"] = facts.trimmed
    if facts.corrupt_skipped:
        attributes[ATTR + "corrupt_skipped"] = facts.corrupt_skipped
    if facts.duplicate_batch:
        attributes[ATTR + "duplicate_batch"] = True
    if facts.round_trips is not None and facts.round_trips != 1:
        attributes[ATTR + "round_trips"] = facts.round_trips
    return attributes


def _qualified_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
