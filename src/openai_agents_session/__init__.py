"""Redis session store for the OpenAI Agents SDK that you can see into.

``RedisSession`` keeps each conversation in one Redis list, one round trip per
operation, Redis Cluster included; ``instrument(session)`` adds OpenTelemetry
spans, Prometheus metrics and structlog logs to it (or to any other session).
"""

from .durability import Durability
from .errors import DurabilityError, ItemTooLargeError, SessionKeyTypeError
from .events import StoreEvent, StoreObserver, collect_store_events
from .instrumentation import (
    InstrumentedSession,
    add_trace_context,
    configure_logging,
    instrument,
    instrumented,
)
from .instrumentation.agents_bridge import (
    AgentsTracingHandle,
    agent_span_context,
    enable_agents_tracing,
    use_agent_span_context,
)
from .redis import RedisSession

__all__ = [
    "AgentsTracingHandle",
    "Durability",
    "DurabilityError",
    "InstrumentedSession",
    "ItemTooLargeError",
    "RedisSession",
    "SessionKeyTypeError",
    "StoreEvent",
    "StoreObserver",
    "add_trace_context",
    "agent_span_context",
    "collect_store_events",
    "configure_logging",
    "enable_agents_tracing",
    "instrument",
    "instrumented",
    "use_agent_span_context",
]

__version__ = "0.2.0"
