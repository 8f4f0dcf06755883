"""The CLI's Redis client: a 2 s timeout and one retry, so a wrong URL fails fast.

The library's clients retry ten times with backoff (right for an app riding out a
failover); an operator who typed the wrong scheme or password should hear so in
a few seconds, with the cause named (see ``_errors.describe_redis_error``).

One timeout bounds every wait of an attempt: the TCP connect and TLS handshake
(``socket_connect_timeout``) and each reply (``socket_timeout``), the replies to
the connection's own handshake (``CLIENT SETINFO``, ``AUTH``, ``SELECT``) included.
A server that accepts connections and never answers is given up on after
``TIMEOUT_SECONDS * (1 + RETRIES)`` plus a backoff of at most 0.1 s; a Sentinel URL
spends that on each sentinel it lists before the primary. Each step the CLI asks
of a healthy server (a ``SCAN`` of 1,000 keys, one reply of a pipeline) takes
milliseconds, so a reply missing for 2 s means the server is not answering.
"""

from __future__ import annotations

from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from .._clients import RedisClient, client_from_url
from ._keyspace import Keyspace

__all__ = ["RETRIES", "TIMEOUT_SECONDS", "check_reachable", "cli_client", "open_keyspace"]

TIMEOUT_SECONDS = 2.0
RETRIES = 1


def cli_client(url: str) -> RedisClient:
    """A client for ``url`` that gives up on a silent server within seconds."""
    return client_from_url(
        url,
        socket_connect_timeout=TIMEOUT_SECONDS,
        socket_timeout=TIMEOUT_SECONDS,
        # Explicit: redis-py's default, like the library's URL clients, retries
        # ten times, and each retry waits the whole timeout again.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), RETRIES),
    )


def open_keyspace(url: str, key_prefix: str) -> Keyspace:
    """A :class:`Keyspace` over a client built for interactive use."""
    return Keyspace(cli_client(url), key_prefix)


async def check_reachable(url: str) -> None:
    """Raise the client's error, within the CLI's bound, when ``url`` does not answer ``PING``.

    For commands whose own client keeps the library's patient retries (the demo):
    a wrong URL should still fail in seconds, not after ten timeouts or never.
    """
    keyspace = open_keyspace(url, "")
    try:
        await keyspace.ping()
    finally:
        await keyspace.aclose()
