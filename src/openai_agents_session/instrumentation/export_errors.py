"""Count span-export failures that the OpenTelemetry SDK swallows.

The SDK's span processors catch exporter exceptions (and drop spans when their
queue is full) and only log them, so they can never reach the code that ended the
span. A logging handler on those loggers turns each such record into
``openai_agents_session_telemetry_errors_total{signal="traces"}``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["watch_span_export_errors"]

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
