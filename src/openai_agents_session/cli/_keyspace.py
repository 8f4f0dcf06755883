"""Finding session lists in a keyspace: ``SCAN`` (never ``KEYS``) on every primary.

``KEYS`` blocks a server for as long as it walks the whole keyspace; ``SCAN`` walks
it in small steps between other clients' commands. A Cluster's keyspace is split
over its primaries, so each primary is scanned on its own. ``TYPE list`` in the
``SCAN`` itself keeps other data under the same prefix out of the listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster

from .._clients import RedisClient
from ..store.keys import session_key

__all__ = ["Keyspace", "SessionSummary", "glob_escape"]

# Keys asked for per SCAN step, and keys described per pipelined round trip.
_SCAN_COUNT = 1000
_DETAIL_BATCH = 500

Execute = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class SessionSummary:
    """One session list as ``sessions ls`` shows it."""

    session_id: str
    key: bytes
    items: int
    ttl_seconds: float | None  # None: the key never expires
    memory_bytes: int | None  # None: the server does not allow MEMORY USAGE

    def as_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "key": self.key.decode("utf-8", "backslashreplace"),
            "items": self.items,
            "ttl_seconds": self.ttl_seconds,
            "memory_bytes": self.memory_bytes,
        }


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a Redis glob pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


class Keyspace:
    """The session keys under ``key_prefix`` on one server, Cluster or Sentinel service."""

    def __init__(self, client: RedisClient, key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix

    async def aclose(self) -> None:
        await self.client.aclose()

    def key_for(self, session_id: str) -> str:
        return session_key(self.key_prefix, session_id)

    def session_id_of(self, key: bytes) -> str:
        return _text(key)[len(self.key_prefix) + 1 :]

    async def _primaries(self) -> list[tuple[str, Execute]]:
        """One (name, execute) pair per server that owns part of the keyspace."""
        client = self.client
        if isinstance(client, RedisCluster):
            await client.initialize()
            return [
                (node.name, _on_node(client, node))
                for node in sorted(client.get_primaries(), key=lambda n: n.name)
            ]
        assert isinstance(client, Redis)
        return [("server", client.execute_command)]

    async def ping(self) -> None:
        """Raise the client's error when the server cannot be reached or refuses us."""
        for _, execute in await self._primaries():
            await execute("PING")

    async def estimated_keys(self) -> int:
        """All keys on all primaries (``DBSIZE``): an upper bound for progress bars."""
        total = 0
        for _, execute in await self._primaries():
            total += int(await execute("DBSIZE"))
        return total

    async def scan(self, session_glob: str = "*") -> AsyncIterator[list[bytes]]:
        """Batches of session list keys whose session id matches ``session_glob``."""
        pattern = f"{glob_escape(self.key_prefix)}:{session_glob}"
        for _, execute in await self._primaries():
            cursor: Any = 0
            while True:
                cursor, keys = await execute(
                    "SCAN", cursor, "MATCH", pattern, "COUNT", _SCAN_COUNT, "TYPE", "list"
                )
                if isinstance(cursor, dict):  # RedisCluster answers {node name: cursor}
                    cursor = next(iter(cursor.values()))
                batch = [k if isinstance(k, bytes) else k.encode() for k in keys]
                if batch:
                    yield batch
                if int(cursor) == 0:
                    break

    async def describe(self, keys: Sequence[bytes]) -> list[SessionSummary]:
        """Length, TTL and memory of each key; keys gone in the meantime are left out."""
        # SCAN may return a key twice; companion keys never match the prefix.
        candidates = list(dict.fromkeys(keys))
        summaries: list[SessionSummary] = []
        for start in range(0, len(candidates), _DETAIL_BATCH):
            batch = candidates[start : start + _DETAIL_BATCH]
            pipe = self.client.pipeline(transaction=False)
            for key in batch:
                pipe.llen(key)
                pipe.pttl(key)
                pipe.memory_usage(key)
            replies = await pipe.execute(raise_on_error=False)
            for index, key in enumerate(batch):
                length, pttl, memory = replies[3 * index : 3 * index + 3]
                if isinstance(length, Exception) or isinstance(pttl, Exception):
                    continue  # replaced by another type since the SCAN: not a session now
                if int(length) == 0 or int(pttl) == -2:
                    continue  # deleted or expired since the SCAN
                summaries.append(
                    SessionSummary(
                        session_id=self.session_id_of(key),
                        key=key,
                        items=int(length),
                        ttl_seconds=None if int(pttl) < 0 else int(pttl) / 1000,
                        memory_bytes=None if not isinstance(memory, int) else memory,
                    )
                )
        return summaries

    async def server_ms(self, key: str) -> int:
        """The clock (``TIME``, ms) of the server holding ``key``: the one that stamps it."""
        client = self.client
        if isinstance(client, RedisCluster):
            await client.initialize()
            node = client.get_node_from_key(key)
            seconds, micros = await client.execute_command("TIME", target_nodes=node)
        else:
            seconds, micros = await client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def key_type(self, key: str) -> str:
        return _text(await self.client.type(key))


def _on_node(client: RedisCluster, node: Any) -> Execute:
    async def execute(*args: Any) -> Any:
        return await client.execute_command(*args, target_nodes=node)

    return execute
