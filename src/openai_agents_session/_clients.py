"""Where a session's Redis client comes from, and which event loop it belongs to.

redis.asyncio connections belong to the event loop that opened them. Two sources:

* an injected client is the caller's: used as is, never closed, and refused with a
  clear error when a call comes from another event loop (otherwise the caller
  would see "Event loop is closed" or, with a loop still running elsewhere, a hang);
* a client built from a URL is the session's own: one client per event loop, so a
  script that calls ``Runner.run_sync`` repeatedly (a new loop each time) keeps
  working; all of them are closed by ``close()``.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff

from ._redaction import redact_url as _redact

__all__ = ["InjectedClient", "OwnedClients", "RedisClient", "client_from_url"]

RedisClient = Redis | RedisCluster

# The loop each injected client was first used on. Weak on both sides: the
# registry keeps neither clients nor loops alive.
_client_loops: weakref.WeakKeyDictionary[Any, weakref.ref[asyncio.AbstractEventLoop]] = (
    weakref.WeakKeyDictionary()
)


class InjectedClient:
    def __init__(self, client: RedisClient) -> None:
        self._client = client

    def get(self) -> RedisClient:
        loop = asyncio.get_running_loop()
        known = _client_loops.get(self._client)
        if known is None:
            _client_loops[self._client] = weakref.ref(loop)
        elif known() is not loop:
            # Also when that loop is closed or gone: the client's pooled
            # connections still belong to it.
            raise RuntimeError(
                "this Redis client belongs to another event loop; a redis.asyncio client "
                "can only be used on the loop it first connected from. Create the client "
                "inside the loop that uses it, or build the session with "
                "RedisSession.from_url(...), which keeps one client per loop."
            )
        return self._client

    @property
    def client(self) -> RedisClient:
        return self._client

    async def aclose(self) -> None:
        """An injected client is the caller's to close."""


class OwnedClients:
    def __init__(self, url: str, options: dict[str, Any]) -> None:
        check_url(url)
        self._url = url
        self._options = options
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RedisClient] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def url(self) -> str:
        return self._url

    def get(self) -> RedisClient:
        loop = asyncio.get_running_loop()
        client = self._by_loop.get(loop)
        if client is None:
            client = client_from_url(self._url, **self._options)
            self._by_loop[loop] = client
        return client

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        for client_loop, client in list(self._by_loop.items()):
            if client_loop is loop:
                await client.aclose()
            # Clients of other (finished) loops hold sockets of a dead loop; they
            # are dropped and their file descriptors freed by garbage collection.
        self._by_loop = weakref.WeakKeyDictionary()


_SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster", "redis+sentinel")


def check_url(url: str) -> None:
    """Reject a URL no client can be built from, before any connection is tried."""
    if not isinstance(url, str) or not url:
        raise TypeError(f"url must be a non-empty str, got {url!r:.80}")
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"unsupported Redis URL scheme {parts.scheme!r} in {_redact(url)!r}; use "
            "redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://"
        )
    if parts.scheme == "redis+sentinel" and not parts.path.strip("/"):
        raise ValueError(f"sentinel URL {_redact(url)!r} must name the service: .../service[/db]")


def _default_retry() -> Retry:
    # redis-py gives clients built from a URL (and Sentinel's master_for) no
    # retries; a lost reply would then reach the caller as an error although the
    # write was applied. The store makes re-sent commands safe, so retry like a
    # default Redis(host=...) client does.
    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=1.0), 10)


def client_from_url(url: str, **options: Any) -> RedisClient:
    """Build an async client for ``url``.

    Schemes: ``redis://``, ``rediss://``, ``unix://`` (a standalone server);
    ``redis+cluster://`` / ``rediss+cluster://`` (a Cluster, seeded by that node);
    ``redis+sentinel://[:password@]host:port[,host:port...]/service[/db]``
    (the primary of a Sentinel-managed service).
    """
    check_url(url)
    scheme = urlsplit(url).scheme
    if scheme != "redis+cluster" and scheme != "rediss+cluster":
        options.setdefault("retry", _default_retry())
    if scheme in ("redis", "rediss", "unix"):
        return Redis.from_url(url, **options)
    if scheme in ("redis+cluster", "rediss+cluster"):
        return RedisCluster.from_url(url.replace("+cluster", "", 1), **options)
    return _sentinel_primary(url, options)


def _sentinel_primary(url: str, options: dict[str, Any]) -> Redis:
    parts = urlsplit(url)
    hosts: list[tuple[str, int]] = []
    for node in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = node.rpartition(":")
        hosts.append((host or "localhost", int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError(f"sentinel URL {_redact(url)!r} must name the service: .../service[/db]")
    service = unquote(path[0])
    if len(path) > 1:
        options.setdefault("db", int(path[1]))
    if parts.password:
        options.setdefault("password", unquote(parts.password))
    # Sentinel's constructor is typed in some redis-py releases and not in others; calling
    # it through Any keeps type checking clean on every supported release.
    sentinel_class: Any = Sentinel
    sentinel = sentinel_class(hosts, **{k: v for k, v in options.items() if k != "db"})
    primary: Redis = sentinel.master_for(service, **options)
    return primary
