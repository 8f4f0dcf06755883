"""InstrumentedSession: any Agents SDK session, with spans, metrics and logs.

``instrument(session)`` returns a session that behaves exactly like ``session``
(same results, same exceptions) and emits, per operation, one OpenTelemetry span,
Prometheus metrics and structlog events. Telemetry never raises into the caller:
a failing exporter, metric or log processor is swallowed and counted in
``openai_agents_session_telemetry_errors_total{signal}``.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Awaitable, Sequence
from contextvars import Token
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanContext

from ..events import Operation, StoreEvent, report, store_event_collector
from .facts import OperationFacts, classify_error, facts_from_events
from .logs import OperationLogger
from .metrics import FOLD_EVERY, SessionMetrics, metrics_for
from .options import InstrumentationOptions
from .privacy import conversation_id
from .spans import SpanFactory

__all__ = ["NO_SPAN", "SessionTelemetry", "accepts_wrapper"]

T = TypeVar("T")


def accepts_wrapper(session: Any) -> bool:
    """Whether all four methods of ``session`` take the SDK's ``wrapper`` keyword."""
    for name in ("get_items", "add_items", "pop_item", "clear_session"):
        try:
            parameters = inspect.signature(getattr(session, name)).parameters
        except (AttributeError, TypeError, ValueError):
            return False
        wrapper = parameters.get("wrapper")
        if wrapper is None or wrapper.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            return False
    return True


def _describe_store(session: Any) -> tuple[str, str | None, str | None]:
    """(store name, db.system.name, db.namespace) of the innermost session."""
    inner = session
    for _ in range(10):
        nested = getattr(inner, "underlying_session", None) or getattr(inner, "inner", None)
        if nested is None or nested is inner:
            break
        inner = nested
    name = type(inner).__name__
    module = type(inner).__module__
    is_redis = "redis" in module.lower() or "redis" in name.lower()
    namespace = getattr(inner, "key_prefix", None) if is_redis else None
    return name, ("redis" if is_redis else None), namespace if isinstance(namespace, str) else None


class SessionTelemetry:
    """Times, counts, traces and logs the operations of one session."""

    def __init__(self, session: Any, options: InstrumentationOptions) -> None:
        self.options = options
        store_name, db_system, namespace = _describe_store(session)
        self.metrics: SessionMetrics = metrics_for(options.registry, options.labels)
        self._metrics_queue = self.metrics.queue
        self.spans = SpanFactory(
            options.tracer_provider, store_name=store_name, db_system=db_system, namespace=namespace
        )
        self.logs = OperationLogger(
            options.logger,
            slow_threshold=options.slow_threshold_seconds,
            explicit=options.logger is not None,
        )
        self._label_names = tuple(sorted(options.labels or {}))
        self._slow_threshold = options.slow_threshold_seconds
        # Whether calls need metrics only: no span, no debug log, no extra labels.
        # An attribute, not a method, as the hot path reads it on every call.
        self.is_lean = False
        self._lean_recheck = 0.0
        self._refresh_lean()
        self._conversation_ids: dict[str, str | None] = {}

    def conversation_id(self, session_id: str) -> str | None:
        cached = self._conversation_ids.get(session_id, _MISSING)
        if cached is _MISSING:
            cached = conversation_id(
                session_id, self.options.session_id_mode, self.options.session_id_key
            )
            if len(self._conversation_ids) > 1024:
                self._conversation_ids.clear()
            self._conversation_ids[session_id] = cached
        result: str | None = cached
        return result

    def _extra_labels(self, wrapper: Any) -> tuple[str, ...]:
        if not self._label_names:
            return ()
        values = dict(self.options.labels or {})
        if self.options.labels_from_context is not None and wrapper is not None:
            try:
                for name, value in self.options.labels_from_context(wrapper).items():
                    if name in values:
                        values[name] = str(value)[:64]
            except Exception:
                self.telemetry_error("metrics")
        return tuple(values[name] for name in self._label_names)

    def _describe_error(self, facts: OperationFacts, exc: BaseException, session_id: str) -> None:
        """The error's text for telemetry, without the raw session id.

        Store errors name the Redis key so the caller can act on them, and the key
        holds the session id; telemetry shows the privacy-filtered id instead.
        """
        try:
            message = str(exc)
            stacktrace = "".join(traceback.format_exception(exc))
            if self.options.session_id_mode != "raw" and session_id:
                conversation = self.conversation_id(session_id)
                stand_in = conversation if conversation is not None else "<session>"
                message = message.replace(session_id, stand_in)
                stacktrace = stacktrace.replace(session_id, stand_in)
            facts.error_message = message
            facts.error_stacktrace = stacktrace
        except Exception:
            self.telemetry_error("logs")

    def telemetry_error(self, signal: str) -> None:
        try:
            self.metrics.telemetry_error(signal)
        except Exception:  # the last line of defence: nothing may escape
            return

    async def observe(
        self,
        operation: Operation,
        session_id: str,
        call: Awaitable[T],
        *,
        limit: int | None = None,
        items_in: Sequence[Any] | None = None,
        wrapper: Any = None,
    ) -> T:
        """Run ``call`` (the inner session's operation) with telemetry around it.

        The events the call reports are collected through a context variable.
        """
        span, token = self.start_span(operation, session_id, limit)
        events: list[StoreEvent] = []
        collecting = store_event_collector.set(events)
        begin = time.perf_counter()
        try:
            # The inner call's coroutine only starts running here, inside the span.
            result = await call
        except BaseException as exc:
            duration = time.perf_counter() - begin
            _pass_on(events, collecting)
            self.failed(operation, duration, exc, events, span, token, session_id, limit, wrapper)
            raise
        duration = time.perf_counter() - begin
        _pass_on(events, collecting)
        self.completed(
            operation, duration, events, span, token, session_id, limit, items_in, result, wrapper
        )
        return result

    def _refresh_lean(self) -> None:
        """Re-decide ``is_lean``, at most once a second.

        Its parts cache their own answers for a second: a tracing SDK or DEBUG
        logging set up after instrumenting takes effect within two seconds.
        """
        now = time.monotonic()
        if now >= self._lean_recheck:
            self._lean_recheck = now + 1.0
            self.is_lean = not (
                self._label_names or self.spans.active() or self.logs.debug_wanted()
            )

    def start_span(
        self, operation: Operation, session_id: str, limit: int | None
    ) -> tuple[Span | None, object | None]:
        """The operation's span, made current, and the token that undoes that."""
        if not self.spans.active():
            return NO_SPAN
        try:
            span = self.spans.start(operation, self.conversation_id(session_id), limit)
            # Current while the store runs, so Redis command spans nest beneath.
            return span, otel_context.attach(trace.set_span_in_context(span))
        except Exception:
            self.telemetry_error("traces")
            return NO_SPAN

    def failed(
        self,
        operation: Operation,
        duration: float,
        exc: BaseException,
        events: Sequence[StoreEvent],
        span: Span | None,
        token: object | None,
        session_id: str,
        limit: int | None,
        wrapper: Any,
    ) -> None:
        """Emit the telemetry of an operation that raised ``exc``."""
        self._refresh_lean()
        facts = OperationFacts(operation, duration=duration, limit=limit, error=exc)
        facts.error_type = classify_error(exc)
        self._describe_error(facts, exc, session_id)
        self._finish(facts, events, span, token, session_id, None, None, wrapper)

    def completed(
        self,
        operation: Operation,
        duration: float,
        events: Sequence[StoreEvent],
        span: Span | None,
        token: object | None,
        session_id: str,
        limit: int | None,
        items_in: Sequence[Any] | None,
        result: Any,
        wrapper: Any,
        lean: bool = False,
        store: Any = None,
    ) -> None:
        """Emit the telemetry of an operation that returned ``result``.

        ``lean``: the call started while ``is_lean``. ``store``: the ``RedisSession``
        whose private operation produced ``events``; they are reported here, as its
        public method would have, when anybody listens.
        """
        if time.monotonic() >= self._lean_recheck:
            self._refresh_lean()
        if store is not None and (
            store._observer is not None or store_event_collector.get() is not None
        ):
            for event in events:
                report(event, store._observer)
        if span is None and len(events) == 1:
            # The common case, kept lean: one store event, no span, nothing to log.
            event = events[0]
            if (
                event.operation == operation
                and duration < self._slow_threshold
                and not event.corrupt_skipped
                and (lean or not self.logs.debug_wanted())
            ):
                try:
                    extra = self._extra_labels(wrapper) if self._label_names else ()
                    # What SessionMetrics.record queues, queued here directly: this
                    # runs for nearly every call, and a call less per operation shows.
                    queue = self._metrics_queue
                    queue.append((operation, extra, duration, event, None, False, None, 0.0))
                    if len(queue) >= FOLD_EVERY:
                        self.metrics.queue_full()
                except Exception:
                    self.telemetry_error("metrics")
                return
        facts = OperationFacts(operation, duration=duration, limit=limit)
        self._finish(facts, events, span, token, session_id, items_in, result, wrapper)

    def _finish(
        self,
        facts: OperationFacts,
        events: Sequence[Any],
        span: Span | None,
        token: object | None,
        session_id: str,
        items_in: Sequence[Any] | None,
        result: Any,
        wrapper: Any,
    ) -> None:
        if token is not None:
            try:
                otel_context.detach(token)  # type: ignore[arg-type]
            except Exception:
                self.telemetry_error("traces")
        try:
            facts_from_events(facts, events, items_in=items_in, result=result)
        except Exception:
            self.telemetry_error("metrics")
        slow = facts.duration >= self._slow_threshold
        span_context: SpanContext | None = None
        exemplar: int | None = None
        if span is not None:
            try:
                span_context = span.get_span_context()
                if span_context.trace_flags.sampled:
                    exemplar = span_context.trace_id
                if self.options.capture_content:
                    _attach_content(span, facts, items_in, result)
                self.spans.finish(span, facts)
            except Exception:
                self.telemetry_error("traces")
        try:
            self.metrics.record(
                facts.operation,
                self._extra_labels(wrapper),
                facts.duration,
                facts,
                error_type=facts.error_type,
                slow=slow,
                trace_id=exemplar,
            )
        except Exception:
            self.telemetry_error("metrics")
        try:
            content = _content(facts, items_in, result) if self.options.capture_content else None
            self.logs.emit(
                facts,
                session=self.conversation_id(session_id),
                span_context=span_context,
                slow=slow,
                content=content,
            )
        except Exception:
            self.telemetry_error("logs")


def _pass_on(events: list[StoreEvent], collecting: Token[list[StoreEvent] | None]) -> None:
    """Stop collecting; an outer collector (``collect_store_events``) still gets the events."""
    store_event_collector.reset(collecting)
    outer = store_event_collector.get()
    if outer is not None:
        outer.extend(events)


_MISSING: Any = object()
# No span was started, and no context token is to be undone.
NO_SPAN: tuple[None, None] = (None, None)


def _content(facts: OperationFacts, items_in: Sequence[Any] | None, result: Any) -> Any:
    if facts.error is not None:
        return None
    if facts.operation == "add_items":
        return list(items_in or [])
    if facts.operation in ("get_items", "pop_item"):
        return result
    return None


def _attach_content(
    span: Span, facts: OperationFacts, items_in: Sequence[Any] | None, result: Any
) -> None:
    import json

    content = _content(facts, items_in, result)
    if content is not None and span.is_recording():
        text = json.dumps(content, default=str, ensure_ascii=False)
        span.add_event("content", {"openai_agents_session.content": text[:8192]})
