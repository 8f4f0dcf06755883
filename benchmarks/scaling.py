"""``get_items(limit=20)`` against session length: a limited read must not grow with it.

Every (contender, length) pair is a lane of its own and all lanes are interleaved
in every round, so lengths are compared under the same machine conditions. Lists
are filled with raw ``RPUSH``, so a capped contender holds the full length too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from contenders import Contender
from harness import Batch, Lane, SessionPool, measure_lanes
from operations import OPERATIONS
from redis.asyncio import Redis

__all__ = ["LIMITED_READ", "measure_scaling"]

LIMITED_READ = next(op for op in OPERATIONS if op.name == "get_items(limit=20)")


async def measure_scaling(
    client: Redis,
    contenders: Sequence[Contender],
    items: list[Any],
    lengths: Sequence[int],
    batch: Batch,
    rounds: int,
    rng: random.Random,
) -> dict[int, dict[str, list[float]]]:
    """``{length: {contender: [seconds per call, one per round]}}``."""
    pools = {
        length: SessionPool(client, contenders, items, prefill=length, id_prefix=f"len{length}-")
        for length in lengths
    }
    lanes = [
        Lane((length, contender.name), pool, contender)
        for length, pool in pools.items()
        for contender in contenders
    ]
    try:
        samples = await measure_lanes(LIMITED_READ, lanes, batch, rounds, rng)
    finally:
        await next(iter(pools.values())).drop()
    results: dict[int, dict[str, list[float]]] = {length: {} for length in lengths}
    for (length, name), values in samples.items():
        results[length][name] = values
    return results
