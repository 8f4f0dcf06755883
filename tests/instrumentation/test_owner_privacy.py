"""A session's owner never reaches telemetry: no span, log line or metric names it,
whatever the session id mode, and a failure of the owner's index is no exception."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from structlog.testing import capture_logs

from openai_agents_session import OwnerIndex, RedisSession, instrument
from openai_agents_session.store.keys import owner_index_key

from .test_privacy import _everything


@pytest.mark.parametrize("mode", ["hashed", "raw"])
async def test_the_owner_is_in_no_signal(
    valkey_client: Redis,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
    mode: str,
) -> None:
    owner = f"bob-{uuid.uuid4().hex[:6]}@example.com"
    broken_owner = f"carol-{uuid.uuid4().hex[:6]}@example.com"
    # Another program's value where the index of broken_owner would be: registering fails.
    await valkey_client.set(owner_index_key("openai_agents_session", broken_owner), "x")
    options: dict[str, Any] = {"session_id_key": b"k" * 32}
    if mode == "raw":
        options = {"session_id_mode": "raw"}
    with capture_logs() as logs:
        session = instrument(
            RedisSession(f"s-{uuid.uuid4().hex[:6]}", valkey_client, owner=owner, max_age=60),
            tracer_provider=provider,
            registry=registry,
            **options,
        )
        await session.get_items()
        await session.add_items([{"role": "user", "content": "hi"}])
        await session.pop_item()
        broken = instrument(
            RedisSession(f"s-{uuid.uuid4().hex[:6]}", valkey_client, owner=broken_owner),
            tracer_provider=provider,
            registry=registry,
            **options,
        )
        with pytest.raises(Exception) as raised:
            await broken.add_items([{"role": "user", "content": "hi"}])
        await OwnerIndex(valkey_client).erase(owner)
    assert broken_owner not in str(raised.value)
    text = _everything(exporter, registry, logs)
    assert "error" in text  # the failure was recorded...
    for name in (owner, broken_owner):
        assert name not in text  # ...without naming either owner
        assert name.split("@")[0] not in text
