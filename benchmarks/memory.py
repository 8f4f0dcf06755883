"""Server memory per stored item and per session, for capacity planning.

For each layout, on an emptied database: ``INFO memory`` ``used_memory`` is read,
``sessions`` sessions of ``items`` SDK-shaped items each are written through the
store's own ``add_items`` (one agent turn of 2 items per call, 64 sessions at a
time), then ``used_memory`` is read again and *every* key of the database is sized
with ``MEMORY USAGE key SAMPLES 0`` (so companion keys, whatever their names, are
counted). Keys holding items are told apart from companions by their type (list).
Our idempotent writes keep recent operation ids (and the items of recent pops) for a
while in companion keys; those are counted as measured, right after the writes
("within the window").
Then the memory is read again after those companions have expired ("after the logs
expire"): their expiry (two minutes after a session's last write or pop) is brought
forward with ``PEXPIRE key 1`` and each is touched so the server removes it at once.
A layout with no such keys is read again after the same wait.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from agents.extensions.memory import RedisSession as SdkRedisSession
from redis.asyncio import Redis
from sessions import SeedPatternSession, compact

from openai_agents_session import RedisSession

__all__ = ["LAYOUTS", "measure_memory"]

TTL = 3600
_PER_CALL = 2  # the user's message, then the answer: how the Runner writes a turn


def _ours(client: Redis, sid: str) -> Any:
    return RedisSession(sid, client, key_prefix="mem:ours", ttl=TTL)


def _sdk(client: Redis, sid: str) -> Any:
    return SdkRedisSession(sid, redis_client=client, key_prefix="mem:sdk", ttl=TTL)


def _seed(client: Redis, sid: str) -> Any:
    return SeedPatternSession(client, f"mem:seed:{sid}", TTL)


LAYOUTS = {
    "ours": (_ours, "RedisSession(ttl=3600), defaults otherwise"),
    "sdk": (_sdk, "agents.extensions.memory.RedisSession(ttl=3600)"),
    "seed (0.1)": (_seed, "one list of json.dumps items + EXPIRE"),
}


async def _used_memory(client: Redis) -> int:
    """``used_memory`` less the clients' buffers, which vary with connections, not data."""
    info = await client.info("memory")
    return int(info["used_memory"]) - int(info.get("mem_clients_normal", 0))


async def _empty(client: Redis) -> None:
    # SYNC: the server may free a flushed database in the background by default, and
    # memory still being freed would be subtracted from the next layout's figures.
    await client.execute_command("FLUSHDB", "SYNC")  # type: ignore[no-untyped-call]


async def _size_every_key(client: Redis) -> tuple[Counter[str], Counter[str]]:
    """Bytes and key counts per kind of key ("items" for lists, "companion" otherwise)."""
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    batch: list[Any] = []

    async def flush() -> None:
        async with client.pipeline(transaction=False) as pipe:
            for key in batch:
                pipe.type(key)
                pipe.memory_usage(key, samples=0)
            replies = await pipe.execute()
        for key_type, usage in zip(replies[0::2], replies[1::2], strict=True):
            kind = "items" if key_type in (b"list", "list") else "companion"
            sizes[kind] += int(usage or 0)
            counts[kind] += 1
        batch.clear()

    async for key in client.scan_iter(count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await flush()
    if batch:
        await flush()
    return sizes, counts


def _session_id(index: int) -> str:
    return f"conversation-{index:06d}"


async def _expire_companions(make: Any, client: Redis, sessions: int) -> int:
    """Expire now the keys that expire minutes after a write (our operation logs)."""
    keys = []
    for index in range(sessions):
        session = make(client, _session_id(index))
        keys += [getattr(session, name, None) for name in ("operation_log_key", "popped_items_key")]
    keys = [key for key in keys if key is not None]
    expired = 0
    for start in range(0, len(keys), 1000):
        async with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1000]:
                pipe.pexpire(key, 1)
            expired += sum(map(int, await pipe.execute()))
    await asyncio.sleep(0.01)
    for start in range(0, len(keys), 1000):
        # Touching an expired key makes the server delete it (lazy expiry).
        async with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1000]:
                pipe.exists(key)
            await pipe.execute()
    for _ in range(1000):
        # Large values may be freed in the background: wait until they are.
        if not int((await client.info("memory")).get("lazyfree_pending_objects", 0)):
            break
        await asyncio.sleep(0.01)
    return expired


async def _write(make: Any, client: Redis, sessions: int, items: list[Any]) -> None:
    async def one(index: int) -> None:
        session = make(client, _session_id(index))
        for start in range(0, len(items), _PER_CALL):
            await session.add_items(items[start : start + _PER_CALL])

    for start in range(0, sessions, 64):
        await asyncio.gather(*(one(index) for index in range(start, min(start + 64, sessions))))


async def measure_memory(client: Redis, sessions: int, items: list[Any]) -> dict[str, Any]:
    """Per layout: bytes per session and per item, keys per session, sessions per GB."""
    payload = sum(len(compact(item)) for item in items)
    results: dict[str, Any] = {}
    # The server's first writes after start grow structures that shrink back later
    # (measured: the first layout came out 500-900 bytes a session low); a throwaway
    # pass takes that out of every layout's figures.
    await _write(_seed, client, min(sessions, 2000), items)
    for name, (make, description) in LAYOUTS.items():
        # A first pass opens the pool's connections and loads scripts: server memory
        # that is not the sessions'.
        await _write(make, client, 64, items)
        await _empty(client)
        before = await _used_memory(client)
        await _write(make, client, sessions, items)
        used = await _used_memory(client) - before
        sizes, counts = await _size_every_key(client)
        expired = await _expire_companions(make, client, sessions)
        after = await _used_memory(client) - before
        per_session = used / sessions
        results[name] = {
            "description": description,
            "used_memory_per_session": per_session,
            "memory_usage_per_session": sum(sizes.values()) / sessions,
            "item_key_bytes_per_session": sizes["items"] / sessions,
            "companion_bytes_per_session": sizes["companion"] / sessions,
            "keys_per_session": sum(counts.values()) / sessions,
            "bytes_per_item": per_session / len(items),
            "overhead_per_session": per_session - payload,
            "sessions_per_gb": 1e9 / per_session,
            "companions_expired_per_session": expired / sessions,
            "used_memory_per_session_after_logs_expire": after / sessions,
        }
    await _empty(client)
    ours, sdk = results["ours"], results["sdk"]
    return {
        "sessions": sessions,
        "items_per_session": len(items),
        "payload_bytes_per_session": payload,
        "layouts": results,
        "ours_over_sdk": {
            "within_window": ours["used_memory_per_session"] / sdk["used_memory_per_session"],
            "after_logs_expire": ours["used_memory_per_session_after_logs_expire"]
            / sdk["used_memory_per_session_after_logs_expire"],
        },
    }
