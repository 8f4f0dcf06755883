"""Server memory per session, as ``MEMORY USAGE`` reports it for every key a session owns.

Each contender writes the same conversation through its own ``add_items`` (one agent
turn of four items per call), so the keys hold exactly what that store keeps: ours
trims to ``max_items``, the others keep everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contenders import Contender
from redis.asyncio import Redis

__all__ = ["measure_memory"]

_TURN = 4


async def measure_memory(
    client: Redis, contenders: Sequence[Contender], items: list[Any], written: int
) -> dict[str, dict[str, Any]]:
    """``{contender: {"items_written", "items_kept", "bytes", "keys", "bytes_per_item"}}``."""
    conversation = (items * (written // len(items) + 1))[:written]
    results: dict[str, dict[str, Any]] = {}
    for contender in contenders:
        session_id = "memory-probe"
        session = contender.session(client, session_id)
        await session.clear_session()
        for start in range(0, written, _TURN):
            await session.add_items(conversation[start : start + _TURN])
        keys = {}
        async for key in client.scan_iter(match=contender.key_pattern(session_id)):
            usage = await client.memory_usage(key, samples=0)
            if usage is not None:
                keys[key.decode() if isinstance(key, bytes) else key] = int(usage)
        kept = int(await client.llen(contender.list_key(session_id)))
        total = sum(keys.values())
        results[contender.name] = {
            "items_written": written,
            "items_kept": kept,
            "bytes": total,
            "keys": keys,
            "bytes_per_item": total / kept if kept else None,
        }
        await session.clear_session()
    return results
