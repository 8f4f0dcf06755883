"""The demo's numbers come from the Prometheus registry, estimated as PromQL would."""

from __future__ import annotations

import math
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument
from openai_agents_session.cli._demo_telemetry import start_metrics_server
from openai_agents_session.cli._metrics_snapshot import histogram_quantile, take_snapshot
from support import ServerProcess


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0.5, 0.1), (0.75, 0.15), (1.0, 0.2), (0.25, 0.05)],
)
def test_quantile_interpolates_inside_the_bucket_like_promql(q: float, expected: float) -> None:
    buckets = [(0.1, 50.0), (0.2, 100.0), (math.inf, 100.0)]

    assert histogram_quantile(q, buckets) == pytest.approx(expected)


def test_quantile_of_nothing_is_none() -> None:
    assert histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]) is None
    assert histogram_quantile(0.5, []) is None


def test_quantile_beyond_the_last_bound_is_that_bound() -> None:
    assert histogram_quantile(0.99, [(0.1, 1.0), (1.0, 1.0), (math.inf, 10.0)]) == 1.0


async def test_snapshot_counts_what_an_instrumented_session_did(
    valkey_client: Redis, session_id: str
) -> None:
    registry = CollectorRegistry()
    session = instrument(
        RedisSession(session_id, valkey_client), registry=registry, session_id_key="test-key"
    )
    await session.add_items([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    await session.add_items([{"role": "assistant", "content": "c"}])
    await session.get_items()
    await session.get_items(limit=1)
    await session.clear_session()

    snapshot = take_snapshot(registry)

    assert snapshot.operations["add_items"].count == 2
    assert snapshot.operations["get_items"].count == 2
    assert snapshot.operations["clear_session"].count == 1
    assert snapshot.items_written == 3
    assert snapshot.items_read == 3 + 1
    assert snapshot.errors == 0
    stats = snapshot.operations["get_items"]
    assert stats.p50_seconds is not None and stats.p99_seconds is not None
    assert 0 < stats.p50_seconds <= stats.p99_seconds
    assert snapshot.as_json()["operations"] == {"get_items": 2, "add_items": 2, "clear_session": 1}


def test_snapshot_of_an_empty_registry_has_no_latency() -> None:
    snapshot = take_snapshot(CollectorRegistry())

    assert snapshot.total_operations == 0
    assert snapshot.operations["get_items"].p50_seconds is None
    assert snapshot.as_json()["operations"] == {}


async def test_metrics_server_serves_the_registry(
    valkey_server: ServerProcess, session_id: str
) -> None:
    registry = CollectorRegistry()
    client = Redis(port=valkey_server.port)
    try:
        session = instrument(
            RedisSession(session_id, client), registry=registry, session_id_key="test-key"
        )
        await session.get_items()
    finally:
        await client.aclose()
    server = start_metrics_server(registry, "127.0.0.1", 0)
    try:
        with urllib.request.urlopen(server.url, timeout=5) as response:  # noqa: ASYNC210
            body = response.read().decode()
    finally:
        server.stop()

    assert 'openai_agents_session_operations_total{operation="get_items",outcome="ok"} 1.0' in body
    assert not server.fell_back
