"""OpenTelemetry spans for session operations.

One INTERNAL span per operation, made current while the inner session runs, so
Redis command spans from ``opentelemetry-instrumentation-redis`` nest beneath it.
Attributes follow the stable database-client conventions (``db.system.name``,
``db.operation.name``, ``db.namespace``, ``server.address``, ``server.port``) next
to the GenAI ones (``gen_ai.conversation.id``, ``gen_ai.operation.name`` with the
memory operation names); the mapping is documented in the README.

The tracer comes from the provider given to ``instrument()`` or from the global
one; OpenTelemetry's proxy tracer picks up a global provider installed later, on
the next call.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode, TracerProvider

from ..events import StoreInfo
from .facts import OperationFacts
from .metric_names import DB_NAMESPACE, DB_SYSTEM_NAME, SERVER_ADDRESS, SERVER_PORT
from .parenting import record_unparented, storage_span_parent
from .privacy import qualified_name

__all__ = ["ATTR", "SpanFactory", "store_attributes"]

_SCOPE = "openai_agents_session"
ATTR = "openai_agents_session."

# GenAI memory operation names, as close as the conventions get today.
GEN_AI_OPERATION = {
    "get_items": "search_memory",
    "add_items": "update_memory",
    "pop_item": "delete_memory",
    "clear_session": "delete_memory",
    "replace_items": "update_memory",
}


class SpanFactory:
    """Starts and ends the spans of one instrumented session."""

    def __init__(
        self,
        tracer_provider: TracerProvider | None,
        session_name: str,
        store: StoreInfo | None,
        conversation_id: str | None,
    ) -> None:
        from .. import __version__

        self._tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)
        # Whether a tracing SDK receives spans. The global provider can be set once and
        # never replaced, so once there it stays; until then every call looks again.
        self._sdk_installed = tracer_provider is not None
        self._conversation_id = conversation_id
        static = store_attributes(store)
        if conversation_id is not None:
            static["gen_ai.conversation.id"] = conversation_id
        self._names = {operation: f"{operation} {session_name}" for operation in GEN_AI_OPERATION}
        self._start_attributes = {
            operation: {
                **static,
                "db.operation.name": operation,
                "gen_ai.operation.name": gen_ai_name,
            }
            for operation, gen_ai_name in GEN_AI_OPERATION.items()
        }

    def start(self, operation: str, limit: int | None) -> Span:
        """The operation's span; the caller makes it current and ends it.

        Without a tracing SDK there is nothing to record: no span is started (asking
        OpenTelemetry for the global provider costs less than a no-op span).
        """
        if not self._sdk_installed:
            if type(trace.get_tracer_provider()) is trace.ProxyTracerProvider:
                return INVALID_SPAN
            self._sdk_installed = True
        parent = storage_span_parent()
        attributes = self._start_attributes[operation]
        if limit is not None:
            attributes = {**attributes, ATTR + "limit": limit}
        span = self._tracer.start_span(
            self._names[operation],
            context=parent.context if parent else None,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            links=parent.links if parent else (),
        )
        if parent is None:
            record_unparented(span.get_span_context(), self._conversation_id)
        elif parent.on_conversation is not None and self._conversation_id is not None:
            parent.on_conversation(self._conversation_id)
        return span

    @staticmethod
    def describe(span: Span, facts: OperationFacts) -> None:
        """Set what the operation did on ``span`` (which the caller ends)."""
        if not span.is_recording():
            return
        span.set_attributes(_fact_attributes(facts))
        if facts.content is not None:
            text = json.dumps(facts.content, default=str, ensure_ascii=False)
            span.add_event("content", {ATTR + "content": text[:8192]})
        if facts.cancelled:
            # Cancellation is the caller's decision, not a storage failure.
            span.add_event("cancelled")
        elif facts.error is not None:
            # The event record_exception writes, with text built without the raw id.
            span.add_event(
                "exception",
                {
                    "exception.type": qualified_name(facts.error),
                    "exception.message": facts.error_message,
                    "exception.stacktrace": facts.error_stacktrace,
                    "exception.escaped": True,
                },
            )
            span.set_status(Status(StatusCode.ERROR, type(facts.error).__name__))


def store_attributes(store: StoreInfo | None) -> dict[str, Any]:
    """What the store is and where it connects, as the database conventions name it."""
    if store is None:
        return {}
    found: dict[str, Any] = {DB_SYSTEM_NAME: store.system}
    for name, value in (
        (DB_NAMESPACE, store.namespace),
        (SERVER_ADDRESS, store.server_address),
        (SERVER_PORT, store.server_port),
    ):
        if value is not None:
            found[name] = value
    return found


def _fact_attributes(facts: OperationFacts) -> dict[str, Any]:
    """Only facts with information: the SDK validates each attribute it is given."""
    if facts.error is not None:
        return {"error.type": qualified_name(facts.error), ATTR + "error_type": facts.error_type}
    store = facts.store
    attributes: dict[str, Any] = {ATTR + "items": store.items}
    if store.bytes:
        attributes[ATTR + "bytes"] = store.bytes
    if store.session_length is not None:
        attributes[ATTR + "session_length"] = store.session_length
    if store.ttl_refreshed:
        attributes[ATTR + "ttl_refreshed"] = True
    if store.trimmed:
        attributes[ATTR + "trimmed"] = store.trimmed
    if store.corrupt_skipped:
        attributes[ATTR + "corrupt_skipped"] = store.corrupt_skipped
    if store.replayed:
        attributes[ATTR + "duplicate_batch"] = True
    if store.log_evictions:
        attributes[ATTR + "log_evictions"] = store.log_evictions
    if store.round_trips != 1 and facts.reported:
        attributes[ATTR + "round_trips"] = store.round_trips
    return attributes
