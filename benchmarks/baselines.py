"""The two baselines written here: the raw floor and the seed package's command sequence.

Both expose the four session methods so the harness drives every contender the same
way. Neither is a usable session store: the floor does the least redis-py work that
has the same effect on the list (no TTL, no trimming, no atomicity), the seed pattern
repeats what ``openai-agents-session`` 0.1 sends (one command, then ``EXPIRE``).
"""

from __future__ import annotations

import json
from typing import Any, cast

from redis.asyncio import Redis

__all__ = ["FloorSession", "SeedPatternSession"]


def _compact(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def _load(raw: bytes | str) -> Any:
    # json.loads on bytes first sniffs the encoding and decodes with an error
    # handler that takes a slower path: decoding here is ~35 % faster per item.
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


class FloorSession:
    """JSON-encode and RPUSH; LRANGE and decode; RPOP and decode; DEL.

    Encoding and decoding take the fastest correct route, so the floor is the least
    client work too, not only the fewest commands.
    """

    def __init__(self, client: Redis, key: str) -> None:
        self._client = client
        self.key = key

    async def add_items(self, items: list[Any]) -> None:
        await self._client.rpush(self.key, *[_compact(item) for item in items])

    async def get_items(self, limit: int | None = None) -> list[Any]:
        start = 0 if limit is None else -limit
        raw_items: list[bytes | str] = await self._client.lrange(self.key, start, -1)
        return [_load(raw) for raw in raw_items]

    async def pop_item(self) -> Any:
        raw = cast("bytes | None", await self._client.rpop(self.key))
        return None if raw is None else _load(raw)

    async def clear_session(self) -> None:
        await self._client.delete(self.key)


class SeedPatternSession:
    """RPUSH then EXPIRE; LRANGE then EXPIRE; RPOP then EXPIRE; DEL (two round trips each)."""

    def __init__(self, client: Redis, key: str, ttl: int) -> None:
        self._client = client
        self.key = key
        self._ttl = ttl

    async def add_items(self, items: list[Any]) -> None:
        await self._client.rpush(self.key, *[json.dumps(item) for item in items])
        await self._client.expire(self.key, self._ttl)

    async def get_items(self, limit: int | None = None) -> list[Any]:
        start = 0 if limit is None else -limit
        raw_items: list[bytes | str] = await self._client.lrange(self.key, start, -1)
        await self._client.expire(self.key, self._ttl)
        return [_load(raw) for raw in raw_items]

    async def pop_item(self) -> Any:
        raw = cast("bytes | None", await self._client.rpop(self.key))
        await self._client.expire(self.key, self._ttl)
        return None if raw is None else _load(raw)

    async def clear_session(self) -> None:
        await self._client.delete(self.key)
