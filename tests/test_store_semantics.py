"""The store's behaviour on real servers: Valkey 9.1, Redis 7.0 and a 3-node Cluster."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from agents.memory import SessionSettings

from openai_agents_session import RedisSession, SessionKeyTypeError, collect_store_events


def items(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"message {n}"} for n in range(start, start + count)]


async def test_items_come_back_in_order(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(3))
    await session.add_items(items(2, start=3))
    assert await session.get_items() == items(5)


async def test_limit_none_returns_everything(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(7))
    assert await session.get_items(None) == items(7)


@pytest.mark.parametrize("limit", [0, -1, -5])
async def test_limit_zero_or_negative_returns_nothing(
    client: Any, session_id: str, limit: int
) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(4))
    assert await session.get_items(limit) == []


async def test_limit_returns_newest_in_chronological_order(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(10))
    assert await session.get_items(3) == items(3, start=7)
    assert await session.get_items(50) == items(10)


async def test_empty_session_reads_empty_and_pops_none(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    assert await session.get_items() == []
    assert await session.get_items(5) == []
    assert await session.pop_item() is None


async def test_pop_returns_newest_and_removes_it(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(3))
    assert await session.pop_item() == items(1, start=2)[0]
    assert await session.get_items() == items(2)


async def test_clear_removes_the_list_and_keeps_the_expiring_operation_log(
    client: Any, session_id: str
) -> None:
    session = RedisSession(session_id, client, ttl=60)
    await session.add_items(items(3))
    await session.pop_item()
    await session.clear_session()
    assert await client.exists(session.key) == 0
    # Kept so a late copy of an acknowledged write cannot bring items back.
    assert 0 < await client.pttl(session.operation_log_key) <= 120_000
    assert await session.get_items() == []


async def test_add_empty_list_touches_nothing(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, ttl=60)
    with collect_store_events() as events:
        await session.add_items([])
    assert events == []
    assert await client.exists(session.key) == 0


async def test_stored_form_is_compact_json_one_element_per_item(
    client: Any, session_id: str
) -> None:
    session = RedisSession(session_id, client)
    await session.add_items([{"role": "user", "content": "héllo wörld"}])
    raw = await client.lrange(session.key, 0, -1)
    assert raw == ['{"role":"user","content":"héllo wörld"}'.encode()]


async def test_reads_history_written_by_the_seed_package(client: Any, session_id: str) -> None:
    # The seed stored `json.dumps(item)` (default separators, ASCII escapes) with RPUSH.
    key = f"openai_agents_session:{session_id}"
    old = [{"role": "user", "content": "hi ✓"}, {"role": "assistant", "content": "hello"}]
    await client.rpush(key, *(json.dumps(item) for item in old))
    session = RedisSession(session_id, client)
    assert await session.get_items() == old
    await session.add_items(items(1))
    assert await session.get_items() == [*old, *items(1)]


async def test_works_with_decode_responses_clients(
    request: pytest.FixtureRequest, backend: str, session_id: str
) -> None:
    from conftest import make_client

    text_client = make_client(request, backend, decode_responses=True)
    try:
        session = RedisSession(session_id, text_client, ttl=30, max_items=5)
        await session.add_items(items(7))
        assert await session.get_items(2) == items(2, start=5)
        assert await session.pop_item() == items(1, start=6)[0]
        await text_client.rpush(session.key, "not json {")
        assert await session.get_items() == items(4, start=2)
    finally:
        await text_client.aclose()


async def test_custom_key_prefix(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, key_prefix="tenant-a:chat")
    await session.add_items(items(1))
    assert session.key == f"tenant-a:chat:{session_id}"
    assert await client.llen(f"tenant-a:chat:{session_id}") == 1


async def test_max_items_trims_oldest_in_the_same_write(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, max_items=4)
    await session.add_items(items(3))
    with collect_store_events() as events:
        await session.add_items(items(3, start=3))
    assert await session.get_items() == items(4, start=2)
    assert events[0].trimmed == 2
    assert events[0].session_length == 4


async def test_max_items_smaller_than_batch_keeps_newest(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client, max_items=2)
    await session.add_items(items(5))
    assert await session.get_items() == items(2, start=3)


async def test_session_settings_default_and_limit_used_by_get_items(
    client: Any, session_id: str
) -> None:
    assert RedisSession(session_id, client).session_settings == SessionSettings()
    session = RedisSession(session_id, client, session_settings={"limit": 2})
    assert session.session_settings == SessionSettings(limit=2)
    await session.add_items(items(5))
    assert await session.get_items() == items(2, start=3)
    assert await session.get_items(4) == items(4, start=1)


def test_session_settings_unknown_key_is_rejected(client: Any) -> None:
    with pytest.raises(TypeError, match="limt"):
        RedisSession("s", client, session_settings={"limt": 3})


async def test_every_method_accepts_the_sdk_wrapper_keyword(client: Any, session_id: str) -> None:
    from agents.memory.session import _session_accepts_wrapper
    from agents.run_context import RunContextWrapper

    session = RedisSession(session_id, client)
    assert _session_accepts_wrapper(session)
    wrapper = RunContextWrapper(context=None)
    await session.add_items(items(2), wrapper=wrapper)
    assert await session.get_items(wrapper=wrapper) == items(2)
    assert await session.pop_item(wrapper=wrapper) == items(1, start=1)[0]
    await session.clear_session(wrapper=wrapper)


# ---------------------------------------------------------------- corrupt data


async def test_corrupt_items_are_skipped_and_reported(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(2))
    await client.rpush(session.key, b"\xff\xfe not json", b"{broken")
    await session.add_items(items(1, start=2))
    with collect_store_events() as events:
        assert await session.get_items() == items(3)
    assert events[0].corrupt_skipped == 2
    assert events[0].session_length == 5


async def test_limited_read_still_returns_limit_valid_items(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(5))
    await client.rpush(session.key, *[b"garbage"] * 6)
    await session.add_items(items(1, start=5))
    assert await session.get_items(3) == items(3, start=3)
    assert await session.get_items(100) == items(6)


@pytest.mark.parametrize("decode_responses", [False, True])
async def test_a_read_decodes_exactly_what_json_loads_accepts(
    request: pytest.FixtureRequest, backend: str, session_id: str, decode_responses: bool
) -> None:
    stored = [b' {"a": 1} ', b'{"b":2}x', b"[1,2]", b'"\xc3\xa9"', b"{", b"\t7\n", b"{}{}"]
    expected = []
    for raw in stored:
        try:
            expected.append(json.loads(raw.decode("utf-8")))
        except ValueError:
            continue
    from conftest import make_client

    client = make_client(request, backend, decode_responses=decode_responses)
    try:
        session = RedisSession(session_id, client)
        await client.rpush(session.key, *stored)
        with collect_store_events() as events:
            assert await session.get_items() == expected == [{"a": 1}, [1, 2], "\u00e9", 7]
            assert await session.get_items(2) == expected[-2:]
        assert [event.corrupt_skipped for event in events] == [3, 2]
    finally:
        await client.aclose()


async def test_pop_skips_corrupt_items_like_the_sdk(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await session.add_items(items(2))
    await client.rpush(session.key, b"nope", b"\x80")
    with collect_store_events() as events:
        assert await session.pop_item() == items(1, start=1)[0]
    assert events[0].corrupt_skipped == 2
    assert await session.get_items() == items(1)


async def test_pop_of_only_corrupt_items_returns_none(client: Any, session_id: str) -> None:
    session = RedisSession(session_id, client)
    await client.rpush(session.key, b"nope")
    assert await session.pop_item() is None
    assert await client.exists(session.key) == 0


@pytest.mark.parametrize("operation", ["get_items", "add_items", "pop_item", "clear_session"])
async def test_key_of_another_type_raises_naming_it_and_is_untouched(
    client: Any, session_id: str, operation: str
) -> None:
    session = RedisSession(session_id, client, ttl=60)
    await client.set(session.key, "someone else's value")
    call = {
        "get_items": lambda: session.get_items(),
        "add_items": lambda: session.add_items(items(1)),
        "pop_item": lambda: session.pop_item(),
        "clear_session": lambda: session.clear_session(),
    }[operation]
    with pytest.raises(SessionKeyTypeError, match=session.key) as raised:
        await call()
    assert raised.value.actual_type == "string"
    assert await client.get(session.key) == b"someone else's value"
    assert await client.ttl(session.key) == -1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ({"content": {1, 2}}, TypeError, "item 1 of 3 is not JSON-serialisable"),
        ({"content": b"bytes"}, TypeError, "item 1 of 3"),
        ({"score": math.nan}, ValueError, "item 1 of 3 cannot be stored as JSON"),
        ({"score": math.inf}, ValueError, "item 1 of 3"),
        ({"content": "\ud800"}, ValueError, "item 1 of 3 holds a string that is not valid"),
    ],
)
async def test_batch_with_one_bad_item_writes_nothing(
    client: Any, session_id: str, bad: Any, error: type[Exception], message: str
) -> None:
    session = RedisSession(session_id, client)
    with pytest.raises(error, match=message):
        await session.add_items([items(1)[0], bad, items(1)[0]])
    assert await client.exists(session.key) == 0


async def test_circular_item_is_rejected(client: Any, session_id: str) -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="item 0 of 1"):
        await RedisSession(session_id, client).add_items([loop])


@pytest.mark.parametrize("not_a_list", ["text", b"bytes", {"role": "user"}, 5])
async def test_items_must_be_a_list(client: Any, session_id: str, not_a_list: Any) -> None:
    with pytest.raises(TypeError, match="items must be a list"):
        await RedisSession(session_id, client).add_items(not_a_list)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"session_id": ""}, ValueError, "session_id must not be empty"),
        ({"session_id": 42}, TypeError, "session_id must be a str, got int 42"),
        ({"session_id": None}, TypeError, "session_id must be a str"),
        ({"ttl": 0}, ValueError, "ttl must be a positive int or None, got 0"),
        ({"ttl": -5}, ValueError, "got -5"),
        ({"ttl": 1.5}, TypeError, "ttl must be a positive int or None, got float 1.5"),
        ({"ttl": True}, TypeError, "ttl must be a positive int"),
        ({"ttl": "60"}, TypeError, "got str '60'"),
        ({"ttl": 10**12}, ValueError, "ttl must be at most"),
        ({"max_items": 0}, ValueError, "max_items must be a positive int or None, got 0"),
        ({"max_items": "10"}, TypeError, "max_items must be a positive int"),
        ({"key_prefix": ""}, ValueError, "key_prefix must not be empty"),
        ({"session_settings": 5}, TypeError, "session_settings must be"),
    ],
)
def test_bad_options_are_rejected_naming_the_value(
    client: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"session_id": "s", **kwargs}
    session_id = arguments.pop("session_id")
    with pytest.raises(error, match=message):
        RedisSession(session_id, client, **arguments)


@pytest.mark.parametrize("limit", ["3", 2.5, True])
async def test_limit_must_be_an_int(client: Any, session_id: str, limit: Any) -> None:
    with pytest.raises(TypeError, match="limit must be an int or None"):
        await RedisSession(session_id, client).get_items(limit)
