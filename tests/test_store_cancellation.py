"""Cancelling calls at random points never leaves half a batch or a broken pool."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter

from redis.asyncio import Redis

from openai_agents_session import RedisSession

BATCH = 5


async def _cancel_at_random(coro: object, rng: random.Random) -> tuple[bool, object]:
    task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
    # Random points: before the request is sent, while in flight, after the reply.
    for _ in range(rng.randrange(0, 6)):
        await asyncio.sleep(0)
    if rng.random() < 0.5:
        await asyncio.sleep(rng.random() * 0.0003)
    task.cancel()
    try:
        return True, await task
    except asyncio.CancelledError:
        return False, None


async def test_cancelled_writes_are_all_or_nothing(valkey_client: Redis, session_id: str) -> None:
    rng = random.Random(1234)
    session = RedisSession(session_id, valkey_client, ttl=300)
    acknowledged: list[int] = []
    for batch in range(700):
        done, _ = await _cancel_at_random(
            session.add_items([{"batch": batch, "part": part} for part in range(BATCH)]), rng
        )
        if done:
            acknowledged.append(batch)
    stored = [json.loads(raw) for raw in await valkey_client.lrange(session.key, 0, -1)]
    parts = Counter(item["batch"] for item in stored)
    assert all(count == BATCH for count in parts.values()), "a batch was written in part"
    assert set(acknowledged) <= set(parts), "an acknowledged batch is missing"
    # Batches land in the order they were sent, each contiguous.
    order = [item["batch"] for item in stored[::BATCH]]
    assert order == sorted(order)
    assert 0 < len(acknowledged) < 700, "the test did not cancel at varied points"
    await _assert_pool_healthy(valkey_client, session)


async def test_cancelled_pops_never_lose_an_acknowledged_item(
    valkey_client: Redis, session_id: str
) -> None:
    rng = random.Random(99)
    session = RedisSession(session_id, valkey_client, ttl=300)
    original = [{"n": n} for n in range(400)]
    await session.add_items(original)
    returned: list[object] = []
    for _ in range(300):
        done, item = await _cancel_at_random(session.pop_item(), rng)
        if done and item is not None:
            returned.append(item)
    remaining = await session.get_items()
    # Pops take from the tail: what remains is a prefix of what was written, and
    # nothing that a pop returned is still stored.
    assert remaining == original[: len(remaining)]
    assert not any(item in remaining for item in returned)
    assert returned == sorted(returned, key=lambda item: -item["n"])  # type: ignore[index]
    await _assert_pool_healthy(valkey_client, session)


async def _assert_pool_healthy(client: Redis, session: RedisSession) -> None:
    await session.add_items([{"after": True}])
    assert (await session.get_items(1)) == [{"after": True}]
    pool = client.connection_pool
    in_use = len(pool._in_use_connections)  # pool health is the point here
    assert in_use == 0, f"{in_use} connections were never returned to the pool"
    assert await client.ping()
