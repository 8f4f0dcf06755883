"""Byte limits that protect Redis: a runaway tool output is refused whole, and visible.

Defaults: 4 MiB per serialised item, 32 MiB per ``add_items`` batch. A refused
batch writes nothing (the session keeps exactly what it had), raises
``ItemTooLargeError`` (a ``ValueError``) naming the item and the limit, and shows
as ``errors_total{error_type="serialization"}`` and a ``session.operation_failed``
log event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from openai_agents_session import ItemTooLargeError, RedisSession
from support import ServerProcess

from .conftest import Telemetry
from .kit import Row, keys_without_ttl, sample, signal_text

MIB = 1024 * 1024


def _item_of(size: int) -> dict[str, str]:
    """An item whose compact JSON is exactly ``size`` bytes."""
    return {"output": "x" * (size - len('{"output":""}'))}


async def test_runaway_tool_output_is_refused_and_the_session_kept_whole(
    valkey_server: ServerProcess,
    valkey_client: Redis,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    session_id = f"limits-{uuid.uuid4().hex[:8]}"
    session = telemetry.wrap(RedisSession(session_id, valkey_client, ttl=600))
    history = [{"role": "user", "content": "run the tool"}]
    await session.add_items(history)
    attempts = [
        [{"role": "assistant"}, _item_of(5 * MIB)],  # one item over 4 MiB
        [_item_of(4 * MIB - 100) for _ in range(9)],  # 36 MiB in items under 4 MiB each
        [_item_of(64 * MIB)],
    ]
    messages = []
    for batch in attempts:
        with pytest.raises(ItemTooLargeError) as raised:
            await session.add_items(batch)
        messages.append(str(raised.value))
    assert await session.get_items() == history
    assert "item 1 of 2 is 5242880 bytes as JSON, over max_item_bytes=4194304" in messages[0]
    assert "over max_batch_bytes=33554432 by item 8" in messages[1]
    assert all("nothing was written" in message for message in messages)
    refused = sample(
        telemetry.registry, "errors_total", operation="add_items", error_type="serialization"
    )
    assert refused == len(attempts)
    events = [entry["event"] for entry in telemetry.logs.entries]
    assert events.count("session.operation_failed") == len(attempts)
    no_ttl = keys_without_ttl(valkey_server.client(), f"*{session_id}*")
    record_row(
        Row(
            "Limits: runaway tool output",
            "a 5 MiB item, a 36 MiB batch of 4 MiB items, a 64 MiB item (default limits "
            "4 MiB / 32 MiB)",
            len(attempts),
            0,
            0,
            0,
            0,
            len(no_ttl),
            signal_text(telemetry.registry, telemetry.logs.entries)
            + "; `ItemTooLargeError` raised, nothing written",
        )
    )


@pytest.mark.parametrize("limit", [1000, 4096])
async def test_limits_are_exact_and_configurable(valkey_client: Redis, limit: int) -> None:
    session = RedisSession(
        f"limits-{uuid.uuid4().hex[:8]}",
        valkey_client,
        ttl=600,
        max_item_bytes=limit,
        max_batch_bytes=2 * limit,
    )
    await session.add_items([_item_of(limit)])  # exactly at the item limit
    with pytest.raises(ItemTooLargeError, match=f"item 0 of 1 is {limit + 1} bytes"):
        await session.add_items([_item_of(limit + 1)])
    await session.add_items([_item_of(limit), _item_of(limit)])  # exactly at the batch limit
    with pytest.raises(ItemTooLargeError, match=f"over max_batch_bytes={2 * limit} by item 2"):
        await session.add_items([_item_of(limit), _item_of(limit), {"n": 1}])
    assert len(await session.get_items()) == 3
    await session.clear_session()


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("4MiB", TypeError), (True, TypeError)],
)
def test_bad_limit_options_are_refused(
    valkey_client: Redis, value: object, error: type[Exception]
) -> None:
    for option in ("max_item_bytes", "max_batch_bytes"):
        with pytest.raises(error, match=option):
            RedisSession("s", valkey_client, **{option: value})  # type: ignore[arg-type]
