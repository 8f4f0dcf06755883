"""Every key of a session starts with the prefix, shares the list's cluster slot, and
is never a key of another session, for any session id: as a property of the key
functions, and on a real server through an ACL user allowed those keys only."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from conftest import create_acl_user
from openai_agents_session import RedisSession
from openai_agents_session.store.keys import (
    hash_slot,
    operation_log_key,
    popped_items_key,
    session_key,
)
from support import ServerProcess

PIECES = [
    "{",
    "}",
    ":",
    "*",
    "?",
    "[",
    "]",
    "\\",
    "x",
    "é",
    "🙂",
    "{}",
    "{x}",
    "\xff",
    "ops",
    "popped",
    " ",
]
session_ids = st.one_of(
    st.text(min_size=1, max_size=20),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join),
).filter(lambda s: all(not 0xD800 <= ord(c) <= 0xDFFF for c in s))  # valid Unicode
prefixes = st.sampled_from(["openai_agents_session", "{app}", "a{", "p}", "{}", "t:{x"])


def keys_of(prefix: str, session_id: str) -> set[bytes]:
    list_key = session_key(prefix, session_id)
    return {list_key.encode(), operation_log_key(list_key), popped_items_key(list_key)}


@given(prefixes, session_ids, session_ids)
@settings(max_examples=1000, deadline=None)
def test_no_key_of_one_session_is_a_key_of_another(prefix: str, one: str, other: str) -> None:
    mine, theirs = keys_of(prefix, one), keys_of(prefix, other)
    if one != other:
        assert not mine & theirs
    list_key = session_key(prefix, one)
    for key in mine:
        assert key.startswith(f"{prefix}:".encode()), key
        assert hash_slot(key) == hash_slot(list_key), key


def _glob_literal(key: bytes) -> bytes:
    return b"".join(b"\\" + bytes([c]) if c in b"*?[]\\" else bytes([c]) for c in key)


# ACL SETUSER refuses a key pattern holding whitespace or NUL; the property above covers
# those ids.
acl_session_ids = session_ids.filter(lambda s: not any(c.isspace() or c == "\0" for c in s))


@given(prefixes, acl_session_ids)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
async def test_every_operation_touches_only_its_own_keys(
    valkey_server: ServerProcess, prefix: str, session_id: str
) -> None:
    # A user allowed exactly this session's keys: touching any other key is refused.
    own = keys_of(prefix, session_id)
    patterns = [b"~" + _glob_literal(key) for key in own]
    admin = valkey_server.client()
    user, password = create_acl_user(admin, "sessions-app", "resetkeys", *patterns)
    client = Redis(
        host=valkey_server.host, port=valkey_server.port, username=user, password=password
    )
    try:
        session = RedisSession(session_id, client, key_prefix=prefix, ttl=60, max_items=5)
        await session.add_items([{"n": n} for n in range(7)])
        assert await session.get_items(2) == [{"n": 5}, {"n": 6}]
        assert await session.pop_item() == {"n": 6}
        snapshot = await session._get_compaction_snapshot(3)
        assert snapshot is not None
        assert await snapshot.replace_suffix(1, [{"summary": uuid.uuid4().hex}])
        assert await session._atomic_replace_items([{"n": 0}])
        await session.clear_session()
        assert await session.pop_item() is None
    finally:
        await client.aclose()
        admin.delete(*own)
