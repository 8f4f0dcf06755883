"""What each ``maxmemory-policy`` keeps when the server runs out of memory, measured.

For every (policy, ttl) cell a throwaway Valkey is started with a small ``maxmemory``
and that policy; sessions of ``items`` SDK-shaped items are written through our
``add_items`` (two items a call, as the Runner writes a turn, 64 sessions at a time)
until about ``overfill`` times the sessions the limit holds have been written (the
bytes a session takes are measured first on a server without a limit). Then every
session is read back:

* items lost: acknowledged items no longer in their list (the list shrank or vanished);
* operation logs gone: sessions whose list is still there but whose operation log is
  not, or holds fewer ids than the session's acknowledged writes (the ids in the
  2-minute window that a late copy of a write would be checked against): exactly-once
  silently weakened;
* writes refused: calls that raised the server's ``OOM`` error (nothing written).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError, RedisError
from servers import ServerProcess

from openai_agents_session import RedisSession

__all__ = ["Cell", "measure_eviction"]

_PER_CALL = 2
_CONCURRENCY = 64
_PREFIX = "evict"
_CALIBRATION_SESSIONS = 200


@dataclass(frozen=True)
class Cell:
    """One server: its eviction policy and the sessions' ``ttl``."""

    policy: str
    ttl: int | None


@dataclass
class _Written:
    """What the app was told about one session's writes."""

    acknowledged_items: int = 0
    acknowledged_writes: int = 0


@dataclass
class _Tally:
    refused_oom: int = 0
    other_errors: dict[str, int] = field(default_factory=dict)


async def _used_memory(client: Redis) -> int:
    info = await client.info("memory")
    return int(info["used_memory"])


async def _write_sessions(
    client: Redis, sessions: int, items: list[Any], ttl: int | None
) -> tuple[list[RedisSession], list[_Written], _Tally]:
    stores = [
        RedisSession(f"s{index:06d}", client, key_prefix=_PREFIX, ttl=ttl)
        for index in range(sessions)
    ]
    written = [_Written() for _ in stores]
    tally = _Tally()

    async def one(index: int) -> None:
        for start in range(0, len(items), _PER_CALL):
            batch = items[start : start + _PER_CALL]
            try:
                await stores[index].add_items(batch)
            except OutOfMemoryError:
                tally.refused_oom += 1
                continue
            except RedisError as exc:
                name = type(exc).__name__
                tally.other_errors[name] = tally.other_errors.get(name, 0) + 1
                continue
            written[index].acknowledged_items += len(batch)
            written[index].acknowledged_writes += 1

    for start in range(0, sessions, _CONCURRENCY):
        await asyncio.gather(*(one(i) for i in range(start, min(start + _CONCURRENCY, sessions))))
    return stores, written, tally


async def _read_back(
    client: Redis, stores: list[RedisSession], written: list[_Written]
) -> dict[str, int]:
    found = {
        "items_acknowledged": 0,
        "items_lost": 0,
        "sessions_vanished": 0,
        "sessions_shrunk": 0,
        "logs_vanished": 0,
        "logs_short": 0,
        "ids_lost": 0,
    }
    for start in range(0, len(stores), 1000):
        chunk = list(zip(stores[start : start + 1000], written[start : start + 1000], strict=True))
        async with client.pipeline(transaction=False) as pipe:
            for store, _ in chunk:
                pipe.llen(store.key)
                pipe.zcard(store.operation_log_key)
            replies = await pipe.execute()
        for (_, wrote), length, logged in zip(chunk, replies[0::2], replies[1::2], strict=True):
            length, logged = int(length), int(logged)
            found["items_acknowledged"] += wrote.acknowledged_items
            found["items_lost"] += max(0, wrote.acknowledged_items - length)
            if wrote.acknowledged_items and length == 0:
                found["sessions_vanished"] += 1
            elif length < wrote.acknowledged_items:
                found["sessions_shrunk"] += 1
            if length and wrote.acknowledged_writes:
                # The list survived; its writes' ids should still be in the log.
                found["ids_lost"] += max(0, wrote.acknowledged_writes - logged)
                if logged == 0:
                    found["logs_vanished"] += 1
                elif logged < wrote.acknowledged_writes:
                    found["logs_short"] += 1
    return found


async def _calibrate(items: list[Any]) -> float:
    """Server bytes per session of ``items`` with our store, on a server without a limit."""
    with ServerProcess() as server:
        client = Redis(port=server.port)
        try:
            await _write_sessions(client, _CONCURRENCY, items, None)  # scripts, connections
            await client.execute_command("FLUSHALL", "SYNC")  # type: ignore[no-untyped-call]
            before = await _used_memory(client)
            await _write_sessions(client, _CALIBRATION_SESSIONS, items, None)
            return (await _used_memory(client) - before) / _CALIBRATION_SESSIONS
        finally:
            await client.aclose()


async def _cell(
    cell: Cell, items: list[Any], maxmemory: int, per_session: float, overfill: float
) -> dict[str, Any]:
    config = {"maxmemory": str(maxmemory), "maxmemory-policy": cell.policy}
    started = time.perf_counter()
    with ServerProcess(config=config) as server:
        client = Redis(port=server.port)
        try:
            baseline = await _used_memory(client)
            holds = max(1, math.floor((maxmemory - baseline) / per_session))
            sessions = math.ceil(holds * overfill)
            stores, written, tally = await _write_sessions(client, sessions, items, cell.ttl)
            found = await _read_back(client, stores, written)
            stats = await client.info("stats")
            used = await _used_memory(client)
        finally:
            await client.aclose()
    writes = sessions * math.ceil(len(items) / _PER_CALL)
    return {
        "policy": cell.policy,
        "ttl": cell.ttl,
        "sessions_written": sessions,
        "sessions_the_limit_holds": holds,
        "writes": writes,
        "writes_refused_oom": tally.refused_oom,
        "other_errors": tally.other_errors,
        **found,
        "evicted_keys": int(stats.get("evicted_keys", 0)),
        "used_memory_at_end": used,
        "seconds": time.perf_counter() - started,
    }


async def measure_eviction(
    items: list[Any], cells: list[Cell], maxmemory: int, overfill: float
) -> dict[str, Any]:
    """Per cell: items lost, operation logs gone, writes refused (see the module docstring)."""
    per_session = await _calibrate(items)
    results = [await _cell(cell, items, maxmemory, per_session, overfill) for cell in cells]
    return {
        "maxmemory": maxmemory,
        "overfill": overfill,
        "items_per_session": len(items),
        "items_per_write": _PER_CALL,
        "bytes_per_session": per_session,
        "cells": results,
    }
