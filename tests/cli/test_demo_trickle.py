"""The ``--keep-running`` trickle moves every operation, outcome and rare event (real Valkey)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from openai_agents_session.cli._demo_telemetry import DemoTelemetry
from openai_agents_session.cli._demo_trickle import TrickleSettings, run_trickle
from support import ServerProcess

PREFIX = "trickle-test"


def _sample(telemetry: DemoTelemetry, name: str, **labels: str) -> float:
    return telemetry.registry.get_sample_value(name, labels) or 0.0


def test_a_few_rounds_move_every_operation_and_rare_event(valkey_server: ServerProcess) -> None:
    telemetry = DemoTelemetry()
    settings = TrickleSettings(
        interval=0.01, key_prefix=PREFIX, ttl=60, max_items=100, model_delay=0, model_name=None
    )

    async def trickle() -> tuple[int, list[bytes]]:
        client = Redis.from_url(valkey_server.url)
        try:
            done = await run_trickle(settings, client, telemetry, rounds=8)
            return done, [key async for key in client.scan_iter(f"{PREFIX}:*not-a-list")]
        finally:
            await client.aclose()

    try:
        rounds, leftovers = asyncio.run(trickle())
    finally:
        telemetry.shutdown()

    assert rounds == 8
    operations = "openai_agents_session_operations_total"
    for operation in ("get_items", "add_items", "pop_item", "clear_session"):
        assert _sample(telemetry, operations, operation=operation, outcome="ok") > 0, operation
    assert _sample(telemetry, operations, operation="get_items", outcome="error") == 2
    assert _sample(telemetry, "openai_agents_session_trimmed_items_total") > 0
    slow = "openai_agents_session_slow_operations_total"
    assert _sample(telemetry, slow, operation="add_items") >= 2  # both imports
    assert leftovers == []  # the key standing for another program's data is removed at the end
