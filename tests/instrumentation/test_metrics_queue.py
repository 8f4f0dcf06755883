"""Metrics are queued on the hot path and folded in batches: nothing may be lost or late.

A scrape always sees every operation that completed before it, whichever thread or
event loop ran it, and the queue stays bounded even when no event loop runs the
scheduled fold.
"""

from __future__ import annotations

import asyncio
import threading

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument
from openai_agents_session.instrumentation.metrics import _FOLD_NOW, metrics_for
from openai_agents_session.testing import ServerProcess

from .conftest import sample

PREFIX = "openai_agents_session_"


async def _write(url: str, registry: CollectorRegistry, session_id: str, calls: int) -> None:
    client = Redis.from_url(url)
    try:
        session = instrument(RedisSession(session_id, client, ttl=60), registry=registry)
        for _ in range(calls):
            await session.add_items([{"n": 1}, {"n": 2}])
        await session.clear_session()
    finally:
        await client.aclose()


def test_threads_with_their_own_loops_lose_no_count(
    valkey_server: ServerProcess, registry: CollectorRegistry
) -> None:
    # Four threads, each with its own event loop, record into one registry at once;
    # 301 calls each is not a multiple of the batch size, so some stay queued.
    threads = [
        threading.Thread(
            target=asyncio.run, args=(_write(valkey_server.url, registry, f"queue-t{n}", 301),)
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    ok = sample(registry, PREFIX + "operations_total", operation="add_items", outcome="ok")
    assert ok == 4 * 301
    assert sample(registry, PREFIX + "items_total", operation="add_items") == 4 * 301 * 2
    assert sample(registry, PREFIX + "item_size_bytes_count") == 4 * 301 * 2
    assert (
        sample(registry, PREFIX + "operation_duration_seconds_count", operation="add_items")
        == 4 * 301
    )
    assert sample(registry, PREFIX + "operations_total", operation="clear_session", outcome="ok")
    assert (
        sample(registry, PREFIX + "operations_total", operation="add_items", outcome="error") == 0
    )


async def test_a_scrape_sees_operations_still_queued(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    session = instrument(RedisSession(session_id, valkey_client), registry=registry)
    for _ in range(5):  # far below a batch: all five are still queued
        await session.add_items([{"n": 1}])
    assert sample(registry, PREFIX + "operations_total", operation="add_items", outcome="ok") == 5
    await session.pop_item()
    assert sample(registry, PREFIX + "operations_total", operation="pop_item", outcome="ok") == 1
    await session.clear_session()


async def test_the_queue_is_bounded_when_the_scheduled_fold_cannot_run(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    session = instrument(RedisSession(session_id, valkey_client), registry=registry)
    metrics = metrics_for(registry)
    # As if a fold were scheduled on a loop that never runs it (blocked or closed).
    metrics._fold_scheduled = True
    for _ in range(_FOLD_NOW + 10):
        await session.add_items([{"n": 1}])
        assert len(metrics.queue) < _FOLD_NOW
    metrics._fold_scheduled = False
    total = _FOLD_NOW + 10
    assert (
        sample(registry, PREFIX + "operations_total", operation="add_items", outcome="ok") == total
    )
    await session.clear_session()
