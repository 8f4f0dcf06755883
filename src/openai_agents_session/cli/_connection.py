"""The CLI's Redis client: short timeouts and one retry, so a wrong URL fails fast.

The library's clients retry ten times with backoff (right for an app riding out a
failover); an operator who typed the wrong scheme or password should hear so in
a few seconds, with the cause named (see ``_errors.describe_redis_error``).
"""

from __future__ import annotations

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from .._clients import client_from_url
from ._keyspace import Keyspace

__all__ = ["CONNECT_TIMEOUT_SECONDS", "open_keyspace"]

# A TLS handshake with a plaintext server never completes: this bounds it.
CONNECT_TIMEOUT_SECONDS = 2.0
# SCAN and MEMORY USAGE batches on a big keyspace take a while; not forever.
COMMAND_TIMEOUT_SECONDS = 10.0


def open_keyspace(url: str, key_prefix: str) -> Keyspace:
    """A :class:`Keyspace` over a client built for interactive use."""
    client = client_from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), 1),
    )
    return Keyspace(client, key_prefix)
