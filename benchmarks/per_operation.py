"""Each store operation on its own, against the floor and the SDK, with both reply parsers.

Contenders: ``floor`` (encode + ``RPUSH``, ``LRANGE`` + decode...: see ``sessions``),
``ours`` (``RedisSession(ttl=3600)``, defaults otherwise) and ``sdk``
(``agents.extensions.memory.RedisSession(ttl=3600)``), each once with redis-py's
pure-Python reply parser and once with hiredis: six lanes, interleaved.

State: every session holds ``PREFILL`` SDK-shaped items before each batch of reads,
writes or pops (restored with raw ``RPUSH`` outside the timing). A worker's session
lives for the whole run, as a busy conversation does: ours keeps its operation log
from batch to batch (bounded by time and count, it never refuses a write);
``clear_session`` deletes fresh sessions of 10 items written by the contender itself.
At concurrency 64, 64 tasks (one session each) share one client and its pool, and the
time per call is the batch's wall time divided by its calls (inverse throughput).
Where the time goes: each batch also records, per call, the client thread's CPU time
and the server's: its main thread's (``INFO cpu``) and the part spent in commands
(``INFO commandstats``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.extensions.memory import RedisSession as SdkRedisSession
from redis.asyncio import Redis
from servers import RoundTripCounter, counting_pool
from sessions import FloorSession, compact, server_cpu_micros
from timing import Lane, interleave, paired_ratio, summary

from openai_agents_session import RedisSession

__all__ = ["CONTENDERS", "OPERATIONS", "count_round_trips", "measure_operations"]

PREFILL = 1000
CLEAR_PREFILL = 10
TTL = 3600
FLOOR, OURS, SDK = "floor", "ours", "sdk"
CONTENDERS = (FLOOR, OURS, SDK)


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # "read", "write", "pop" or "clear": what state a batch needs first
    call: Callable[[Any, list[Any]], Awaitable[Any]]


async def _add_one(session: Any, items: list[Any]) -> Any:
    return await session.add_items(items[:1])


async def _add_ten(session: Any, items: list[Any]) -> Any:
    return await session.add_items(items[:10])


async def _get_twenty(session: Any, items: list[Any]) -> Any:
    return await session.get_items(limit=20)


async def _get_all(session: Any, items: list[Any]) -> Any:
    return await session.get_items()


async def _pop(session: Any, items: list[Any]) -> Any:
    return await session.pop_item()


async def _clear(session: Any, items: list[Any]) -> Any:
    return await session.clear_session()


OPERATIONS = (
    Operation("add_items(1)", "write", _add_one),
    Operation("add_items(10)", "write", _add_ten),
    Operation("get_items(limit=20)", "read", _get_twenty),
    Operation(f"get_items() of {PREFILL}", "read", _get_all),
    Operation("pop_item", "pop", _pop),
    Operation("clear_session", "clear", _clear),
)


def make_session(contender: str, client: Redis, session_id: str) -> Any:
    if contender == FLOOR:
        return FloorSession(client, f"op:floor:{session_id}")
    if contender == OURS:
        return RedisSession(session_id, client, key_prefix="op:ours", ttl=TTL)
    return SdkRedisSession(session_id, redis_client=client, key_prefix="op:sdk", ttl=TTL)


def list_key(contender: str, session_id: str) -> str:
    """Where a contender keeps a session's items (documented layouts of each store)."""
    return {
        FLOOR: f"op:floor:{session_id}",
        OURS: f"op:ours:{session_id}",
        SDK: f"op:sdk:{session_id}:messages",
    }[contender]


class _Workers:
    """The long-lived sessions of one lane (one per worker) and their restore."""

    def __init__(self, contender: str, client: Redis, tag: str, items: list[Any]) -> None:
        self.contender = contender
        self.client = client
        self.tag = tag
        self.items = items
        self.encoded = [compact(item) for item in items]
        self.sessions: list[Any] = []

    def ids(self, workers: int) -> list[str]:
        return [f"{self.tag}-w{worker}" for worker in range(workers)]

    async def prepared(
        self, operation: Operation, workers: int, calls: int, batch: int
    ) -> list[list[Any]]:
        """Per worker, the sessions its calls run on, in the state the operation needs."""
        if operation.kind == "clear":
            ids = [f"{self.tag}-clear{batch}-{index}" for index in range(workers * calls)]
            fresh = [make_session(self.contender, self.client, sid) for sid in ids]
            for start in range(0, len(fresh), 64):
                chunk = fresh[start : start + 64]
                await asyncio.gather(*(s.add_items(self.items[:CLEAR_PREFILL]) for s in chunk))
            return [fresh[w * calls : (w + 1) * calls] for w in range(workers)]
        while len(self.sessions) < workers:
            sid = self.ids(workers)[len(self.sessions)]
            self.sessions.append(make_session(self.contender, self.client, sid))
        await self._restore([list_key(self.contender, sid) for sid in self.ids(workers)])
        return [[session] for session in self.sessions[:workers]]

    async def _restore(self, keys: Sequence[str]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.ltrim(key, -PREFILL, -1)
                pipe.llen(key)
            lengths = (await pipe.execute())[1::2]
        async with self.client.pipeline(transaction=False) as pipe:
            for key, length in zip(keys, lengths, strict=True):
                missing = PREFILL - int(length)
                while missing > 0:
                    chunk = min(missing, len(self.encoded))
                    pipe.rpush(key, *self.encoded[:chunk])
                    missing -= chunk
            await pipe.execute()


def _lane(
    operation: Operation,
    workers: _Workers,
    concurrency: int,
    calls: int,
    costs: dict[str, list[float]],
) -> Lane:
    """Wall µs per call; the client thread's and the server's CPU µs per call go to ``costs``."""
    batches = iter(range(10**9))
    items = workers.items
    window = len(items) - 10
    total = concurrency * calls

    async def worker(sessions: list[Any], offset: int) -> None:
        # Every call writes different items, as a conversation would; reads ignore them.
        for call in range(calls):
            start = (offset + call * 7) % window
            await operation.call(sessions[call % len(sessions)], items[start : start + 10])

    async def lane() -> float:
        per_worker = await workers.prepared(operation, concurrency, calls, next(batches))
        server_before = await server_cpu_micros(workers.client)
        cpu_started = time.thread_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(s, index * 13) for index, s in enumerate(per_worker)))
        wall = time.perf_counter() - started
        cpu = time.thread_time() - cpu_started
        server_after = await server_cpu_micros(workers.client)
        costs["client"].append(cpu / total * 1e6)
        costs["server"].append((server_after[0] - server_before[0]) / total)
        costs["in_commands"].append((server_after[1] - server_before[1]) / total)
        return wall / total * 1e6

    return lane


def _ratios(samples: dict[str, list[float]], parser: str) -> dict[str, Any]:
    def label(contender: str) -> str:
        return f"{contender} ({parser})"

    return {
        "ours_over_floor": paired_ratio(samples[label(OURS)], samples[label(FLOOR)]),
        "ours_over_sdk": paired_ratio(samples[label(OURS)], samples[label(SDK)]),
    }


async def measure_operations(
    clients: dict[str, Redis],
    items: list[Any],
    calls: dict[int, dict[str, int]],
    rounds: int,
    long_batch_rounds: int,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """µs per call of every (contender, parser) lane, per operation and concurrency.

    An operation with 0 calls is skipped; full reads at concurrency > 1 run
    ``long_batch_rounds`` rounds (64 reads of 1,000 items take most of a second).
    """
    admin = clients["python"]
    results = []
    for concurrency, per_operation in calls.items():
        lanes_state = {
            f"{contender} ({parser})": _Workers(contender, client, f"{contender}-{parser}", items)
            for contender in CONTENDERS
            for parser, client in clients.items()
        }
        for operation in OPERATIONS:
            count = per_operation[operation.name]
            long_batch = concurrency > 1 and operation.name.startswith("get_items() of")
            operation_rounds = long_batch_rounds if long_batch else rounds
            if count == 0 or operation_rounds == 0:
                continue
            costs: dict[str, dict[str, list[float]]] = {
                name: {"client": [], "server": [], "in_commands": []} for name in lanes_state
            }
            lanes = {
                name: _lane(operation, state, concurrency, count, costs[name])
                for name, state in lanes_state.items()
            }
            started = time.perf_counter()
            samples = await interleave(lanes, operation_rounds, rng)
            # The warm-up round's costs were recorded too: keep the measured rounds'.
            cpu = {
                name: {kind: summary(values[-operation_rounds:]) for kind, values in split.items()}
                for name, split in costs.items()
            }
            entry: dict[str, Any] = {
                "operation": operation.name,
                "concurrency": concurrency,
                "calls_per_batch": concurrency * count,
                "micros_per_call": {name: summary(values) for name, values in samples.items()},
                "cpu_micros_per_call": cpu,
                "ratios": {parser: _ratios(samples, parser) for parser in clients},
                "python_over_hiredis": {
                    contender: paired_ratio(
                        samples[f"{contender} (python)"], samples[f"{contender} (hiredis)"]
                    )
                    for contender in CONTENDERS
                    if "hiredis" in clients
                },
                "seconds": time.perf_counter() - started,
            }
            results.append(entry)
        await admin.flushdb()
    return results


async def count_round_trips(port: int, items: list[Any]) -> dict[str, dict[str, list[list[str]]]]:
    """Per contender and operation, the commands of each round trip of one warm call."""
    counter = RoundTripCounter()
    pool = counting_pool("127.0.0.1", port, counter)
    client = Redis(connection_pool=pool)
    results: dict[str, dict[str, list[list[str]]]] = {}
    try:
        for contender in CONTENDERS:
            results[contender] = {}
            for operation in OPERATIONS:
                for attempt in ("warm-up", "counted"):
                    session = make_session(contender, client, f"rt-{operation.kind}-{attempt}")
                    prefill = CLEAR_PREFILL if operation.kind == "clear" else 20
                    await session.add_items(items[:prefill])
                    counter.reset()
                    await operation.call(session, items[:10])
                    results[contender][operation.name] = [list(c) for c in counter.commands]
                    await session.clear_session()
    finally:
        await client.aclose()
        await pool.disconnect()
    return results
