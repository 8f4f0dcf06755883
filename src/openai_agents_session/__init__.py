"""Redis session store for the OpenAI Agents SDK that you can see into.

``RedisSession`` keeps each conversation in one Redis list, one round trip per
operation, Redis Cluster included.
"""

from .errors import SessionKeyTypeError
from .events import StoreEvent, StoreObserver, collect_store_events
from .redis import RedisSession

__all__ = [
    "RedisSession",
    "SessionKeyTypeError",
    "StoreEvent",
    "StoreObserver",
    "collect_store_events",
]

__version__ = "0.2.0"
