"""What the operation log costs in server memory: per logged operation, at its cap, per pop.

One session takes single-item ``add_items`` from 36 concurrent tasks; after 100,
1,000 and ``MAX_IDS`` writes (all well inside the log's window) the log key is sized
with ``MEMORY USAGE key SAMPLES 0`` and divided by the ids it holds (``ZCARD``).
1,000 more writes then show the cap: the log keeps ``MAX_IDS`` ids, its size stops
growing, and the writes report the ids they pushed out (``log_evictions``).

Popped items: a second session holds ``2 * MAX_POPPED_ITEMS`` SDK-shaped items and
pops 64 of them, then up to ``MAX_POPPED_ITEMS`` (the hash that answers a replayed pop
is then full, unless ``MAX_POPPED_BYTES`` binds first), then twice that (it must not
grow).

From the bytes per id, the log's size for a session written at a sustained rate:
``min(rate * WINDOW, MAX_IDS)`` ids, covering ``ids / rate`` seconds of operations.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis
from sessions import compact

from openai_agents_session import RedisSession
from openai_agents_session.events import StoreEvent
from openai_agents_session.store.oplog import (
    MAX_IDS,
    MAX_POPPED_BYTES,
    MAX_POPPED_ITEMS,
    WINDOW_MS,
)

__all__ = ["CHECKPOINTS", "RATES", "measure_operation_log"]

CHECKPOINTS = (100, 1_000, MAX_IDS)
BEYOND_CAP = 1_000
# Operations per second on one conversation, sustained.
RATES = (1, 10, 100, 1_000)
TASKS = 36
TTL = 3600


class _Evictions:
    """Sums the log entries the store reports pushed out inside the window."""

    def __init__(self) -> None:
        self.count = 0

    def on_store_event(self, event: StoreEvent) -> None:
        self.count += event.log_evictions


async def _add_singles(session: RedisSession, count: int, items: list[Any]) -> None:
    """``count`` single-item writes to ``session`` from ``TASKS`` concurrent tasks."""
    remaining = count

    async def task(offset: int) -> None:
        nonlocal remaining
        index = offset
        while remaining > 0:
            remaining -= 1
            await session.add_items([items[index % len(items)]])
            index += TASKS

    await asyncio.gather(*(task(offset) for offset in range(TASKS)))


async def _size(client: Redis, key: bytes) -> dict[str, Any]:
    async with client.pipeline(transaction=False) as pipe:
        pipe.memory_usage(key, samples=0)
        pipe.zcard(key)
        pipe.object("encoding", key)
        usage, ids, encoding = await pipe.execute()
    usage, ids = int(usage or 0), int(ids)
    return {
        "ids": ids,
        "bytes": usage,
        "bytes_per_id": usage / ids if ids else None,
        "encoding": encoding.decode() if isinstance(encoding, bytes) else encoding,
    }


async def _log_growth(client: Redis, items: list[Any]) -> dict[str, Any]:
    evictions = _Evictions()
    session = RedisSession("busy", client, key_prefix="oplog", ttl=TTL, observer=evictions)
    started = time.monotonic()
    written = 0
    checkpoints = []
    for count in CHECKPOINTS:
        await _add_singles(session, count - written, items)
        written = count
        checkpoints.append({"writes": count, **await _size(client, session.operation_log_key)})
    evicted_before = evictions.count
    await _add_singles(session, BEYOND_CAP, items)
    at_cap = {
        "writes": written + BEYOND_CAP,
        **await _size(client, session.operation_log_key),
        "evictions_reported": evictions.count - evicted_before,
    }
    return {
        "checkpoints": checkpoints,
        "at_cap": at_cap,
        "seconds": time.monotonic() - started,
        "within_window": time.monotonic() - started < WINDOW_MS / 1000,
    }


async def _popped(client: Redis, items: list[Any]) -> dict[str, Any]:
    session = RedisSession("pops", client, key_prefix="oplog", ttl=TTL)
    stages = sorted({64, MAX_POPPED_ITEMS, 2 * MAX_POPPED_ITEMS})
    stored = [items[index % len(items)] for index in range(stages[-1])]
    for start in range(0, len(stored), 500):
        await session.add_items(stored[start : start + 500])
    sizes: list[int] = []
    found = []
    for pops in stages:
        while len(sizes) < pops:
            sizes.append(len(compact(await session.pop_item())))
        async with client.pipeline(transaction=False) as pipe:
            pipe.memory_usage(session.popped_items_key, samples=0)
            pipe.hlen(session.popped_items_key)
            usage, fields = await pipe.execute()
        usage = int(usage or 0)
        # Each kept item is two fields (the item, its place in the ring), plus 3 counters.
        kept = (int(fields) - 3) // 2
        payload = sum(sizes[len(sizes) - kept :])
        found.append(
            {
                "pops": pops,
                "bytes": usage,
                "fields": int(fields),
                "kept_items": kept,
                "kept_payload_bytes": payload,
                "bytes_per_kept_item": usage / kept if kept else None,
                "overhead_per_kept_item": (usage - payload) / kept if kept else None,
            }
        )
    return {"stages": found}


def _at_rates(checkpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log of a session written at each rate, sized from the nearest checkpoint."""
    rows = []
    for rate in RATES:
        ids = min(rate * WINDOW_MS // 1000, MAX_IDS)
        nearest = min(checkpoints, key=lambda c: abs(c["ids"] - ids) / ids)
        rows.append(
            {
                "operations_per_second": rate,
                "ids": ids,
                "seconds_covered": ids / rate,
                "bytes": ids * nearest["bytes_per_id"],
                "sized_from": nearest["writes"],
            }
        )
    return rows


async def measure_operation_log(client: Redis, items: list[Any]) -> dict[str, Any]:
    """Bytes per logged operation, the log at its cap, the popped items' hash."""
    growth = await _log_growth(client, items)
    popped = await _popped(client, items)
    await client.execute_command("FLUSHDB", "SYNC")  # type: ignore[no-untyped-call]
    return {
        "window_seconds": WINDOW_MS / 1000,
        "max_ids": MAX_IDS,
        "max_popped_items": MAX_POPPED_ITEMS,
        "max_popped_bytes": MAX_POPPED_BYTES,
        "tasks": TASKS,
        "growth": growth,
        "popped": popped,
        "at_rates": _at_rates(growth["checkpoints"]),
    }
