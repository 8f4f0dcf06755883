"""Telemetry for any Agents SDK session: spans, Prometheus metrics, structlog logs."""

from .logs import add_trace_context, configure_logging
from .privacy import conversation_id
from .wrapper import InstrumentedSession, instrument, instrumented

__all__ = [
    "InstrumentedSession",
    "add_trace_context",
    "configure_logging",
    "conversation_id",
    "instrument",
    "instrumented",
]
