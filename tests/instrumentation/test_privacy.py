"""No content and no raw session id in any signal unless the app opts in."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from openai_agents_session import RedisSession, instrument

SECRET_ID = "alice@example.com"
SECRET_TEXT = "my card number is 4111"


async def _exercise(session: Any, client: Redis) -> list[Any]:
    with capture_logs() as logs:
        await session.add_items([{"role": "user", "content": SECRET_TEXT}])
        await session.get_items()
        await session.pop_item()
        await client.set("openai_agents_session:" + SECRET_ID + "-x", "x")
        await session.clear_session()
    return logs


def _everything(exporter: InMemorySpanExporter, registry: CollectorRegistry, logs: Any) -> str:
    spans = [
        json.dumps(
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [dict(e.attributes or {}) for e in s.events],
            }
        )
        for s in exporter.get_finished_spans()
    ]
    return "\n".join([*spans, generate_latest(registry).decode(), json.dumps(logs, default=str)])


async def test_default_signals_hold_no_content_and_no_raw_session_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client), tracer_provider=provider, registry=registry
    )
    text = _everything(exporter, registry, await _exercise(session, valkey_client))
    assert SECRET_ID not in text
    assert "alice" not in text
    assert SECRET_TEXT not in text
    assert "gen_ai.conversation.id" in text  # hashed, present


async def test_raw_mode_shows_the_session_id_but_still_no_content(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client),
        tracer_provider=provider,
        registry=registry,
        session_id_mode="raw",
    )
    logs = await _exercise(session, valkey_client)
    spans = exporter.get_finished_spans()
    assert spans[0].attributes is not None
    assert spans[0].attributes["gen_ai.conversation.id"] == SECRET_ID
    assert logs[0]["session"] == SECRET_ID
    assert SECRET_ID not in generate_latest(registry).decode()
    assert SECRET_TEXT not in _everything(exporter, registry, logs)


async def test_none_mode_drops_the_session_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client),
        tracer_provider=provider,
        registry=registry,
        session_id_mode="none",
    )
    logs = await _exercise(session, valkey_client)
    assert "gen_ai.conversation.id" not in _everything(exporter, registry, logs)
    assert "session" not in logs[0]


async def test_capture_content_is_opt_in(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession("content", valkey_client),
        tracer_provider=provider,
        registry=registry,
        capture_content=True,
    )
    logs = await _exercise(session, valkey_client)
    assert logs[0]["content"] == [{"role": "user", "content": SECRET_TEXT}]
    add_span = exporter.get_finished_spans()[0]
    assert SECRET_TEXT in add_span.events[0].attributes["openai_agents_session.content"]  # type: ignore[index]
    assert SECRET_TEXT not in generate_latest(registry).decode()


async def test_hash_key_changes_the_conversation_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    for key in (b"one", b"two"):
        session = instrument(
            RedisSession("same-id", valkey_client),
            tracer_provider=provider,
            registry=registry,
            session_id_key=key,
        )
        await session.get_items()
    first, second = (s.attributes["gen_ai.conversation.id"] for s in exporter.get_finished_spans())  # type: ignore[index]
    assert first != second
