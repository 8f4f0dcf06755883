"""Store events: the facts only the store knows, per operation."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from openai_agents_session import RedisSession, StoreEvent, collect_store_events
from openai_agents_session.store.oplog import WINDOW_MS
from openai_agents_session.store.scripts import ADD, POP


class Recorder:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)


class Broken:
    def on_store_event(self, event: StoreEvent) -> None:
        raise RuntimeError("observer bug")


async def test_observer_receives_one_event_per_operation(
    valkey_client: Redis, session_id: str
) -> None:
    recorder = Recorder()
    session = RedisSession(session_id, valkey_client, ttl=60, max_items=3, observer=recorder)
    await session.add_items([{"a": 1}, {"b": 22}])
    await session.add_items([{"c": 3}, {"d": 4}])
    await session.get_items(2)
    await session.pop_item()
    await session.clear_session()
    add1, add2, get, pop, clear = recorder.events
    assert (add1.operation, add1.items, add1.bytes, add1.item_sizes) == ("add_items", 2, 15, (7, 8))
    assert (add1.session_length, add1.ttl_refreshed, add1.trimmed) == (2, True, 0)
    assert (add2.session_length, add2.trimmed) == (3, 1)
    assert (get.operation, get.items, get.bytes, get.session_length) == ("get_items", 2, 14, 3)
    assert (pop.operation, pop.items, pop.bytes, pop.session_length) == ("pop_item", 1, 7, 2)
    assert (clear.operation, clear.items, clear.session_length) == ("clear_session", 2, 0)
    assert not any(event.duplicate_batch for event in recorder.events)


async def test_a_read_reports_the_length_when_it_reaches_the_head_or_rearms_the_ttl(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=60)
    await session.add_items([{"n": n} for n in range(5)])
    rearming = RedisSession(session_id, valkey_client, ttl=60, read_refresh_interval=0)
    with collect_store_events() as events:
        await session.get_items()
        await session.get_items(8)
        await session.get_items(2)
        await rearming.get_items(2)
    lengths = [(event.session_length, event.ttl_refreshed) for event in events]
    # The first read re-arms the TTL (a script that also reads the length); the next
    # ones are bare LRANGEs, which know the length only when they reach the head.
    assert lengths == [(5, True), (5, False), (None, False), (5, True)]


async def test_a_failing_observer_never_fails_the_operation(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, observer=Broken())
    await session.add_items([{"a": 1}])
    assert await session.get_items() == [{"a": 1}]


async def test_collectors_are_per_task(valkey_client: Redis) -> None:
    async def run(number: int) -> list[StoreEvent]:
        session = RedisSession(f"collect-{number}", valkey_client)
        with collect_store_events() as events:
            await session.add_items([{"n": n} for n in range(number + 1)])
            await asyncio.sleep(0)
            await session.get_items()
            await session.clear_session()
        return events

    results = await asyncio.gather(*(run(number) for number in range(5)))
    for number, events in enumerate(results):
        assert [e.operation for e in events] == ["add_items", "get_items", "clear_session"]
        assert events[0].items == number + 1


def _keys(session: RedisSession) -> tuple[str, bytes]:
    return (session.key, session.operation_log_key)


async def test_retried_batch_is_recognised_and_not_applied_twice(
    valkey_client: Redis, session_id: str
) -> None:
    """What a client-library retry after a lost reply sends: the same script call again."""
    session = RedisSession(session_id, valkey_client, ttl=60)
    call = ("0123456789abcdef", 60000, 0, b'{"n":1}')
    first, _ = await session._execute(ADD, *call)
    again, _ = await session._execute(ADD, *call)
    assert (first.length, first.ttl_refreshed, first.replayed) == (1, True, False)
    assert (again.length, again.ttl_refreshed, again.replayed) == (1, True, True)
    assert await session.get_items() == [{"n": 1}]


async def test_operation_ids_expire_after_their_window_whatever_the_session_ttl(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client)  # no TTL: the list persists
    for n in range(100):
        await session.add_items([{"n": n}])
    ids_key = _keys(session)[1]
    assert await valkey_client.zcard(ids_key) == 100
    assert 0 < await valkey_client.pttl(ids_key) <= WINDOW_MS
    assert await valkey_client.ttl(session.key) == -1


async def test_a_late_copy_after_a_clear_does_not_bring_items_back(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=60)
    call = ("fedcba9876543210", 60000, 0, b'{"n":1}')
    await session._execute(ADD, *call)
    await session.clear_session()
    late, _ = await session._execute(ADD, *call)
    assert late.replayed
    assert await session.get_items() == []


async def test_retried_pop_returns_the_same_item_without_popping_again(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=60)
    await session.add_items([{"n": 1}, {"n": 2}, {"n": 3}])
    first, _ = await session._execute(POP, "0000111122223333", 60000)
    again, _ = await session._execute(POP, "0000111122223333", 60000)
    assert (first.length, first.ttl_refreshed, first.replayed, first.item) == (
        2,
        True,
        False,
        b'{"n":3}',
    )
    assert (again.length, again.replayed, again.item) == (2, True, b'{"n":3}')
    assert await session.get_items() == [{"n": 1}, {"n": 2}]
    assert 0 < await valkey_client.pttl(session.popped_items_key) <= WINDOW_MS
