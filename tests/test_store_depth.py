"""Deeply nested items: refused or read back whole, whoever asks and from how deep a stack.

The json module recurses once per nesting level against the caller's own recursion
limit, so an item that encodes from a shallow frame can fail from a deep one (an
agent framework, a recursive tool). The store decides by ``MAX_ITEM_DEPTH`` alone:
an item nested deeper is refused before anything is sent, naming the item; every
item it accepts is read back intact by ``get_items`` and ``pop_item`` called from
any stack depth.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from openai_agents_session.store.codec import MAX_ITEM_DEPTH

T = TypeVar("T")

DEPTHS = sorted(
    {1, 2, 50, 100, MAX_ITEM_DEPTH - 1, MAX_ITEM_DEPTH, MAX_ITEM_DEPTH + 1, MAX_ITEM_DEPTH + 5}
    | {900, 980}
)
ACCEPTED = [depth for depth in DEPTHS if depth <= MAX_ITEM_DEPTH]
REFUSED = [depth for depth in DEPTHS if depth > MAX_ITEM_DEPTH]
# Frames left below the recursion limit for a call made "from a deep stack": enough
# for the store and redis-py, far too few for json to recurse MAX_ITEM_DEPTH times.
HEADROOM = 75
STACKS = ["shallow", "deep"]


def nested(depth: int) -> dict[str, Any]:
    """A message nesting lists and objects ``depth`` levels deep (the message is level 1)."""
    content: Any = "innermost"
    for _ in range(depth - 1):
        content = [content]
    return {"type": "message", "role": "user", "content": content}


def stack_depth() -> int:
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


async def near_the_recursion_limit(call: Callable[[], Awaitable[T]]) -> T:
    """``await call()`` from a frame ``HEADROOM`` frames below the recursion limit."""
    if stack_depth() < sys.getrecursionlimit() - HEADROOM:
        return await near_the_recursion_limit(call)
    return await call()


async def from_stack(stack: str, call: Callable[[], Awaitable[T]]) -> T:
    return await (near_the_recursion_limit(call) if stack == "deep" else call())


def test_a_deep_stack_leaves_json_too_few_frames_for_the_deepest_accepted_item() -> None:
    """The premise of the deep-stack cases: without the store's care they would fail."""
    import json

    def encode_near_the_limit() -> str:
        if stack_depth() < sys.getrecursionlimit() - HEADROOM:
            return encode_near_the_limit()
        return json.dumps(nested(MAX_ITEM_DEPTH))

    with pytest.raises(RecursionError):
        encode_near_the_limit()


@pytest.mark.parametrize("depth", ACCEPTED)
@pytest.mark.parametrize("writer", STACKS)
async def test_an_item_within_max_item_depth_reads_back_intact_from_any_stack(
    writer: str, depth: int, valkey_client: Redis, session_id: str
) -> None:
    item = nested(depth)
    session = RedisSession(session_id, valkey_client, ttl=600)
    await from_stack(writer, lambda: session.add_items([item, item, item]))
    # The first read re-arms the TTL in a script, the later ones are a bare LRANGE.
    reads = {
        "get_items from a shallow stack": await from_stack("shallow", session.get_items),
        "get_items from a deep stack": await from_stack("deep", session.get_items),
        "get_items(2) from a deep stack": await from_stack("deep", lambda: session.get_items(2)),
    }
    for how, items in reads.items():
        assert items == [item] * (2 if "(2)" in how else 3), how
    assert await from_stack("deep", session.pop_item) == item
    assert await from_stack("shallow", session.pop_item) == item
    assert await session.get_items() == [item]


@pytest.mark.parametrize("depth", REFUSED)
@pytest.mark.parametrize("writer", STACKS)
async def test_an_item_nested_deeper_than_max_item_depth_is_refused_and_nothing_written(
    writer: str, depth: int, valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=600)
    batch = [nested(1), nested(depth)]
    with pytest.raises(ValueError, match=rf"item 1 of 2 is nested more than {MAX_ITEM_DEPTH}"):
        await from_stack(writer, lambda: session.add_items(batch))
    assert await valkey_client.exists(session.key, session.operation_log_key) == 0


def refers_to_itself_through_an_object() -> dict[str, Any]:
    item: dict[str, Any] = {"type": "message", "role": "user"}
    item["content"] = item
    return item


def refers_to_itself_through_a_list() -> dict[str, Any]:
    content: list[Any] = []
    content.append(content)
    return {"type": "message", "role": "user", "content": content}


@pytest.mark.parametrize(
    "make", [refers_to_itself_through_an_object, refers_to_itself_through_a_list]
)
@pytest.mark.parametrize("writer", STACKS)
async def test_an_item_that_refers_to_itself_is_refused_and_nothing_written(
    writer: str, make: Callable[[], dict[str, Any]], valkey_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, valkey_client, ttl=600)
    batch = [nested(1), make()]
    with pytest.raises(ValueError, match=r"item 1 of 2 .*refers to itself"):
        await from_stack(writer, lambda: session.add_items(batch))
    assert await valkey_client.exists(session.key, session.operation_log_key) == 0
