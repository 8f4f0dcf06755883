"""One path per operation: counted once, late configuration honoured, zeros from the start."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import LogCapture

from openai_agents_session import RedisSession, collect_store_events, instrument
from openai_agents_session.instrumentation.metrics import OPERATIONS

from .conftest import sample
from .test_wrapping import PlainSession

OPS = "openai_agents_session_operations_total"


class Forwarding:
    """A session wrapper of the user's (as ``EncryptedSession`` is): it forwards each call."""

    def __init__(self, inner: Any) -> None:
        self.underlying_session = inner
        self.session_id = inner.session_id

    async def get_items(self, limit: int | None = None) -> Any:
        return await self.underlying_session.get_items(limit)

    async def add_items(self, items: Any) -> None:
        await self.underlying_session.add_items(items)

    async def pop_item(self) -> Any:
        return await self.underlying_session.pop_item()

    async def clear_session(self) -> None:
        await self.underlying_session.clear_session()


async def test_an_instrumented_session_inside_another_is_counted_once(
    valkey_client: Any, session_id: str, registry: CollectorRegistry
) -> None:
    inner = instrument(RedisSession(session_id, valkey_client), registry=registry)
    outer = instrument(Forwarding(inner), registry=registry)
    with collect_store_events() as seen:
        await outer.add_items([{"a": 1}, {"b": 2}])
        await outer.get_items()
    assert sample(registry, OPS, operation="add_items", outcome="ok") == 1
    assert sample(registry, OPS, operation="get_items", outcome="ok") == 1
    # The store's facts still reach the outer layer and an app's own collector.
    assert sample(registry, "openai_agents_session_items_total", operation="add_items") == 2
    assert [event.operation for event in seen] == ["add_items", "get_items"]
    await inner.add_items([{"c": 3}])  # used on its own, the inner layer reports
    assert sample(registry, OPS, operation="add_items", outcome="ok") == 2
    await outer.clear_session()


LATE_SETUP = """
import asyncio, logging, sys
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from openai_agents_session import instrument
from tests.instrumentation.test_wrapping import PlainSession

async def main():
    session = instrument(PlainSession("late"), session_id_key="k")
    await session.add_items([{"a": 1}])          # no tracing SDK, structlog unconfigured
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)           # the app sets up telemetry afterwards
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    await session.get_items()
    print("spans", [span.name for span in exporter.get_finished_spans()])

asyncio.run(main())
"""


def test_a_tracer_provider_and_logging_set_up_later_are_used_on_the_next_call() -> None:
    # A global provider can be set once per process: this runs in a process of its own.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", LATE_SETUP], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "spans ['get_items PlainSession']"
    assert len(lines) == 2 and "session.operation" in lines[0] and "get_items" in lines[0]


async def test_a_log_level_lowered_later_takes_effect_on_the_next_call(
    registry: CollectorRegistry,
) -> None:
    capture = LogCapture()
    level = {"value": logging.INFO}

    class Switchable:
        """A logger whose level the app changes at run time."""

        def is_enabled_for(self, wanted: int) -> bool:
            return wanted >= level["value"]

        def __getattr__(self, name: str) -> Any:
            bound = structlog.wrap_logger(
                structlog.PrintLogger(),
                processors=[capture],
                wrapper_class=structlog.make_filtering_bound_logger(level["value"]),
            )
            return getattr(bound, name)

    session = instrument(PlainSession("levels"), registry=registry, logger=Switchable())
    await session.add_items([{"a": 1}])
    assert capture.entries == []
    level["value"] = logging.DEBUG
    await session.add_items([{"b": 2}])
    assert [entry["event"] for entry in capture.entries] == ["session.operation"]


def test_every_series_of_a_rare_event_exists_at_zero_from_the_start(
    registry: CollectorRegistry,
) -> None:
    instrument(PlainSession("zeros"), registry=registry)
    text = generate_latest(registry).decode()
    for operation in OPERATIONS:
        for outcome in ("ok", "error"):
            assert f'{OPS}{{operation="{operation}",outcome="{outcome}"}} 0.0' in text
        errors = "openai_agents_session_errors_total"
        assert f'{errors}{{error_type="timeout",operation="{operation}"}} 0.0' in text
        assert f'openai_agents_session_slow_operations_total{{operation="{operation}"}} 0.0' in text
    for name in ("trimmed_items_total", "duplicate_batches_total", "item_size_bytes_count"):
        assert f"openai_agents_session_{name} 0.0" in text
    assert 'openai_agents_session_telemetry_errors_total{signal="traces"} 0.0' in text


def test_default_series_carry_the_default_values_of_extra_labels(
    registry: CollectorRegistry,
) -> None:
    instrument(PlainSession("tenant"), registry=registry, labels={"tenant": "none"})
    labels = {"operation": "pop_item", "outcome": "error", "tenant": "none"}
    assert registry.get_sample_value(OPS, labels) == 0.0


async def test_content_capture_follows_the_genai_environment_switch(
    monkeypatch: pytest.MonkeyPatch, registry: CollectorRegistry
) -> None:
    capture = LogCapture()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    on = instrument(PlainSession("on"), registry=registry, logger=logger)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "false")
    off = instrument(PlainSession("off"), registry=registry, logger=logger)
    explicit = instrument(PlainSession("x"), registry=registry, logger=logger, capture_content=True)
    for session in (on, off, explicit):
        await session.add_items([{"role": "user", "content": "hello"}])
    assert [entry.get("content") for entry in capture.entries] == [
        [{"role": "user", "content": "hello"}],
        None,
        [{"role": "user", "content": "hello"}],
    ]
