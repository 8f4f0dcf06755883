"""Byte limits that protect Redis, and the opt-in wait for replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis, RedisCluster

from openai_agents_session import (
    Durability,
    DurabilityError,
    ItemTooLargeError,
    RedisSession,
    collect_store_events,
)
from support import Cluster, RoundTripCounter, ServerProcess, counting_pool


async def test_item_over_the_limit_is_rejected_naming_it(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, max_item_bytes=1000)
    with pytest.raises(
        ItemTooLargeError, match=r"item 1 of 2 is 1014 bytes as JSON, over max_item_bytes=1000"
    ):
        await session.add_items([{"ok": 1}, {"content": "x" * 1000}])
    assert await valkey_client.exists(session.key) == 0


async def test_default_item_limit_stops_a_runaway_tool_output(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client)
    with pytest.raises(ItemTooLargeError, match="max_item_bytes=4194304"):
        await session.add_items([{"output": "x" * (5 * 1024 * 1024)}])
    assert await valkey_client.exists(session.key) == 0


async def test_batch_over_the_limit_writes_nothing(valkey_client: Redis, session_id: str) -> None:
    session = RedisSession(session_id, valkey_client, max_batch_bytes=100)
    with pytest.raises(ItemTooLargeError, match="over max_batch_bytes=100 by item 3"):
        await session.add_items([{"n": "x" * 20} for _ in range(5)])
    assert await valkey_client.exists(session.key) == 0


async def test_limits_can_be_switched_off(valkey_client: Redis, session_id: str) -> None:
    session = RedisSession(session_id, valkey_client, max_item_bytes=None, max_batch_bytes=None)
    await session.add_items([{"output": "x" * (5 * 1024 * 1024)}])
    assert len((await session.get_items())[0]["output"]) == 5 * 1024 * 1024
    await session.clear_session()


@pytest.mark.parametrize(
    ("session_id", "error"),
    [("user-\ud800", ValueError), (b"user-1", TypeError)],
)
def test_session_id_must_be_valid_unicode_text(session_id: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="session_id must be"):
        RedisSession(session_id, Redis())  # type: ignore[arg-type]


async def test_clear_leaves_only_the_expiring_operation_log_and_no_content(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=60)
    await session.add_items([{"n": 1}, {"n": 2}])
    await session.clear_session()
    log, popped = session.operation_log_key, session.popped_items_key
    assert sorted(await valkey_client.keys(f"*{session_id}*")) == sorted([log, popped])
    assert await valkey_client.type(log) == b"zset"  # random ids; no item was popped
    assert all(b"\n" not in member for member in await valkey_client.zrange(log, 0, -1))
    assert set(await valkey_client.hkeys(popped)) == {b"#head", b"#next", b"#bytes"}
    for key in (log, popped):
        assert 0 < await valkey_client.pttl(key) <= 120_000


# ---------------------------------------------------------------- durability


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with ServerProcess() as primary:
        replica = ServerProcess(config={"replicaof": f"127.0.0.1 {primary.port}"})
        with replica:
            for _ in range(200):
                if replica.client().info("replication").get("master_link_status") == "up":
                    break
                import time

                time.sleep(0.05)
            yield primary, replica


@pytest.fixture
async def primary_client(
    replicated: tuple[ServerProcess, ServerProcess],
) -> AsyncIterator[tuple[Redis, RoundTripCounter]]:
    primary, _ = replicated
    counter = RoundTripCounter()
    client = Redis(connection_pool=counting_pool(primary.host, primary.port, counter))
    try:
        yield client, counter
    finally:
        await client.aclose()


async def test_durable_write_waits_for_the_replica_in_one_round_trip(
    primary_client: tuple[Redis, RoundTripCounter],
    replicated: tuple[ServerProcess, ServerProcess],
    session_id: str,
) -> None:
    client, counter = primary_client
    session = RedisSession(session_id, client, ttl=60, durability=Durability(replicas=1))
    await session.add_items([{"warm": 1}])
    await session.pop_item()  # both scripts now cached on the server
    counter.reset()
    with collect_store_events() as events:
        await session.add_items([{"n": 1}, {"n": 2}])
        # WAIT returned: the replica has the write.
        assert replicated[1].client().llen(session.key) == 2
        await session.pop_item()
    assert counter.round_trips == 2
    assert [names for names in counter.commands] == [["EVALSHA", "WAIT"], ["EVALSHA", "WAIT"]]
    assert events[0].round_trips == 1


async def test_unconfirmed_write_raises_but_is_applied_on_the_primary(
    primary_client: tuple[Redis, RoundTripCounter], session_id: str
) -> None:
    client, _ = primary_client
    session = RedisSession(session_id, client, durability=Durability(replicas=2, timeout_ms=100))
    with pytest.raises(DurabilityError, match="1 of 2 replicas confirmed") as raised:
        await session.add_items([{"n": 1}])
    assert (raised.value.required, raised.value.confirmed) == (2, 1)
    assert await session.get_items() == [{"n": 1}]


async def test_waitaof_durability_on_an_aof_server(session_id: str) -> None:
    with ServerProcess(config={"appendonly": "yes", "appendfsync": "everysec"}) as server:
        client = Redis(host=server.host, port=server.port)
        try:
            session = RedisSession(session_id, client, durability=Durability(replicas=0, aof=True))
            await session.add_items([{"n": 1}])
            assert await session.get_items() == [{"n": 1}]
        finally:
            await client.aclose()


def test_durability_is_refused_on_cluster_clients(cluster: Cluster) -> None:
    host, port = cluster.startup_nodes[0]
    with pytest.raises(TypeError, match="durability is not available with RedisCluster"):
        RedisSession("s", RedisCluster(host=host, port=port), durability=Durability())


@pytest.mark.parametrize(
    ("options", "message"),
    [({"replicas": 0}, "replicas must be a positive int"), ({"timeout_ms": 0}, "timeout_ms")],
)
def test_bad_durability_is_rejected(options: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Durability(**options)
