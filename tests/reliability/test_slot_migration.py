"""Sessions whose cluster slot migrates: stalled half-way for two seconds, and moved
by ``redis-cli --cluster reshard`` under load; on Valkey and Redis 7.0.

While a slot migrates, the keys of one session can be on either node or split
between them. Reads and clears touch the list alone and go wherever it is; writes
and pops need the list and its log on one node, and wait (``migration_wait``)
while they are split or not yet created.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import RedisCluster

from openai_agents_session import RedisSession
from openai_agents_session.store.keys import hash_slot
from support import Cluster, SlotMigration, redis_binary

from .kit import Row

STALL = 2.0


@pytest.fixture(scope="module", params=["valkey", "redis7"])
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[str, Cluster]]:
    binary = None
    if request.param == "redis7":
        binary = redis_binary()
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server (Redis 7.0) is required in CI")
            pytest.skip("redis-server not installed (make system-deps installs it)")
    with Cluster(binary) as cluster:
        yield ("Valkey 9.1" if binary is None else "Redis 7.0"), cluster


def ids_in_slot(slot: int, count: int, prefix: str = "openai_agents_session") -> list[str]:
    run = uuid.uuid4().hex[:6]
    found: list[str] = []
    number = 0
    while len(found) < count:
        candidate = f"mig-{run}-{number}"
        if hash_slot(f"{prefix}:{candidate}") == slot:
            found.append(candidate)
        number += 1
    return found


async def test_a_stalled_migration_is_invisible_to_callers(
    servers: tuple[str, Cluster], record_row: Callable[[Row], None]
) -> None:
    server_name, cluster = servers
    slot = 100 + len(server_name)
    host, port = cluster.startup_nodes[0]
    client: Any = RedisCluster(host=host, port=port)
    names = ids_in_slot(slot, 7)
    a, b, c, d, e, f, g = (RedisSession(n, client, ttl=600) for n in names)
    three = [{"n": 0}, {"n": 1}, {"n": 2}]
    try:
        for session in (a, b, c, f, g):
            await session.add_items(three)
        await e.add_items([{"n": 0}])
        target = next(node for node in cluster.primaries if node is not cluster.owner_of(slot))
        migration = SlotMigration(cluster, slot, target)
        migration.begin()
        migration.move([b.key])  # split: list on the target, log on the source
        migration.move([c.key, c.operation_log_key])  # both moved
        migration.move([g.operation_log_key])  # split the other way

        async def read(session: RedisSession) -> Any:
            return await session.get_items()

        async def clear(session: RedisSession) -> None:
            await session.clear_session()

        async def add_then_pop(session: RedisSession, pop: bool) -> Any:
            await session.add_items([{"n": 3}])
            return await session.pop_item() if pop else None

        quick = [
            asyncio.create_task(read(a)),
            asyncio.create_task(read(b)),
            asyncio.create_task(read(c)),
            asyncio.create_task(clear(f)),
            asyncio.create_task(clear(g)),
            asyncio.create_task(e.pop_item()),  # empties a session whose slot migrates
        ]
        waiting = [
            asyncio.create_task(add_then_pop(a, pop=True)),
            asyncio.create_task(add_then_pop(b, pop=False)),
            asyncio.create_task(add_then_pop(c, pop=True)),
            asyncio.create_task(d.add_items([{"n": 0}])),
        ]
        stall_ends = asyncio.get_running_loop().time() + STALL
        await asyncio.wait(quick, timeout=STALL)
        stalled_done = [task.done() and task.exception() is None for task in quick]
        await asyncio.sleep(max(0.0, stall_ends - asyncio.get_running_loop().time()))
        waited = sum(not task.done() for task in waiting)
        migration.finish()  # the stall is over
        results = await asyncio.gather(*quick, *waiting, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        admin = cluster.owner_of(slot).client()

        def stored(session: RedisSession) -> list[Any]:
            return [json.loads(raw) for raw in admin.lrange(session.key, 0, -1)]

        expected = {a: three, b: [*three, {"n": 3}], c: three, d: [{"n": 0}], e: [], f: [], g: []}
        wrong = [s.session_id for s, items in expected.items() if stored(s) != items]
        popped = results[5], results[6], results[8]
    finally:
        await client.aclose()
    record_row(
        Row(
            f"Cluster: slot migration stalled {STALL:g}s ({server_name})",
            "slot MIGRATING/IMPORTING with keys on either node or split between them; "
            "3 reads, 2 clears, 1 pop emptying a session, 4 writes and 2 pops started, "
            "migration completed 2s later",
            12,
            12 - len(failures),
            len(wrong),
            0,
            len(failures),
            0,
            f"done during the stall: {sum(stalled_done)} of 6 reads, clears and pops; "
            f"{waited} of 4 writes waited for the migration to complete",
        )
    )
    assert not failures, failures
    assert all(stalled_done), "a read, clear or pop waited for the migration"
    assert popped == ({"n": 0}, {"n": 3}, {"n": 3})
    assert not wrong, f"sessions not as expected: {wrong}"


async def test_the_wait_for_a_migration_is_bounded_by_migration_wait(
    servers: tuple[str, Cluster],
) -> None:
    _, cluster = servers
    slot = 300
    host, port = cluster.startup_nodes[0]
    client: Any = RedisCluster(host=host, port=port)
    (name,) = ids_in_slot(slot, 1)
    impatient = RedisSession(name, client, ttl=600, migration_wait=0)
    patient = RedisSession(name, client, ttl=600)
    target = next(node for node in cluster.primaries if node is not cluster.owner_of(slot))
    migration = SlotMigration(cluster, slot, target)
    migration.begin()
    try:
        with pytest.raises(Exception) as raised:  # a new session's keys cannot be created
            await impatient.add_items([{"n": 0}])
        assert "TRYAGAIN" in repr(raised.value) or "TTL exhausted" in str(raised.value)
        waiting = asyncio.create_task(patient.add_items([{"n": 1}]))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        migration.finish()
        await waiting
        assert await patient.get_items() == [{"n": 1}]  # the refused write left nothing
    finally:
        await client.aclose()
