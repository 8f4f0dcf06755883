"""Telemetry never changes results and never raises into the caller; failures are counted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from openai_agents_session import RedisSession, instrument

from .conftest import sample


class ExplodingProcessor(SpanProcessor):
    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("processor start failed")

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("processor end failed")


class ExplodingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector down")


def _raise(*_args: Any) -> Any:
    raise RuntimeError("log processor failed")


async def _run_ops(session: Any) -> list[Any]:
    await session.add_items([{"a": 1}, {"b": 2}])
    results = [await session.get_items(), await session.pop_item()]
    await session.clear_session()
    return results


def _telemetry_errors(registry: CollectorRegistry, signal: str) -> float:
    return sample(registry, "openai_agents_session_telemetry_errors_total", signal=signal)


async def test_raising_span_processor_changes_nothing_and_is_counted(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(ExplodingProcessor())
    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    assert await _run_ops(session) == [[{"a": 1}, {"b": 2}], {"b": 2}]
    assert _telemetry_errors(registry, "traces") >= 4
    assert (
        sample(
            registry, "openai_agents_session_operations_total", operation="get_items", outcome="ok"
        )
        == 1
    )


async def test_raising_exporter_is_swallowed_by_the_sdk_and_counted(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ExplodingExporter()))
    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    assert await _run_ops(session) == [[{"a": 1}, {"b": 2}], {"b": 2}]
    assert _telemetry_errors(registry, "traces") >= 1


async def test_raising_log_processor_changes_nothing_and_is_counted(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    logger = structlog.wrap_logger(structlog.PrintLogger(), processors=[_raise])
    session = instrument(RedisSession(session_id, valkey_client), registry=registry, logger=logger)
    assert await _run_ops(session) == [[{"a": 1}, {"b": 2}], {"b": 2}]
    assert _telemetry_errors(registry, "logs") == 4


async def test_raising_label_function_changes_nothing_and_is_counted(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    def broken(_wrapper: Any) -> dict[str, str]:
        raise KeyError("tenant")

    from agents.run_context import RunContextWrapper

    session = instrument(
        RedisSession(session_id, valkey_client),
        registry=registry,
        labels={"tenant": "unknown"},
        labels_from_context=broken,
    )
    await session.add_items([{"a": 1}], wrapper=RunContextWrapper(context=None))
    assert await session.get_items() == [{"a": 1}]
    assert _telemetry_errors(registry, "metrics") == 1


async def test_storage_errors_are_classified(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    from support import free_port

    no_retry = Retry(NoBackoff(), 0)
    unreachable = Redis(
        host="127.0.0.1", port=free_port(), socket_connect_timeout=1, retry=no_retry
    )
    session = instrument(RedisSession(session_id, unreachable), registry=registry)
    with pytest.raises(Exception, match=r"[Cc]onnect"):
        await session.get_items()
    await unreachable.aclose()

    await valkey_client.set("openai_agents_session:" + session_id + "-str", "x")
    typed = instrument(RedisSession(session_id + "-str", valkey_client), registry=registry)
    with pytest.raises(Exception, match="holds a string"):
        await typed.pop_item()

    slow_client = Redis(
        host=valkey_client.connection_pool.connection_kwargs["host"],
        port=valkey_client.connection_pool.connection_kwargs["port"],
        socket_timeout=0.2,
        retry=no_retry,
    )
    stalled = instrument(RedisSession(session_id, slow_client), registry=registry)
    await slow_client.ping()
    await valkey_client.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    try:
        with pytest.raises(Exception, match=r"[Tt]imeout"):
            await stalled.get_items()
    finally:
        await asyncio.sleep(1.5)
        await slow_client.aclose()

    cancelled = instrument(RedisSession(session_id, valkey_client), registry=registry)
    await valkey_client.execute_command("CLIENT", "PAUSE", 300, "ALL")
    task = asyncio.ensure_future(cancelled.add_items([{"n": 1}]))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    errors = "openai_agents_session_errors_total"
    assert sample(registry, errors, operation="get_items", error_type="connection") == 1
    assert sample(registry, errors, operation="pop_item", error_type="redis") == 1
    assert sample(registry, errors, operation="get_items", error_type="timeout") == 1
    assert sample(registry, errors, operation="add_items", error_type="cancelled") == 1


async def test_exemplars_carry_the_trace_id_in_openmetrics(
    valkey_client: Redis, session_id: str, provider: Any, exporter: Any, registry: CollectorRegistry
) -> None:
    from prometheus_client.openmetrics.exposition import generate_latest

    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    await session.get_items()
    trace_id = format(exporter.get_finished_spans()[0].context.trace_id, "032x")
    text = generate_latest(registry).decode()
    lines = [
        line for line in text.splitlines() if "duration_seconds_bucket" in line and "#" in line
    ]
    assert lines, text
    assert f'trace_id="{trace_id}"' in lines[0]


async def test_cancelled_span_is_not_an_error(
    valkey_client: Redis, session_id: str, provider: Any, exporter: Any, registry: CollectorRegistry
) -> None:
    from opentelemetry.trace import StatusCode

    session = instrument(
        RedisSession(session_id, valkey_client), tracer_provider=provider, registry=registry
    )
    task = asyncio.ensure_future(session.get_items())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = exporter.get_finished_spans()[-1]
    assert span.status.status_code is not StatusCode.ERROR
    assert [event.name for event in span.events] == ["cancelled"]
