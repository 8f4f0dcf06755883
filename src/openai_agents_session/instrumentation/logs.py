"""structlog events for session operations, and processors an app can reuse.

Per operation: ``session.operation`` at debug; ``session.slow_operation`` and
``session.corrupt_items`` at warning; ``session.operation_failed`` at error (a
cancellation is logged at info as ``session.operation_cancelled``). Every event
carries ``trace_id``/``span_id`` when a span is active, the privacy-filtered session
id, the operation, its duration and item counts; never item content unless the
app opts in.

The library never calls ``structlog.configure``. When structlog is still
unconfigured (its default prints everything to stdout) the per-operation debug
event is skipped, so an app that never set up logging does not get a line per call.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.trace import SpanContext

from .facts import OperationFacts

__all__ = ["LOGGER_NAME", "OperationLogger", "add_trace_context", "configure_logging"]

LOGGER_NAME = "openai_agents_session"


def add_trace_context(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: add ``trace_id``/``span_id`` of the current OTel span.

    Add it to your own chain (before the renderer) so every log line of the app
    can be joined with its trace::

        structlog.configure(processors=[add_trace_context, ..., JSONRenderer()])
    """
    if "trace_id" not in event_dict:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event_dict["trace_id"] = format(context.trace_id, "032x")
            event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def configure_logging(level: int | str = "INFO", *, json: bool = True) -> None:
    """One call for apps with no logging set up: structured logs to stderr.

    JSON lines (or console output with ``json=False``) with level, ISO timestamp and
    trace context. Call it once at start-up; libraries should never call it.
    """
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_trace_context,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class OperationLogger:
    """Writes the log events of one instrumented session's operations."""

    def __init__(self, logger: Any | None, *, slow_threshold: float) -> None:
        self._logger = logger if logger is not None else structlog.get_logger(LOGGER_NAME)
        self._explicit = logger is not None
        self._slow_threshold = slow_threshold
        self._looked_for_cache = False

    def _current(self) -> Any:
        """The logger to use now.

        structlog's lazy loggers resolve their configuration on every call unless
        configured with ``cache_logger_on_first_use``; then structlog itself hands out
        one fixed logger, and so may this: binding it once spares that lookup per call.
        """
        if not self._looked_for_cache and (self._explicit or structlog.is_configured()):
            self._looked_for_cache = True
            if callable(getattr(self._logger, "bind", None)):
                try:
                    # Looked up again: a caching proxy replaces its bind on first use.
                    first = self._logger.bind()
                    if self._logger.bind() is first:  # structlog hands out its cached logger
                        self._logger = first
                except Exception:
                    return self._logger
        return self._logger

    def debug_wanted(self) -> bool:
        """Whether a per-operation debug event would be kept, asked on every call.

        Building its fields costs more than asking, so the logger is asked first; a
        level configured at any time takes effect on the next operation (but for
        loggers structlog caches: there structlog's own rule holds).
        """
        if not (self._explicit or structlog.is_configured()):
            return False
        check = getattr(self._current(), "is_enabled_for", None)
        return True if not callable(check) else bool(check(logging.DEBUG))

    def emit(self, facts: OperationFacts, session: str | None, span_context: SpanContext) -> None:
        quiet = facts.error is None and not facts.slow and not facts.store.corrupt_skipped
        if quiet and not self.debug_wanted():
            return
        store = facts.store
        fields: dict[str, Any] = {
            "operation": facts.operation,
            "duration_s": round(facts.duration, 6),
        }
        if session is not None:
            fields["session"] = session
        if span_context.is_valid:
            fields["trace_id"] = format(span_context.trace_id, "032x")
            fields["span_id"] = format(span_context.span_id, "016x")
        if facts.limit is not None:
            fields["limit"] = facts.limit
        log = self._current()
        if facts.error is not None:
            fields["error_type"] = facts.error_type
            fields["exception_type"] = type(facts.error).__name__
            if facts.cancelled:
                log.info("session.operation_cancelled", **fields)
            else:
                fields["error"] = facts.error_message[:300]
                log.error("session.operation_failed", **fields)
            return
        fields["items"] = store.items
        if store.session_length is not None:
            fields["session_length"] = store.session_length
        if store.trimmed:
            fields["trimmed"] = store.trimmed
        if store.replayed:
            fields["duplicate_batch"] = True
        if store.log_evictions:
            fields["log_evictions"] = store.log_evictions
        if facts.content is not None:
            fields["content"] = facts.content
        if facts.slow:
            log.warning("session.slow_operation", threshold_s=self._slow_threshold, **fields)
        if store.corrupt_skipped:
            log.warning("session.corrupt_items", corrupt_skipped=store.corrupt_skipped, **fields)
        if quiet or self.debug_wanted():
            log.debug("session.operation", **fields)
