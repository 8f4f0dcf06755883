"""Retention by age: ``max_age`` deletes a session however active it is.

On Valkey, Redis 7.0 and a 3-primary cluster (the ``client`` fixture). Times are
checked against the server's own deadline (PTTL) and the client's clock with a
tolerance for the round trip, never as a speed requirement.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from openai_agents_session import RedisSession, StoreEvent
from openai_agents_session.store.lifecycle import LIFE_GRACE_MS

# How late, at most, the client may see a deadline the server enforces to the
# millisecond: one round trip on loopback on a loaded machine.
SLACK = 0.25


class Events:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)

    @property
    def expired(self) -> list[StoreEvent]:
        return [event for event in self.events if event.expired is not None]


def item(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def test_writes_every_300ms_never_keep_a_session_past_max_age(
    client: Any, session_id: str
) -> None:
    events = Events()
    session = RedisSession(session_id, client, max_age=2, observer=events)
    first_write = time.monotonic()
    born_again_at: float | None = None
    writes = 0
    while time.monotonic() - first_write < 3.2:
        before = time.monotonic()
        await session.add_items([item(f"{before - first_write:.3f}")])
        writes += 1
        if born_again_at is None and events.expired:
            born_again_at = before
        life_start = first_write if born_again_at is None else born_again_at
        pttl = await client.pttl(session.key)
        # The deadline never lies beyond max_age from the write that started the life.
        assert 0 < pttl <= 2000 - (time.monotonic() - life_start - SLACK) * 1000 + 1, pttl
        stored = await session.get_items()
        oldest = float(stored[0]["content"])
        assert time.monotonic() - first_write - oldest <= 2 + SLACK, stored
        await asyncio.sleep(0.3)
    assert born_again_at is not None, "no write started a new session"
    # Gone within max_age + slack of the first write: the write after it found nothing.
    assert born_again_at - first_write <= 2 + 0.3 + SLACK
    assert [event.expired for event in events.expired] == ["max_age"]
    assert events.expired[0].operation == "add_items"
    # The new session holds only what was written since it started.
    stored = await session.get_items()
    assert all(float(entry["content"]) >= born_again_at - first_write - SLACK for entry in stored)
    assert writes >= 10


async def test_the_idle_ttl_applies_before_the_age_and_never_extends_it(
    client: Any, session_id: str
) -> None:
    session = RedisSession(session_id, client, ttl=1, max_age=3, read_refresh_interval=0)
    start = time.monotonic()
    await session.add_items([item("a")])
    assert await client.pttl(session.key) <= 1000
    while time.monotonic() - start < 2.6:
        # Writes, reads and pops all re-arm the idle TTL: none past the age.
        await session.add_items([item("b"), item("c")])
        await session.get_items()
        await session.pop_item()
        left = 3 - (time.monotonic() - start)
        pttl = await client.pttl(session.key)
        assert pttl <= min(1000, (left + SLACK) * 1000), (pttl, left)
        await asyncio.sleep(0.2)
    await asyncio.sleep(max(0.0, 3 + SLACK - (time.monotonic() - start)))
    assert await client.exists(session.key) == 0
    assert await session.get_items() == []


async def test_an_idle_expiry_is_not_an_expiry_by_age(client: Any, session_id: str) -> None:
    events = Events()
    session = RedisSession(session_id, client, ttl=1, max_age=30, observer=events)
    await session.add_items([item("first")])
    # The life hash follows the list: it ends soon after an abandoned session does.
    assert await client.pttl(session.life_key) <= 1000 + LIFE_GRACE_MS
    await asyncio.sleep(1.2)
    await session.add_items([item("second")])
    assert events.expired == []
    assert [entry["content"] for entry in await session.get_items()] == ["second"]
    # Back within moments of idling out, the session keeps its age: never longer.
    assert await client.pttl(session.key) <= 1000


async def test_a_session_emptied_by_pops_keeps_its_age(client: Any, session_id: str) -> None:
    events = Events()
    session = RedisSession(session_id, client, max_age=2, observer=events)
    await session.add_items([item("a")])
    born = await client.hget(session.life_key, "born")
    assert await session.pop_item() == item("a")
    await session.clear_session()
    await session.add_items([item("b")])
    assert await client.hget(session.life_key, "born") == born
    assert await client.pttl(session.key) <= 2000
    assert events.expired == []


async def test_a_read_after_the_age_reports_the_expiry_once(client: Any, session_id: str) -> None:
    events = Events()
    # A TTL makes reads run the script that re-arms it, the one that can report.
    session = RedisSession(
        session_id, client, ttl=60, max_age=1, observer=events, read_refresh_interval=0
    )
    await session.add_items([item("a")])
    await asyncio.sleep(1.1)
    assert await session.get_items() == []
    assert await session.get_items() == []
    await session.add_items([item("b")])
    assert [(e.operation, e.expired) for e in events.expired] == [("get_items", "max_age")]


async def test_the_life_hash_holds_no_content_and_ends_soon_after_the_age(
    client: Any, session_id: str
) -> None:
    session = RedisSession(session_id, client, max_age=5)
    await session.add_items([item("secret")])
    await session.pop_item()
    life = await client.hgetall(session.life_key)
    assert set(life) == {b"born", b"until"}
    assert all(value.isdigit() for value in life.values())
    assert 5000 < await client.pttl(session.life_key) <= 5000 + LIFE_GRACE_MS
    # The items a pop keeps for its replay are content: never past the age either.
    assert 0 < await client.pttl(session.popped_items_key) <= 5000


async def test_compaction_replacement_keeps_the_bound(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=3600, max_age=2)
    await session.add_items([item("a"), item("b")])
    await asyncio.sleep(0.5)
    assert await session._atomic_replace_items([item("summary")])
    assert await client.pttl(session.key) <= 1500 + SLACK * 1000


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_max_age_must_be_a_positive_int(valkey_client: Any, bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="max_age"):
        RedisSession("s", valkey_client, max_age=bad)


def test_sessions_without_lifecycle_options_declare_no_life_key(valkey_client: Any) -> None:
    assert not RedisSession("s", valkey_client, ttl=10).options.lifecycle
    assert RedisSession("s", valkey_client, max_age=10).options.lifecycle
    assert RedisSession("s", valkey_client, owner="u").options.lifecycle
