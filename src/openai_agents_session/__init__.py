"""Redis session store for the OpenAI Agents SDK that you can see into.

``RedisSession`` keeps each conversation in one Redis list, one round trip per
operation, Redis Cluster included; ``instrument(session)`` adds OpenTelemetry
spans, Prometheus metrics and structlog logs to it (or to any other session).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from .store.owners import OwnerIndex
    from .store.session import RedisSession

# Each public name and the module that defines it. Imported on first use: the
# Agents SDK behind RedisSession takes a second to import, and the operator CLI
# (a subpackage, so this module runs first) needs none of it.
_EXPORTS = {
    "AgentsTracingHandle": ".instrumentation.agents_bridge",
    "Durability": ".durability",
    "DurabilityError": ".errors",
    "InstrumentedSession": ".instrumentation",
    "ItemTooLargeError": ".errors",
    "OwnerIndex": ".store.owners",
    "RedisSession": ".store.session",
    "SessionKeyTypeError": ".errors",
    "StoreEvent": ".events",
    "StoreObserver": ".events",
    "add_trace_context": ".instrumentation",
    "agent_span_context": ".instrumentation.agents_bridge",
    "collect_store_events": ".events",
    "configure_logging": ".instrumentation",
    "enable_agents_tracing": ".instrumentation.agents_bridge",
    "instrument": ".instrumentation",
    "instrumented": ".instrumentation",
    "use_agent_span_context": ".instrumentation.agents_bridge",
}

__all__ = [
    "AgentsTracingHandle",
    "Durability",
    "DurabilityError",
    "InstrumentedSession",
    "ItemTooLargeError",
    "OwnerIndex",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
