"""Exactly one round trip per operation, counted on the real connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession, collect_store_events
from support import (
    Cluster,
    RoundTripCounter,
    counting_cluster,
    counting_pool,
)


@pytest.fixture
async def counted(
    request: pytest.FixtureRequest, backend: str
) -> AsyncIterator[tuple[Any, RoundTripCounter]]:
    counter = RoundTripCounter()
    if backend == "cluster":
        running: Cluster = request.getfixturevalue("cluster")
        host, port = running.startup_nodes[0]
        client: Any = counting_cluster(host, port, counter)
    else:
        server = request.getfixturevalue(f"{backend}_server")
        client = Redis(connection_pool=counting_pool(server.host, server.port, counter))
    try:
        yield client, counter
    finally:
        await client.aclose()


async def _warm(session: RedisSession) -> None:
    # First use on a server may load the scripts (NOSCRIPT -> EVAL) and, on a
    # cluster, discover the slot map; neither recurs.
    await session.add_items([{"warm": True}])
    await session.get_items()
    await session.pop_item()
    await session.clear_session()


@pytest.mark.parametrize(
    "operation",
    ["add_1", "add_10", "get_all", "get_limit", "pop", "clear", "get_empty", "pop_empty"],
)
async def test_each_operation_is_one_round_trip(
    counted: tuple[Any, RoundTripCounter], session_id: str, operation: str
) -> None:
    client, counter = counted
    session = RedisSession(session_id, client, ttl=300, max_items=50)
    await _warm(session)
    if not operation.endswith("empty"):
        await session.add_items([{"n": n} for n in range(60)])
    calls = {
        "add_1": lambda: session.add_items([{"n": 1}]),
        "add_10": lambda: session.add_items([{"n": n} for n in range(10)]),
        "get_all": lambda: session.get_items(),
        "get_limit": lambda: session.get_items(20),
        "pop": lambda: session.pop_item(),
        "clear": lambda: session.clear_session(),
        "get_empty": lambda: session.get_items(5),
        "pop_empty": lambda: session.pop_item(),
    }
    counter.reset()
    with collect_store_events() as events:
        await calls[operation]()
    assert counter.round_trips == 1, counter.commands
    assert counter.commands[0] == ["EVALSHA"]
    assert events[0].round_trips == 1


@pytest.mark.parametrize("limit", [None, 20])
async def test_a_read_soon_after_one_that_rearmed_is_one_lrange(
    counted: tuple[Any, RoundTripCounter], session_id: str, limit: int | None
) -> None:
    client, counter = counted
    session = RedisSession(session_id, client, ttl=300)
    await _warm(session)
    await session.add_items([{"n": n} for n in range(30)])
    await session.get_items(limit)  # re-arms the TTL
    counter.reset()
    with collect_store_events() as events:
        await session.get_items(limit)
    assert counter.commands == [["LRANGE"]]
    assert (events[0].round_trips, events[0].ttl_refreshed) == (1, False)


@pytest.mark.parametrize("limit", [None, 20])
async def test_a_read_that_rearms_the_ttl_is_one_round_trip(
    counted: tuple[Any, RoundTripCounter], session_id: str, limit: int | None
) -> None:
    client, counter = counted
    session = RedisSession(session_id, client, ttl=300, read_refresh_interval=0)
    await _warm(session)
    await session.add_items([{"n": n} for n in range(30)])
    counter.reset()
    with collect_store_events() as events:
        await session.get_items(limit)
    assert counter.round_trips == 1, counter.commands
    assert counter.commands[0] == ["EVALSHA"]
    assert (events[0].round_trips, events[0].ttl_refreshed) == (1, True)


async def test_script_is_reloaded_after_a_flush_with_one_extra_round_trip(
    counted: tuple[Any, RoundTripCounter], session_id: str
) -> None:
    client, counter = counted
    session = RedisSession(session_id, client, ttl=60)
    await _warm(session)
    await client.script_flush()
    counter.reset()
    await session.add_items([{"n": 1}])
    assert [c[0] for c in counter.commands][-2:] == ["EVALSHA", "EVAL"]
    counter.reset()
    await session.add_items([{"n": 2}])
    assert counter.round_trips == 1
    assert await session.get_items() == [{"n": 1}, {"n": 2}]
