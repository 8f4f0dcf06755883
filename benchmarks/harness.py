"""Interleaved, repeated timing of every contender on one operation.

Each round runs one timed batch per contender, in a freshly shuffled order, so slow
drifts of a shared machine (other processes, CPU frequency, server state) hit every
contender alike; the per-round ratios between contenders are then paired samples.
Session state is restored before every batch, outside the timing.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contenders import Contender
from operations import CLEAR_PREFILL, PREFILL, Operation
from redis.asyncio import Redis

__all__ = ["Batch", "Lane", "SessionPool", "measure_lanes", "measure_operation"]


@dataclass(frozen=True)
class Batch:
    """How many calls one timed batch makes: ``workers`` tasks, ``calls`` each."""

    workers: int
    calls: int

    @property
    def total(self) -> int:
        return self.workers * self.calls


class SessionPool:
    """The long-lived sessions each worker uses, per contender, and their raw state.

    ``prefill`` is the number of items every worker's list is restored to before each
    batch; lists are filled with raw ``RPUSH`` of the same compact JSON every
    contender stores, so a capped contender can hold more than its cap here.
    """

    def __init__(
        self,
        client: Redis,
        contenders: Sequence[Contender],
        items: list[Any],
        *,
        prefill: int = PREFILL,
        id_prefix: str = "w",
    ) -> None:
        self.client = client
        self.contenders = contenders
        self.items = items
        self.prefill = prefill
        self.id_prefix = id_prefix
        self._sessions: dict[tuple[str, int], Any] = {}
        self._encoded = [
            json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() for item in items
        ]

    def session(self, contender: Contender, worker: int) -> Any:
        key = (contender.name, worker)
        if key not in self._sessions:
            self._sessions[key] = contender.session(self.client, f"{self.id_prefix}{worker}")
        return self._sessions[key]

    async def restore(self, contender: Contender, workers: int) -> None:
        """Bring every worker's list back to exactly ``prefill`` items."""
        keys = [contender.list_key(f"{self.id_prefix}{worker}") for worker in range(workers)]
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.ltrim(key, -self.prefill, -1)
                pipe.llen(key)
            replies = await pipe.execute()
        async with self.client.pipeline(transaction=False) as pipe:
            for key, length in zip(keys, replies[1::2], strict=True):
                missing = self.prefill - int(length)
                while missing > 0:
                    chunk = min(missing, len(self._encoded))
                    pipe.rpush(key, *self._encoded[:chunk])
                    missing -= chunk
            await pipe.execute()

    async def fresh_sessions(self, contender: Contender, tag: str, count: int) -> list[Any]:
        """``count`` new sessions holding ``CLEAR_PREFILL`` items, written by the contender."""
        sessions = [contender.session(self.client, f"{tag}-{index}") for index in range(count)]
        items = self.items[:CLEAR_PREFILL]
        for start in range(0, count, 64):
            await asyncio.gather(*(s.add_items(items) for s in sessions[start : start + 64]))
        return sessions

    async def drop(self) -> None:
        """Delete every key: the server is the benchmark's own, and phases start empty."""
        await self.client.flushall()
        self._sessions.clear()


async def _worker(
    operation: Operation, sessions: Sequence[Any], calls: int, items: list[Any], offset: int
) -> None:
    # Every call writes different items, as a conversation would; reads ignore them.
    window = len(items) - 10
    for call in range(calls):
        start = (offset + call * 7) % window
        await operation.call(sessions[call % len(sessions)], items[start : start + 10])


async def _timed_batch(
    operation: Operation, pool: SessionPool, contender: Contender, batch: Batch, tag: str
) -> float:
    if operation.kind == "clear":
        fresh = await pool.fresh_sessions(contender, tag, batch.total)
        per_worker = [fresh[w * batch.calls : (w + 1) * batch.calls] for w in range(batch.workers)]
    else:
        await pool.restore(contender, batch.workers)
        per_worker = [[pool.session(contender, w)] for w in range(batch.workers)]
    if contender.setup is not None:
        # Metrics of the set-up's own writes are queued: fold them before the clock
        # starts, and fold the batch's own before it stops, so a batch pays for
        # exactly its own calls.
        contender.setup.fold_metrics()
    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _worker(operation, sessions, batch.calls, pool.items, worker * 13)
            for worker, sessions in enumerate(per_worker)
        )
    )
    if contender.setup is not None:
        contender.setup.fold_metrics()
    elapsed = time.perf_counter() - started
    if contender.setup is not None:
        # Hand queued spans to the exporter now, outside the timing, so its thread
        # does not run during the next contender's batch.
        contender.setup.settle()
    return elapsed / batch.total


@dataclass(frozen=True)
class Lane:
    """One timed series: a contender's sessions in a pool, under a label."""

    label: Any
    pool: SessionPool
    contender: Contender


async def measure_lanes(
    operation: Operation, lanes: Sequence[Lane], batch: Batch, rounds: int, rng: random.Random
) -> dict[Any, list[float]]:
    """Seconds per call for each lane, one sample per round (after one warm-up round)."""
    samples: dict[Any, list[float]] = {lane.label: [] for lane in lanes}
    for round_index in range(-1, rounds):
        order = list(lanes)
        rng.shuffle(order)
        for lane in order:
            tag = f"fresh-{batch.workers}-{round_index}"
            seconds = await _timed_batch(operation, lane.pool, lane.contender, batch, tag)
            if round_index >= 0:
                samples[lane.label].append(seconds)
    return samples


async def measure_operation(
    operation: Operation, pool: SessionPool, batch: Batch, rounds: int, rng: random.Random
) -> dict[str, list[float]]:
    """Seconds per call for each contender of ``pool``, one sample per round."""
    lanes = [Lane(contender.name, pool, contender) for contender in pool.contenders]
    return await measure_lanes(operation, lanes, batch, rounds, rng)
