"""Failures of telemetry itself, counted in ``openai_agents_session_telemetry_errors_total``.

Telemetry never raises into the caller: a failing span processor, metric, log
processor or bridge is swallowed and counted by ``signal``. The counter is one per
registry, whatever the session metrics' extra labels are, so parts without sessions
(the tracing bridge) count into it too.

The OpenTelemetry SDK's span processors catch exporter exceptions (and drop spans
when their queue is full) and only log them, so they never reach the code that ended
the span; a logging handler on those loggers counts each such record as ``traces``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable

from prometheus_client import REGISTRY, CollectorRegistry, Counter

__all__ = ["SIGNALS", "count_telemetry_error", "telemetry_errors_of", "watch_span_export_errors"]

SIGNALS = ("traces", "metrics", "logs", "bridge")
_counters: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()
_counters_lock = threading.Lock()


def telemetry_errors_of(registry: CollectorRegistry) -> Counter:
    """The telemetry-error counter of ``registry``, every signal's series at zero."""
    with _counters_lock:
        counter = _counters.get(registry)
        if counter is None:
            counter = Counter(
                "openai_agents_session_telemetry_errors",
                "Failures inside telemetry itself.",
                ("signal",),
                registry=registry,
            )
            for signal in SIGNALS:
                counter.labels(signal)
            _counters[registry] = counter
        return counter


def count_telemetry_error(registry: CollectorRegistry | None, signal: str) -> None:
    """Count one failure of ``signal`` in ``registry`` (default: the global one)."""
    telemetry_errors_of(REGISTRY if registry is None else registry).labels(signal).inc()


# Loggers of the OTel SDK that report export failures and dropped spans.
_SDK_LOGGERS = (
    "opentelemetry.sdk.trace.export",
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.exporter",
)


class _ExportErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.callbacks: dict[int, Callable[[], None]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        for callback in list(self.callbacks.values()):
            try:
                callback()
            except Exception:  # counting must never raise into a logging call
                continue


_handler: _ExportErrorCounter | None = None
_lock = threading.Lock()


def watch_span_export_errors(key: int, count: Callable[[], None]) -> None:
    """Call ``count`` for each export failure the OTel SDK logs (once per ``key``)."""
    global _handler
    with _lock:
        if _handler is None:
            _handler = _ExportErrorCounter()
            for name in _SDK_LOGGERS:
                logging.getLogger(name).addHandler(_handler)
        _handler.callbacks.setdefault(key, count)
