"""Each operation emits a span, metrics and log events carrying the store's facts."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from structlog.testing import capture_logs

from openai_agents_session import RedisSession, instrument
from openai_agents_session.instrumentation import conversation_id

from .conftest import sample


async def test_one_span_per_operation_with_store_facts(
    valkey_client: Redis,
    session_id: str,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client, ttl=60, max_items=3),
        tracer_provider=provider,
        registry=registry,
    )
    await session.add_items([{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}])
    await session.get_items(2)
    await session.pop_item()
    await session.clear_session()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [
        "add_items RedisSession",
        "get_items RedisSession",
        "pop_item RedisSession",
        "clear_session RedisSession",
    ]
    add, get, pop, clear = (dict(s.attributes or {}) for s in spans)
    assert all(s.kind is SpanKind.INTERNAL for s in spans)
    assert add["db.system.name"] == "redis"
    assert add["db.operation.name"] == "add_items"
    assert add["gen_ai.conversation.id"] == conversation_id(session_id, "hashed")
    assert add["openai_agents_session.items"] == 4
    assert add["openai_agents_session.session_length"] == 3
    assert add["openai_agents_session.trimmed"] == 1
    assert add["openai_agents_session.ttl_refreshed"] is True
    assert add["openai_agents_session.bytes"] == 28
    assert get["openai_agents_session.limit"] == 2
    assert get["openai_agents_session.items"] == 2
    assert "openai_agents_session.corrupt_skipped" not in get  # zero facts are left out
    assert pop["openai_agents_session.session_length"] == 2
    assert clear["openai_agents_session.items"] == 2


async def test_metrics_count_operations_items_and_facts(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client, ttl=60, max_items=3), registry=registry
    )
    await session.add_items([{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}])
    await valkey_client.rpush(session.key, b"corrupt")
    await session.get_items()
    await session.pop_item()
    await session.clear_session()
    prefix = "openai_agents_session_"
    for operation in ("add_items", "get_items", "pop_item", "clear_session"):
        assert sample(registry, prefix + "operations_total", operation=operation, outcome="ok") == 1
        assert (
            sample(registry, prefix + "operation_duration_seconds_count", operation=operation) == 1
        )
    assert sample(registry, prefix + "items_total", operation="add_items") == 4
    assert sample(registry, prefix + "items_total", operation="get_items") == 3
    assert sample(registry, prefix + "items_total", operation="pop_item") == 1
    assert sample(registry, prefix + "trimmed_items_total") == 1
    assert sample(registry, prefix + "corrupt_items_total", operation="get_items") == 1
    assert sample(registry, prefix + "corrupt_items_total", operation="pop_item") == 1
    assert sample(registry, prefix + "ttl_refreshes_total", operation="add_items") == 1
    assert sample(registry, prefix + "ttl_refreshes_total", operation="get_items") == 1
    assert sample(registry, prefix + "item_size_bytes_count") == 4
    assert sample(registry, prefix + "item_size_bytes_sum") == 28
    assert sample(registry, prefix + "session_items_sum", operation="add_items") == 3
    assert sample(registry, prefix + "session_items_sum", operation="get_items") == 4


async def test_logs_carry_trace_context_and_hashed_session(
    valkey_client: Redis, session_id: str, provider: Any, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    with capture_logs() as logs:
        await session.add_items([{"a": 1}])
        await session.get_items()
    add, get = logs
    assert add["event"] == "session.operation"
    assert add["log_level"] == "debug"
    assert add["operation"] == "add_items"
    assert add["items"] == 1
    assert add["session"] == conversation_id(session_id, "hashed")
    assert len(add["trace_id"]) == 32 and len(add["span_id"]) == 16
    assert add["duration_s"] >= 0
    assert get["session_length"] == 1


async def test_slow_and_corrupt_operations_log_warnings(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client),
        registry=registry,
        slow_threshold_seconds=1e-9,
    )
    await valkey_client.rpush(session.key, b"corrupt", b'{"ok":1}')
    with capture_logs() as logs:
        await session.get_items()
    events = {log["event"]: log for log in logs}
    assert events["session.slow_operation"]["log_level"] == "warning"
    assert events["session.corrupt_items"]["corrupt_skipped"] == 1
    assert (
        sample(registry, "openai_agents_session_slow_operations_total", operation="get_items") == 1
    )


async def test_wrapping_another_session_derives_what_it_can(
    session_id: str, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    from agents import SQLiteSession

    session = instrument(SQLiteSession(session_id), tracer_provider=provider, registry=registry)
    await session.add_items([{"role": "user", "content": "hi"}])
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    assert await session.pop_item() == {"role": "user", "content": "hi"}
    await session.clear_session()
    span = exporter.get_finished_spans()[0]
    attributes = dict(span.attributes or {})
    assert span.name == "add_items SQLiteSession"
    assert "db.system.name" not in attributes
    assert attributes["openai_agents_session.items"] == 1
    assert sample(registry, "openai_agents_session_items_total", operation="get_items") == 1
    assert sample(registry, "openai_agents_session_items_total", operation="pop_item") == 1


async def test_errors_are_recorded_classified_and_reraised_unchanged(
    valkey_client: Redis,
    session_id: str,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    bad = {"x": {1}}
    with capture_logs() as logs:
        try:
            await session.add_items([bad])
        except TypeError as exc:
            raised = exc
    assert "item 0 of 1" in str(raised)
    span = exporter.get_finished_spans()[-1]
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "TypeError"
    assert [e.name for e in span.events] == ["exception"]
    assert logs[-1]["event"] == "session.operation_failed"
    assert logs[-1]["log_level"] == "error"
    assert logs[-1]["error_type"] == "serialization"
    labels = {"operation": "add_items"}
    assert (
        sample(registry, "openai_agents_session_errors_total", error_type="serialization", **labels)
        == 1
    )
    assert (
        sample(registry, "openai_agents_session_operations_total", outcome="error", **labels) == 1
    )
