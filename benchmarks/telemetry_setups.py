"""The two telemetry set-ups the instrumented contenders run with.

* ``metrics_and_logs``: Prometheus metrics into a private registry and structlog
  logs at INFO (the usual production level: per-operation debug events are
  filtered out, warnings and errors are rendered as JSON to a null sink), with
  the OpenTelemetry API but no SDK provider installed, so spans are non-recording.
* ``sampled_spans``: the same plus an SDK ``TracerProvider`` that samples every
  span and exports it with a ``BatchSpanProcessor`` to an exporter that drops it.

``BareSpanSession`` runs with a ``sampled_spans`` provider and nothing else.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, cast

import structlog
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from openai_agents_session.instrumentation.metrics import metrics_for

__all__ = [
    "BareSpanSession",
    "NullSpanExporter",
    "TelemetrySetup",
    "metrics_and_logs",
    "sampled_spans",
]


class NullSpanExporter(SpanExporter):
    """Accepts every batch and keeps nothing; counts spans so a run can show they flowed."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


class _NullSink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


@dataclass
class TelemetrySetup:
    """What ``instrument(...)`` is given for one instrumented contender."""

    registry: CollectorRegistry
    logger: Any
    tracer_provider: TracerProvider | None = None
    exporter: NullSpanExporter | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def instrument_kwargs(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "registry": self.registry,
            "logger": self.logger,
            **self.options,
        }

    def fold_metrics(self) -> None:
        """Apply the metrics the instrumented calls queued (a scrape would do it too)."""
        metrics_for(self.registry).fold()

    def settle(self) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush()

    def shutdown(self) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


def _production_logger() -> Any:
    return structlog.wrap_logger(
        structlog.PrintLogger(file=cast(TextIO, _NullSink())),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        cache_logger_on_first_use=True,
    )


def metrics_and_logs() -> TelemetrySetup:
    return TelemetrySetup(registry=CollectorRegistry(), logger=_production_logger())


def sampled_spans() -> TelemetrySetup:
    exporter = NullSpanExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return TelemetrySetup(
        registry=CollectorRegistry(),
        logger=_production_logger(),
        tracer_provider=provider,
        exporter=exporter,
    )


class BareSpanSession:
    """Ours inside one bare SDK span per operation: the floor of any span instrumentation.

    No attributes, no metrics, no logs: just what the OpenTelemetry SDK costs to
    start a span, make it current, end it and queue it for the batch processor.
    Whatever instrumentation puts spans around storage calls pays at least this.
    """

    def __init__(self, inner: Any, tracer_provider: TracerProvider) -> None:
        self._inner = inner
        self._tracer = tracer_provider.get_tracer("bare-span-floor")
        self.session_id = inner.session_id
        self.key = inner.key

    async def get_items(self, limit: int | None = None) -> Any:
        with self._tracer.start_as_current_span("get_items", kind=SpanKind.INTERNAL):
            return await self._inner.get_items(limit)

    async def add_items(self, items: list[Any]) -> None:
        with self._tracer.start_as_current_span("add_items", kind=SpanKind.INTERNAL):
            await self._inner.add_items(items)

    async def pop_item(self) -> Any:
        with self._tracer.start_as_current_span("pop_item", kind=SpanKind.INTERNAL):
            return await self._inner.pop_item()

    async def clear_session(self) -> None:
        with self._tracer.start_as_current_span("clear_session", kind=SpanKind.INTERNAL):
            await self._inner.clear_session()
