"""Telemetry for any Agents SDK session: spans, metrics (Prometheus, OpenTelemetry), logs."""

from .logs import add_trace_context, configure_logging
from .privacy import HashKeyWarning, conversation_id
from .wrapper import InstrumentedSession, instrument, instrumented

__all__ = [
    "HashKeyWarning",
    "InstrumentedSession",
    "add_trace_context",
    "configure_logging",
    "conversation_id",
    "instrument",
    "instrumented",
]
