"""Sessions written here as yardsticks, and redis-py clients with a chosen reply parser.

None of these sessions is a usable store:

* ``CannedSession`` answers from memory with canned results: the bare call the
  instrumentation's CPU is measured around.
* ``InProcessSession`` keeps items in a Python list: an agent turn with no storage cost.
* ``FloorSession`` does the least redis-py work with the same effect on a list
  (``RPUSH``, ``LRANGE``, ``RPOP``, ``DEL``; no TTL, no trimming, no atomicity).
* ``SeedPatternSession`` sends what ``openai-agents-session`` 0.1 sent (a command, then
  ``EXPIRE``); here for its memory layout.
"""

from __future__ import annotations

import json
from typing import Any, cast

from redis._parsers import _AsyncHiredisParser, _AsyncRESP3Parser
from redis.asyncio import ConnectionPool, Redis

__all__ = [
    "PARSERS",
    "CannedSession",
    "FloorSession",
    "InProcessSession",
    "SeedPatternSession",
    "client",
    "main_thread_cpu_micros",
    "protocol",
    "server_cpu_micros",
]

# redis-py picks hiredis when it is installed; the benchmark chooses explicitly so both
# parsers run side by side in one process. redis-py swaps the pure-Python parser for
# its RESP2 twin when a connection speaks RESP2 (redis-py 8 speaks RESP3 by default).
PARSERS: dict[str, type[Any]] = {"python": _AsyncRESP3Parser, "hiredis": _AsyncHiredisParser}


def protocol(redis_client: Redis) -> int:
    """The RESP version the client's connections speak."""
    connection = redis_client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    return int(connection.protocol or 2)


def client(port: int, parser: str = "python") -> Redis:
    """A client on ``127.0.0.1:port`` whose connections parse replies with ``parser``."""
    pool = ConnectionPool(host="127.0.0.1", port=port, parser_class=PARSERS[parser])
    return Redis(connection_pool=pool)


async def main_thread_cpu_micros(redis_client: Redis) -> float:
    """The server main thread's CPU µs so far (``INFO cpu``, user + system)."""
    cpu = await redis_client.info("cpu")
    user = cpu.get("used_cpu_user_main_thread", cpu["used_cpu_user"])
    system = cpu.get("used_cpu_sys_main_thread", cpu["used_cpu_sys"])
    return (float(user) + float(system)) * 1e6


async def server_cpu_micros(redis_client: Redis) -> tuple[float, float]:
    """The server's CPU µs so far: its main thread's (``INFO cpu``), and in commands
    (``INFO commandstats``, the INFO command itself left out)."""
    main_thread = await main_thread_cpu_micros(redis_client)
    stats = await redis_client.info("commandstats")
    in_commands = sum(
        float(entry["usec"]) for name, entry in stats.items() if name != "cmdstat_info"
    )
    return main_thread, in_commands


def compact(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def _load(raw: bytes | str) -> Any:
    # json.loads on bytes sniffs the encoding first; decoding here is the faster route.
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


class CannedSession:
    """Every method returns at once with a canned result: no I/O, no encoding."""

    session_settings = None

    def __init__(self, session_id: str, items: list[Any]) -> None:
        self.session_id = session_id
        self._items = items

    async def get_items(self, limit: int | None = None) -> list[Any]:
        return self._items[-limit:] if limit else list(self._items)

    async def add_items(self, items: list[Any]) -> None:
        return None

    async def pop_item(self) -> Any:
        return self._items[-1]

    async def clear_session(self) -> None:
        return None


class InProcessSession:
    """A Python list: what an agent turn costs when storage costs nothing."""

    session_settings = None

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self._items: list[Any] = []

    async def get_items(self, limit: int | None = None) -> list[Any]:
        if limit is None:
            return list(self._items)
        return self._items[-limit:] if limit > 0 else []

    async def add_items(self, items: list[Any]) -> None:
        self._items.extend(items)

    async def pop_item(self) -> Any:
        return self._items.pop() if self._items else None

    async def clear_session(self) -> None:
        self._items.clear()


class FloorSession:
    """Encode + ``RPUSH``; ``LRANGE`` + decode; ``RPOP`` + decode; ``DEL``.

    Encoding and decoding take the fastest correct route, so the floor is the least
    client work too, not only the fewest commands.
    """

    session_settings = None

    def __init__(self, redis_client: Redis, key: str) -> None:
        self._client = redis_client
        self.session_id = key
        self.key = key

    async def get_items(self, limit: int | None = None) -> list[Any]:
        if limit is not None and limit <= 0:
            return []
        start = 0 if limit is None else -limit
        raw_items: list[bytes | str] = await self._client.lrange(self.key, start, -1)
        return [_load(raw) for raw in raw_items]

    async def add_items(self, items: list[Any]) -> None:
        await self._client.rpush(self.key, *[compact(item) for item in items])

    async def pop_item(self) -> Any:
        raw = cast("bytes | None", await self._client.rpop(self.key))
        return None if raw is None else _load(raw)

    async def clear_session(self) -> None:
        await self._client.delete(self.key)


class SeedPatternSession(FloorSession):
    """``RPUSH`` of ``json.dumps`` then ``EXPIRE``: the 0.1 package's writes and layout."""

    def __init__(self, redis_client: Redis, key: str, ttl: int) -> None:
        super().__init__(redis_client, key)
        self._ttl = ttl

    async def add_items(self, items: list[Any]) -> None:
        await self._client.rpush(self.key, *[json.dumps(item) for item in items])
        await self._client.expire(self.key, self._ttl)
