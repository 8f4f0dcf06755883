"""Hostile session ids and arguments the fuzz run leaves out, each pinned on its own.

Each was a defect found by the fuzz run; the generators in ``hostile.py`` now
produce these inputs too.
"""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession, SessionKeyTypeError


@pytest.mark.parametrize(
    ("key_prefix", "session_id"),
    [("openai_agents_session", "{x}"), ("{tenant-a}", "user-1")],
    ids=["braces-in-session-id", "hash-tagged-prefix"],
)
async def test_a_session_never_touches_another_sessions_list(
    valkey_client: Redis, key_prefix: str, session_id: str
) -> None:
    run = uuid.uuid4().hex[:6]
    key_prefix = f"{key_prefix}{run}" if key_prefix.startswith("{") else key_prefix
    session_id = f"{session_id}{run}"
    actor = RedisSession(session_id, valkey_client, key_prefix=key_prefix, ttl=600)
    victims = {
        suffix: RedisSession(
            f"{session_id}:{suffix}", valkey_client, key_prefix=key_prefix, ttl=600
        )
        for suffix in ("batches", "lastpop")
    }
    for suffix, victim in victims.items():
        await victim.add_items([{"victim": suffix}])
    # Sessions are independent: the other sessions neither break these calls...
    await actor.add_items([{"a": 1}, {"a": 2}])
    assert await actor.pop_item() == {"a": 2}
    await actor.clear_session()
    # ...nor are changed by them.
    for suffix, victim in victims.items():
        assert await valkey_client.lrange(victim.key, 0, -1) == [
            f'{{"victim":"{suffix}"}}'.encode()
        ], f"session {victim.session_id!r} was changed by session {session_id!r}"
        await victim.clear_session()


async def test_a_huge_limit_returns_everything(valkey_client: Redis, session_id: str) -> None:
    session = RedisSession(session_id, valkey_client, ttl=600)
    await session.add_items([{"n": 1}, {"n": 2}])
    try:
        assert await session.get_items(10**30) == [{"n": 1}, {"n": 2}]
    finally:
        await session.clear_session()


async def test_a_wrong_type_operation_log_is_named_in_the_error(
    valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=600)
    await session.add_items([{"n": 1}])
    batches = session.operation_log_key
    await valkey_client.delete(batches)
    await valkey_client.hset(batches, "foreign", "value")
    await valkey_client.expire(batches, 600)
    try:
        with pytest.raises(SessionKeyTypeError) as raised:
            await session.add_items([{"n": 2}])
        assert await session.get_items() == [{"n": 1}]
        assert raised.value.key == batches.decode("utf-8", "backslashreplace")
        assert "zset" in str(raised.value)
    finally:
        await valkey_client.delete(session.key, batches)
