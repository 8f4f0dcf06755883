"""Owners: every session of one user listed, exported and erased (``OwnerIndex``).

On Valkey, Redis 7.0 and a 3-primary cluster (the ``client`` fixture).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from openai_agents_session import OwnerIndex, RedisSession
from openai_agents_session.store import lifecycle
from openai_agents_session.store.keys import owner_index_key
from openai_agents_session.store.oplog import WINDOW_MS
from openai_agents_session.store.scripts import ADD


def item(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


@pytest.fixture
def owner() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def test_sessions_export_and_erase(client: Any, owner: str) -> None:
    ids = [f"{owner}-conversation-{n}" for n in range(12)]
    for n, session_id in enumerate(ids):
        await RedisSession(session_id, client, owner=owner).add_items([item(str(n))] * (n + 1))
    other = RedisSession(f"{owner}-other", client, owner=f"{owner}-b")
    await other.add_items([item("kept")])
    index = OwnerIndex(client)

    assert sorted(await index.sessions(owner)) == sorted(ids)
    exported = {session_id: items async for session_id, items in index.export(owner)}
    assert exported == {sid: [item(str(n))] * (n + 1) for n, sid in enumerate(ids)}

    assert await index.erase(owner) == len(ids)
    assert await index.sessions(owner) == []
    assert await index.erase(owner) == 0  # idempotent
    for session_id in ids:
        assert await RedisSession(session_id, client).get_items() == []
    assert await client.exists(owner_index_key("openai_agents_session", owner)) == 0
    assert await other.get_items() == [item("kept")]
    assert await index.sessions(f"{owner}-b") == [f"{owner}-other"]


async def test_a_session_without_owner_is_in_no_index(client: Any, owner: str) -> None:
    await RedisSession(f"{owner}-anonymous", client).add_items([item("x")])
    assert await OwnerIndex(client).sessions(owner) == []


async def test_creation_registers_once_then_writes_take_one_round_trip(
    client: Any, owner: str
) -> None:
    events: list[Any] = []

    class Observer:
        def on_store_event(self, event: Any) -> None:
            events.append(event)

    session = RedisSession(f"{owner}-s", client, owner=owner, observer=Observer())
    await session.add_items([item("a")])
    await session.add_items([item("b")])
    # Refused (unregistered), registered, sent again; then one round trip as always.
    assert [event.round_trips for event in events] == [3, 1]
    # A new object for the same conversation (one per request) does not register.
    again = RedisSession(f"{owner}-s", client, owner=owner, observer=Observer())
    await again.add_items([item("c")])
    assert events[-1].round_trips == 1
    # An agent turn reads first: a new conversation's read tells its write to register
    # up front, so the first turn's write takes two round trips, not three.
    turn = RedisSession(f"{owner}-t", client, owner=owner, observer=Observer())
    assert await turn.get_items() == []
    await turn.add_items([item("hello")])
    assert events[-1].round_trips == 2
    assert await OwnerIndex(client).sessions(owner) == [f"{owner}-s", f"{owner}-t"]


async def test_gone_sessions_are_never_listed_and_pruned_when_old(
    client: Any, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = RedisSession(f"{owner}-s", client, owner=owner)
    await session.add_items([item("a")])
    await session.clear_session()
    index = OwnerIndex(client)
    assert await index.sessions(owner) == []
    key = owner_index_key("openai_agents_session", owner)
    # Young entries stay: a write may still be creating that session with them.
    assert await client.zcard(key) == 1
    monkeypatch.setattr("openai_agents_session.store.owners.PRUNE_AFTER_MS", 1)
    await asyncio.sleep(0.01)
    assert await index.sessions(owner) == []
    assert await client.exists(key) == 0


async def test_a_write_after_an_erase_registers_again_and_is_listed(
    client: Any, owner: str
) -> None:
    session = RedisSession(f"{owner}-s", client, owner=owner)
    await session.add_items([item("before")])
    index = OwnerIndex(client)
    assert await index.erase(owner) == 1
    # The object still holds its (recent) registration: the erase mark refuses it.
    await session.add_items([item("after")])
    assert await index.sessions(owner) == [f"{owner}-s"]
    assert await session.get_items() == [item("after")]


async def test_a_late_copy_of_a_write_acknowledged_before_the_erase_brings_nothing_back(
    client: Any, owner: str
) -> None:
    session = RedisSession(f"{owner}-s", client, owner=owner)
    encoded = session._encode([item("secret")])
    # The same script call twice with one operation id: a copy delivered late.
    await session._write(ADD, "0123456789abcdef", 0, 0, *encoded)
    assert await OwnerIndex(client).erase(owner) == 1
    reply, _ = await session._write(ADD, "0123456789abcdef", 0, 0, *encoded)
    assert reply.replayed
    assert await session.get_items() == []
    assert await client.exists(session.key) == 0


async def test_what_an_erase_leaves_holds_no_content_and_expires_within_the_window(
    client: Any, owner: str
) -> None:
    session = RedisSession(f"{owner}-s", client, owner=owner, max_age=3600)
    await session.add_items([item("secret"), item("more")])
    await session.pop_item()
    await OwnerIndex(client).erase(owner)
    assert await client.exists(session.key, session.popped_items_key) == 0
    life = await client.hgetall(session.life_key)
    assert list(life) == [b"erased"] and life[b"erased"].isdigit()
    for key in (session.life_key, session.operation_log_key):
        assert 0 < await client.pttl(key) <= WINDOW_MS


def test_owner_index_keys_are_under_the_prefix_and_never_a_session() -> None:
    key = owner_index_key("app", "user:1")
    assert key.startswith(b"app:\xff")
    assert lifecycle.TOMBSTONE_MS <= WINDOW_MS


@pytest.mark.parametrize("bad", ["", 5, None])
def test_owner_must_be_text(valkey_client: Any, bad: Any) -> None:
    if bad is None:
        assert RedisSession("s", valkey_client, owner=None).owner is None
        return
    with pytest.raises((TypeError, ValueError), match="owner"):
        RedisSession("s", valkey_client, owner=bad)
