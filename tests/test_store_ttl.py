"""TTL: set in the same atomic step as every write, sliding, never a key without it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from conftest import make_client
from openai_agents_session import RedisSession, collect_store_events


async def test_write_sets_ttl_on_list_and_operation_log(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=120)
    with collect_store_events() as events:
        await session.add_items([{"n": 1}])
    assert 110 <= await client.ttl(session.key) <= 120
    assert 110 <= await client.ttl(session.operation_log_key) <= 120
    assert events[0].ttl_refreshed


async def test_pops_always_refresh_ttl(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=100)
    await session.add_items([{"n": 1}, {"n": 2}])
    await client.expire(session.key, 5)
    with collect_store_events() as events:
        await session.pop_item()
    assert await client.ttl(session.key) > 90
    assert events[0].ttl_refreshed


async def test_a_read_refreshes_ttl_when_this_session_has_not_lately(
    client: Any, session_id: str
) -> None:
    writer = RedisSession(session_id, client, ttl=100)
    await writer.add_items([{"n": 1}, {"n": 2}])
    await client.expire(writer.key, 5)
    # A session object new to the key has re-armed nothing yet: its first read does.
    reader = RedisSession(session_id, client, ttl=100)
    with collect_store_events() as events:
        await reader.get_items()
        await reader.get_items()
    assert await client.ttl(writer.key) > 90
    assert [event.ttl_refreshed for event in events] == [True, False]


async def test_a_new_session_object_per_request_reads_without_re_arming_again(
    client: Any, session_id: str, request: pytest.FixtureRequest, backend: str
) -> None:
    await RedisSession(session_id, client, ttl=100).add_items([{"n": 1}])
    with collect_store_events() as events:
        for _ in range(3):  # one session object per request, as web handlers build them
            await RedisSession(session_id, client, ttl=100).get_items()
    assert [event.ttl_refreshed for event in events] == [True, False, False]
    # Another client (maybe another server) keeps its own times: its first read re-arms.
    other = make_client(request, backend)
    try:
        with collect_store_events() as events:
            await RedisSession(session_id, other, ttl=100).get_items()
        assert events[0].ttl_refreshed
    finally:
        await other.aclose()


async def test_reads_refresh_ttl_at_most_once_per_refresh_interval(
    client: Any, session_id: str
) -> None:
    session = RedisSession(session_id, client, ttl=100, read_refresh_interval=0.2)
    await session.add_items([{"n": 1}])
    with collect_store_events() as events:
        await session.get_items()  # the first read re-arms, even right after a write
    assert events[0].ttl_refreshed
    await client.expire(session.key, 50)
    with collect_store_events() as events:
        await session.get_items()  # a read re-armed the TTL under 0.2 s ago
    assert not events[0].ttl_refreshed
    assert await client.ttl(session.key) <= 50
    await asyncio.sleep(0.25)
    with collect_store_events() as events:
        await session.get_items()
    assert events[0].ttl_refreshed
    assert await client.ttl(session.key) > 90


async def test_refresh_interval_zero_refreshes_on_every_read(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=100, read_refresh_interval=0)
    await session.add_items([{"n": 1}, {"n": 2}])
    for limit in (None, 1):
        await client.expire(session.key, 5)
        with collect_store_events() as events:
            await session.get_items(limit)
        assert await client.ttl(session.key) > 90
        assert events[0].ttl_refreshed


def test_default_refresh_interval_is_a_hundredth_of_the_ttl(client: Any) -> None:
    assert RedisSession("s", client, ttl=3600).read_refresh_interval == 36.0
    assert RedisSession("s", client, ttl=3600, read_refresh_interval=5).read_refresh_interval == 5


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (float("nan"), ValueError), ("1", TypeError), (61, ValueError)],
)
def test_a_bad_refresh_interval_is_refused_by_name(client: Any, value: Any, error: type) -> None:
    with pytest.raises(error, match="read_refresh_interval"):
        RedisSession("s", client, ttl=60, read_refresh_interval=value)


async def test_write_only_refresh_leaves_ttl_alone_on_reads(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=100, refresh_ttl_on_read=False)
    await session.add_items([{"n": 1}, {"n": 2}])
    await client.expire(session.key, 5)
    with collect_store_events() as events:
        await session.get_items()
        await session.pop_item()
    assert await client.ttl(session.key) <= 5
    assert not any(event.ttl_refreshed for event in events)
    await session.add_items([{"n": 3}])
    assert await client.ttl(session.key) > 90


async def test_no_ttl_means_the_key_persists(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    with collect_store_events() as events:
        await session.add_items([{"n": 1}])
    assert await client.ttl(session.key) == -1
    assert not events[0].ttl_refreshed


async def test_reading_a_missing_session_creates_nothing(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=100)
    with collect_store_events() as events:
        await session.get_items()
    assert await client.exists(session.key) == 0
    assert not events[0].ttl_refreshed


async def test_concurrent_writers_never_leave_a_key_without_ttl(
    valkey_client: Redis, session_id: str
) -> None:
    """8 writers append while a poller checks TTL continuously: never -1."""
    session = RedisSession(session_id, valkey_client, ttl=30, max_items=20)
    stop = asyncio.Event()
    observed: list[int] = []

    async def writer(number: int) -> None:
        # Keep writing until the poller has seen enough, bounded in count.
        for batch in range(3000):
            if len(observed) >= 400:
                return
            await session.add_items([{"writer": number, "batch": batch}])
            if batch % 10 == 9:
                await session.clear_session()

    async def poller() -> None:
        poll_client = Redis(
            host=valkey_client.connection_pool.connection_kwargs["host"],
            port=valkey_client.connection_pool.connection_kwargs["port"],
        )
        try:
            while not stop.is_set():
                observed.append(await poll_client.ttl(session.key))
        finally:
            await poll_client.aclose()

    polling = asyncio.create_task(poller())
    await asyncio.gather(*(writer(n) for n in range(8)))
    stop.set()
    await polling
    assert len(observed) >= 400
    assert any(ttl > 0 for ttl in observed), "the poller never saw the key"
    assert -1 not in observed, "a key existed without its TTL"
