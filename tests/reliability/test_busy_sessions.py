"""One busy conversation: many tasks on one session id, and big items popped in a loop.

The operation log never refuses work; it is bounded by count (``MAX_IDS``) and its
popped items by bytes (``MAX_POPPED_BYTES``). These runs push one session far past
both bounds on a healthy server and check that every call succeeds, every item is
stored or returned exactly once, and the companion keys stay within their bounds.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from openai_agents_session.events import StoreEvent
from openai_agents_session.store.oplog import MAX_IDS, MAX_POPPED_BYTES, MAX_POPPED_ITEMS
from support import ServerProcess

from .kit import SCALE, Row, keys_without_ttl

TASKS = 36
SHARING_TASKS = TASKS // 2
ADDS = 40_000 * SCALE
POPS = 10_000 * SCALE
BIG_ITEM_BYTES = 256 * 1024
BIG_CYCLES = 300 * SCALE
SERVERS = {"valkey": "Valkey 9.1", "redis7": "Redis 7.0"}


@dataclass
class Tally:
    """What the store reported through its observer."""

    log_evictions: int = 0
    replayed: int = 0

    def on_store_event(self, event: StoreEvent) -> None:
        self.log_evictions += event.log_evictions
        self.replayed += event.replayed


@dataclass
class Server:
    name: str
    process: ServerProcess


@pytest.fixture(params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Server:
    """Valkey 9.1, then Redis 7.0 (skipped where redis-server is not installed)."""
    return Server(SERVERS[request.param], request.getfixturevalue(f"{request.param}_server"))


@pytest.fixture
async def server_client(server: Server) -> AsyncIterator[Redis]:
    client = Redis(host=server.process.host, port=server.process.port)
    try:
        yield client
    finally:
        await client.aclose()


async def popped_items(client: Redis, key: bytes) -> dict[str, int]:
    """The popped-items hash, measured: item entries, ring entries, their bytes."""
    fields = await client.hkeys(key)
    items = [name for name in fields if not name.startswith(b"#")]
    ring = [name for name in fields if name.startswith(b"#") and name[1:].isdigit()]
    sizes = [await client.hstrlen(key, name) for name in items]
    kept_bytes = await client.hget(key, "#bytes")
    memory = await client.memory_usage(key, samples=0) if fields else 0
    return {
        "fields": len(fields),
        "items": len(items),
        "ring": len(ring),
        "item_bytes": sum(sizes),
        "largest": max(sizes, default=0),
        "bookkept_bytes": int(kept_bytes or 0),
        "memory": int(memory or 0),
    }


def message(number: int) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": f"message {number}"}


async def test_a_hot_session_loses_and_duplicates_nothing_and_refuses_nothing(
    server: Server,
    server_client: Redis,
    record_row: Callable[[Row], None],
) -> None:
    session_id = f"hot-{uuid.uuid4().hex[:8]}"
    tally = Tally()
    shared = RedisSession(session_id, server_client, ttl=600, observer=tally)
    # Both ways an app holds a session: half the tasks share one session object,
    # the other half build their own for the same session id.
    sessions = [
        shared
        if index < SHARING_TASKS
        else RedisSession(session_id, server_client, ttl=600, observer=tally)
        for index in range(TASKS)
    ]
    # Adds and pops interleaved at random; each task runs every TASKS-th call.
    schedule: list[int | None] = [*range(ADDS), *([None] * POPS)]
    random.Random(7).shuffle(schedule)
    returned: list[Any] = []
    errors: Counter[str] = Counter()

    async def task(index: int) -> None:
        session = sessions[index]
        for number in schedule[index::TASKS]:
            try:
                if number is None:
                    item = await session.pop_item()
                    if item is not None:
                        returned.append(item)
                else:
                    await session.add_items([message(number)])
            except Exception as error:
                errors[type(error).__name__] += 1

    started = time.perf_counter()
    await asyncio.gather(*(task(index) for index in range(TASKS)))
    elapsed = time.perf_counter() - started

    stored = [json.loads(raw) for raw in await server_client.lrange(shared.key, 0, -1)]
    seen = Counter(item["content"] for item in [*stored, *returned])
    added = {message(number)["content"] for number in range(ADDS)}
    lost = len(added - set(seen))
    duplicated = sum(count - 1 for count in seen.values() if count > 1)
    strangers = len(set(seen) - added)
    log_ids = await server_client.zcard(shared.operation_log_key)
    kept = await popped_items(server_client, shared.popped_items_key)
    no_ttl = keys_without_ttl(server.process.client(), f"*{session_id}*")
    operations = ADDS + POPS
    # Every call is inside the window: whatever left the log left it by count.
    ids_evicted = operations - log_ids
    record_row(
        Row(
            f"Operation window: one hot session, {TASKS} tasks, {server.name}",
            f"{ADDS:,} add_items and {POPS:,} pop_item (one item each) on one session id "
            f"from {TASKS} tasks sharing one client ({SHARING_TASKS} share one session "
            f"object, the others have one each), in random order; no fault",
            operations,
            operations - sum(errors.values()),
            lost,
            duplicated,
            0,
            len(no_ttl),
            f"`log_evictions` {tally.log_evictions:,}: {ids_evicted:,} ids past the "
            f"{MAX_IDS:,}-id bound, {tally.log_evictions - ids_evicted:,} popped items past "
            f"the {MAX_POPPED_ITEMS}-item bound; {operations / elapsed:,.0f} ops/s measured",
        )
    )
    assert not errors, f"a busy session refused or failed calls: {dict(errors)}"
    assert (lost, duplicated, strangers) == (0, 0, 0)
    assert len(returned) == len({item["content"] for item in returned})
    assert len(stored) == ADDS - len(returned)
    assert tally.replayed == 0, "a call of a healthy run was taken for a copy of another"
    assert log_ids == min(MAX_IDS, operations)
    assert kept["items"] <= MAX_POPPED_ITEMS
    assert kept["ring"] == kept["items"] and kept["fields"] == 2 * kept["items"] + 3
    assert kept["bookkept_bytes"] == kept["item_bytes"]
    assert no_ttl == []


def big_item(number: int) -> dict[str, Any]:
    head = {"type": "message", "role": "assistant", "n": number, "content": ""}
    filler = BIG_ITEM_BYTES - len(json.dumps(head, separators=(",", ":")))
    return {**head, "content": f"{number:08d}".ljust(filler, "x")}


async def test_big_items_popped_in_a_loop_keep_the_companion_keys_bounded(
    server: Server,
    server_client: Redis,
    record_row: Callable[[Row], None],
) -> None:
    tally = Tally()
    session = RedisSession(f"big-{uuid.uuid4().hex[:8]}", server_client, ttl=600, observer=tally)
    wrong = 0
    for number in range(BIG_CYCLES):
        item = big_item(number)
        await session.add_items([item])
        wrong += await session.pop_item() != item
    item_bytes = len(json.dumps(big_item(0), separators=(",", ":")))
    kept = await popped_items(server_client, session.popped_items_key)
    log_ids = await server_client.zcard(session.operation_log_key)
    log_memory = await server_client.memory_usage(session.operation_log_key, samples=0)
    no_ttl = keys_without_ttl(server.process.client(), f"*{session.session_id}*")
    record_row(
        Row(
            f"Operation window: {BIG_CYCLES} add+pop cycles of a 256 KiB item, {server.name}",
            f"one session: add_items of a {item_bytes:,}-byte item, then pop_item, "
            f"{BIG_CYCLES} times; no fault",
            2 * BIG_CYCLES,
            2 * BIG_CYCLES,
            wrong,
            0,
            0,
            len(no_ttl),
            f"popped items kept: {kept['items']} ({kept['item_bytes']:,} bytes of items, "
            f"`MEMORY USAGE` {kept['memory']:,} bytes; budget {MAX_POPPED_BYTES:,}); "
            f"log: {log_ids} ids, `MEMORY USAGE` {log_memory:,} bytes; "
            f"`log_evictions` {tally.log_evictions}",
        )
    )
    assert wrong == 0
    assert await server_client.exists(session.key) == 0
    assert kept["item_bytes"] <= MAX_POPPED_BYTES + item_bytes
    assert kept["largest"] == item_bytes
    assert kept["bookkept_bytes"] == kept["item_bytes"]
    assert kept["ring"] == kept["items"] and kept["fields"] == 2 * kept["items"] + 3
    # The allocator rounds each 256 KiB string up to its size class (at most 25 % more).
    assert kept["memory"] <= 1.25 * (MAX_POPPED_BYTES + item_bytes) + 64 * 1024
    assert log_ids <= 2 * BIG_CYCLES
    assert no_ttl == []
