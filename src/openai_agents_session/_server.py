"""Where a client connects, for the ``server.address``/``server.port`` span attributes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = ["server_of_client", "server_of_url"]


def server_of_url(url: str) -> tuple[str | None, int | None]:
    """Host and port of a Redis URL (the first host of a Sentinel list); never credentials."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return parts.path or None, None
        first = urlsplit("//" + parts.netloc.rpartition("@")[2].split(",")[0])
        return first.hostname, first.port or 6379
    except ValueError:
        return None, None


def server_of_client(client: Any) -> tuple[str | None, int | None]:
    """Host and port a ``redis.asyncio`` client connects to, when it says so publicly."""
    pool = getattr(client, "connection_pool", None)
    settings = getattr(pool, "connection_kwargs", None)
    if isinstance(settings, dict):
        if settings.get("path"):
            return str(settings["path"]), None
        host, port = settings.get("host"), settings.get("port")
        if isinstance(host, str):
            return host, port if isinstance(port, int) else None
    # A RedisCluster client: the node it was started from.
    nodes = getattr(client, "startup_nodes", None)
    if isinstance(nodes, list) and nodes:
        node = nodes[0]
        return getattr(node, "host", None), getattr(node, "port", None)
    return None, None
