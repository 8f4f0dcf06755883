"""A failing call's telemetry must not carry the raw session id either.

The store's own error messages name the Redis key so the caller can act on them,
and the key holds the session id. Telemetry passes errors on (the log event's
``error`` field, the span's exception event), so it must not pass that id with
them unless the app opted into raw ids. Connection errors are the exception: they
cannot hold a key, and an id that occurs in them by chance must not cost the
on-call engineer the address that could not be reached.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, ResponseError
from structlog.testing import LogCapture

from openai_agents_session import RedisSession, SessionKeyTypeError, instrument
from support import free_port


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


def _telemetry() -> tuple[TracerProvider, InMemorySpanExporter, LogCapture, structlog.BoundLogger]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    logs = LogCapture()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[logs],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    return provider, exporter, logs, logger


async def test_a_connection_error_keeps_its_message_when_the_id_occurs_in_it_by_chance() -> None:
    port = free_port()  # nothing listens there: a real connection refused
    client = Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    provider, exporter, logs, logger = _telemetry()
    session = instrument(
        RedisSession("1", client),
        tracer_provider=provider,
        registry=CollectorRegistry(),
        logger=logger,
    )
    try:
        with pytest.raises(ConnectionError) as raised:
            await session.get_items()
    finally:
        await client.aclose()
        provider.shutdown()
    assert f"connecting to 127.0.0.1:{port}" in str(raised.value)
    event = exporter.get_finished_spans()[-1].events[0].attributes or {}
    assert event["exception.message"] == str(raised.value)
    assert logs.entries[-1]["error"] == str(raised.value)[:300]
    stack = str(event["exception.stacktrace"])
    assert "ConnectionRefusedError: " in stack and f"127.0.0.1:{port}" in stack


class ScriptedSession:
    """A user's session whose server-side script fails naming the session's key."""

    def __init__(self, session_id: str, client: Redis) -> None:
        self.session_id = session_id
        self.client = client

    async def get_items(self, limit: int | None = None) -> Any:
        script = "return redis.error_reply('ERR cannot read ' .. KEYS[1])"
        return await self.client.eval(script, 1, f"openai_agents_session:{self.session_id}")

    async def add_items(self, items: Any) -> None: ...

    async def pop_item(self) -> Any: ...

    async def clear_session(self) -> None: ...


async def test_a_server_error_naming_the_session_is_still_withheld(valkey_client: Redis) -> None:
    provider, exporter, logs, logger = _telemetry()
    session = instrument(
        ScriptedSession("1", valkey_client),
        tracer_provider=provider,
        registry=CollectorRegistry(),
        logger=logger,
    )
    try:
        with pytest.raises(ResponseError) as raised:
            await session.get_items()
    finally:
        provider.shutdown()
    assert "openai_agents_session:1" in str(raised.value)
    event = exporter.get_finished_spans()[-1].events[0].attributes or {}
    assert str(event["exception.message"]).startswith("(message withheld: it names the session")
    assert logs.entries[-1]["error"] == event["exception.message"]
    assert "openai_agents_session:1" not in str(event["exception.stacktrace"])
