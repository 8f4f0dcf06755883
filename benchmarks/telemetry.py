"""The telemetry set-ups the instrumented contenders run with, on public APIs only.

* metrics + logs: Prometheus metrics into a fresh ``CollectorRegistry`` and structlog
  at INFO (the usual production level: per-operation debug events are filtered out,
  warnings and errors are rendered as JSON into a null sink); the OpenTelemetry API
  with no SDK provider, so spans are non-recording.
* spans: the same plus an SDK ``TracerProvider`` that samples every span
  (``ALWAYS_ON``) and hands it to a ``BatchSpanProcessor`` whose exporter discards it.
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
from prometheus_client import CollectorRegistry

__all__ = [
    "SESSION_ID_KEY",
    "DiscardingExporter",
    "Telemetry",
    "metrics_and_logs",
    "production_logger",
    "sampled_spans",
]

# A fixed key: the benchmark compares costs, and a configured key is what production uses.
SESSION_ID_KEY = b"benchmark-session-id-key"


class DiscardingExporter(SpanExporter):
    """Accepts every batch and keeps nothing; counts spans so a run shows they flowed."""

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


def production_logger() -> Any:
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


@dataclass
class Telemetry:
    """What ``instrument(...)`` is given, and the span pipeline behind it (if any)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    logger: Any = field(default_factory=production_logger)
    provider: TracerProvider | None = None
    exporter: DiscardingExporter | None = None

    def instrument(self, session: Any) -> Any:
        from openai_agents_session import instrument

        return instrument(
            session,
            tracer_provider=self.provider,
            registry=self.registry,
            logger=self.logger,
            session_id_key=SESSION_ID_KEY,
        )

    def flush(self) -> None:
        """Export queued spans now, so the exporter's work stays out of the next batch."""
        if self.provider is not None:
            self.provider.force_flush()

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def metrics_and_logs() -> Telemetry:
    return Telemetry()


def sampled_spans() -> Telemetry:
    exporter = DiscardingExporter()
    provider = TracerProvider(sampler=ALWAYS_ON)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Telemetry(provider=provider, exporter=exporter)
