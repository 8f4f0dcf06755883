"""A failing call's telemetry must not carry the raw session id either.

The store's own error messages name the Redis key so the caller can act on them,
and the key holds the session id. Telemetry passes errors on (the log event's
``error`` field, the span's exception event), so it must not pass that id with
them unless the app opted into raw ids.
"""

from __future__ import annotations

import logging
import uuid

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from structlog.testing import LogCapture

from openai_agents_session import RedisSession, SessionKeyTypeError, instrument


async def test_a_wrong_type_error_leaks_no_raw_session_id(valkey_client: Redis) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    store = RedisSession(canary, valkey_client, ttl=600)
    await valkey_client.set(store.key, "not a list", ex=600)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    logs = LogCapture()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[logs],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    session = instrument(
        store, tracer_provider=provider, registry=CollectorRegistry(), logger=logger
    )
    try:
        with pytest.raises(SessionKeyTypeError):
            await session.get_items()
    finally:
        await valkey_client.delete(store.key)
        provider.shutdown()
    texts = [repr(entry) for entry in logs.entries]
    for span in exporter.get_finished_spans():
        texts += [str(value) for value in (span.attributes or {}).values()]
        texts += [str(v) for event in span.events for v in (event.attributes or {}).values()]
    assert texts, "the failed call emitted no telemetry"
    assert [text for text in texts if canary in text] == []
