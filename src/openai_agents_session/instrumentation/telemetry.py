"""The one path every instrumented operation takes.

:meth:`SessionTelemetry.run`, in order: start the span (made current), await the
inner session's call while collecting the events its store reports, gather the
operation's facts, set the span's attributes, hand the facts to each metrics
recorder (prometheus_client, OpenTelemetry, or both), write the log event, end the
span. Each signal, and each recorder, is guarded on its own: telemetry never changes
a result or an exception, and a failing signal is counted in
``openai_agents_session_telemetry_errors_total{signal}`` (and its OTel counterpart).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span

from ..events import Operation, StoreEvent, StoreInfo, store_event_collector
from .facts import OperationFacts, classify_error, gather
from .logs import OperationLogger
from .metrics import OPERATIONS, metrics_for
from .options import InstrumentationOptions
from .otel_metrics import OtelSessionMetrics, instruments_for
from .privacy import conversation_id, describe_error, recordable_limit
from .spans import SpanFactory

__all__ = ["SessionTelemetry", "store_info_of"]

T = TypeVar("T")


class MetricsRecorder(Protocol):
    """Records an operation's facts into one metrics system."""

    def series(self, operation: str, extra: tuple[str, ...]) -> Any:
        """What ``record`` needs for ``operation`` and these extra label values, kept."""

    def record(self, facts: OperationFacts, series: Any, trace_id: str | None) -> None: ...

    def telemetry_error(self, signal: str) -> None: ...


class _InstrumentedCall(list[StoreEvent]):
    """The events of one instrumented call in progress on this task.

    An instrumented session called inside it (``instrument(Wrapper(instrument(s)))``)
    sees this collector and lets the outer call report the operation: counted once.
    """


class SessionTelemetry:
    """Spans, metrics and logs for the operations of one session."""

    def __init__(self, session: Any, options: InstrumentationOptions) -> None:
        self.options = options
        session_id = str(session.session_id)
        mode = options.session_id_mode
        self._conversation_id = conversation_id(session_id, mode, options.hash_key or None)
        # The raw id is kept only to keep it out of error text.
        self._private_id = None if mode == "raw" else session_id
        self._session_label = self._conversation_id or "<session>"
        store = store_info_of(session)
        recorders: list[MetricsRecorder] = []
        if options.prometheus:
            recorders.append(metrics_for(options.registry, options.labels))
        if options.otel:
            instruments = instruments_for(options.meter_provider)
            recorders.append(OtelSessionMetrics(instruments, store, options.labels))
        self.spans = SpanFactory(
            options.tracer_provider, type(session).__name__, store, self._conversation_id
        )
        self.logs = OperationLogger(options.logger, slow_threshold=options.slow_threshold_seconds)
        labels = options.labels or {}
        self._label_names = tuple(sorted(labels))
        self._default_labels = tuple(labels[name] for name in self._label_names)
        self._labels_from_context = options.labels_from_context
        # Each recorder with its series of the default label values, resolved once.
        self.recorders = tuple(
            (
                recorder,
                {
                    operation: recorder.series(operation, self._default_labels)
                    for operation in OPERATIONS
                },
            )
            for recorder in recorders
        )
        self._slow_threshold = options.slow_threshold_seconds
        self._capture_content = options.content

    async def run(
        self,
        operation: Operation,
        call: Awaitable[T],
        *,
        limit: object = None,
        items: Sequence[Any] | None = None,
        wrapper: Any = None,
    ) -> T:
        """Await ``call`` (the inner session's operation) with every signal around it.

        ``limit`` is whatever the caller passed: only an int is recorded, and the text
        of anything else is kept out of the error's description.
        """
        outer = store_event_collector.get()
        if type(outer) is _InstrumentedCall:
            return await call  # an instrumented call around this one reports it
        recorded_limit = recordable_limit(limit)
        span, token = self._start(operation, recorded_limit)
        events = _InstrumentedCall()
        collecting = store_event_collector.set(events)
        begin = time.perf_counter()
        try:
            result = await call
        except BaseException as exc:
            duration = time.perf_counter() - begin
            self._report(span, token, self._failed(operation, duration, limit, exc), wrapper)
            raise
        finally:
            store_event_collector.reset(collecting)
            if outer is not None:
                outer.extend(events)  # an app's collect_store_events() still sees them
        duration = time.perf_counter() - begin
        try:
            facts = gather(operation, events, duration, recorded_limit, items, result)
            if self._capture_content:
                facts.content = _content(operation, items, result)
        except Exception:
            self.telemetry_error("metrics")
            facts = OperationFacts(StoreEvent(operation), duration, recorded_limit)
        self._report(span, token, facts, wrapper)
        return result

    def _start(self, operation: Operation, limit: int | None) -> tuple[Span, object | None]:
        try:
            span = self.spans.start(operation, limit)
            if span is INVALID_SPAN:
                return span, None  # tracing is off
            # Current while the inner session runs, so Redis command spans nest beneath.
            return span, otel_context.attach(trace.set_span_in_context(span))
        except Exception:
            self.telemetry_error("traces")
            return INVALID_SPAN, None

    def _failed(
        self, operation: Operation, duration: float, limit: object, exc: BaseException
    ) -> OperationFacts:
        facts = OperationFacts(StoreEvent(operation), duration, recordable_limit(limit), error=exc)
        facts.error_type = classify_error(exc)
        try:
            facts.error_message, facts.error_stacktrace = describe_error(
                exc, self._private_id, self._session_label, limit=limit
            )
        except Exception:
            self.telemetry_error("logs")
        return facts

    def _report(
        self, span: Span, token: object | None, facts: OperationFacts, wrapper: Any
    ) -> None:
        """Span attributes, metrics, log event, span end: each signal on its own."""
        facts.slow = facts.duration >= self._slow_threshold
        tracing = span is not INVALID_SPAN
        span_context = span.get_span_context()
        trace_id = None  # an exemplar's: only for a sampled span
        if tracing:
            try:
                self.spans.describe(span, facts)
                if span_context.trace_flags.sampled:
                    trace_id = format(span_context.trace_id, "032x")
            except Exception:
                self.telemetry_error("traces")
        operation = facts.store.operation
        labels = None
        if wrapper is not None and self._labels_from_context is not None:
            labels = self._labels(wrapper)
        for recorder, default_series in self.recorders:
            try:
                series = (
                    default_series[operation]
                    if labels is None
                    else recorder.series(operation, labels)
                )
                recorder.record(facts, series, trace_id)
            except Exception:
                self.telemetry_error("metrics")
        try:
            self.logs.emit(facts, self._conversation_id, span_context)
        except Exception:
            self.telemetry_error("logs")
        if tracing:
            try:
                span.end()
                if token is not None:
                    otel_context.detach(token)  # type: ignore[arg-type]
            except Exception:
                self.telemetry_error("traces")

    def _labels(self, wrapper: Any) -> tuple[str, ...]:
        """The extra label values of this call: the defaults, or the run context's."""
        from_context = self._labels_from_context
        if from_context is None:
            return self._default_labels
        values = dict(zip(self._label_names, self._default_labels, strict=True))
        try:
            for name, value in from_context(wrapper).items():
                if name in values:
                    values[name] = str(value)[:64]
        except Exception:
            self.telemetry_error("metrics")
        return tuple(values[name] for name in self._label_names)

    def telemetry_error(self, signal: str) -> None:
        for recorder, _ in self.recorders:
            try:
                recorder.telemetry_error(signal)
            except Exception:  # the last line of defence: nothing may escape
                continue


def store_info_of(session: Any) -> StoreInfo | None:
    """The innermost store's :class:`StoreInfo`, through wrapping sessions."""
    current = session
    for _ in range(10):
        describe = getattr(current, "store_info", None)
        if callable(describe):
            try:
                info = describe()
            except Exception:
                return None
            return info if isinstance(info, StoreInfo) else None
        nested = getattr(current, "underlying_session", None) or getattr(current, "inner", None)
        if nested is None or nested is current:
            return None
        current = nested
    return None


def _content(operation: Operation, items: Sequence[Any] | None, result: Any) -> Any:
    if operation in ("add_items", "replace_items"):
        return list(items or [])
    if operation in ("get_items", "pop_item"):
        return result
    return None
