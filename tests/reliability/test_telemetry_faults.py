"""Telemetry that fails never changes storage results and never holds up a call.

The same workload runs on a plain session and on an instrumented one whose
telemetry is broken in one way: an exporter that raises, one that hangs (the
storage calls all complete while it is still blocked), one that is slow, a span
queue that is full, a span processor and a log processor that raise. Results,
errors included, must be identical, and the failure counted where it can be.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument

from .kit import Row, metric_total, sample

ROUNDS = 10


class RaisingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector unreachable")


class BlockedExporter(SpanExporter):
    """Blocks every export until ``release`` is set, as a hung collector would."""

    def __init__(self, delay: float = 0.0) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.delay = delay
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.entered.set()
        if self.delay:
            time.sleep(self.delay)
        else:
            self.release.wait(30)
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


class RaisingProcessor(SpanProcessor):
    def on_start(self, span: Any, parent_context: Any = None) -> None:
        raise RuntimeError("span processor failed")

    def on_end(self, span: ReadableSpan) -> None:
        raise RuntimeError("span processor failed")


def _raising_log_processor(*_args: Any) -> Any:
    raise RuntimeError("log processor failed")


async def _workload(session: Any, rounds: int = ROUNDS) -> list[Any]:
    """Every operation, a refused batch among them; results and error types in order."""
    results: list[Any] = []

    async def step(call: Any) -> None:
        try:
            results.append(await call)
        except (TypeError, ValueError) as error:
            results.append(type(error).__name__)

    for n in range(rounds):
        await step(session.add_items([{"role": "user", "content": f"hi {n}"}, {"n": n}]))
        await step(session.get_items())
        await step(session.get_items(1))
        await step(session.pop_item())
        await step(session.add_items([{"bad": {1, 2}}]))
    await step(session.clear_session())
    await step(session.get_items())
    return results


def _setup(fault: str) -> tuple[TracerProvider, Any, BlockedExporter | None, str]:
    """(provider, logger, exporter to release, signal the failure counts in)."""
    provider = TracerProvider()
    logger = None
    blocked = None
    signal = "traces"
    if fault == "exporter raises":
        provider.add_span_processor(SimpleSpanProcessor(RaisingExporter()))
    elif fault == "exporter hangs":
        blocked = BlockedExporter()
        provider.add_span_processor(BatchSpanProcessor(blocked, schedule_delay_millis=1))
    elif fault == "exporter slow":
        blocked = BlockedExporter(delay=0.05)
        provider.add_span_processor(BatchSpanProcessor(blocked, schedule_delay_millis=1))
    elif fault == "span queue full":
        blocked = BlockedExporter()
        provider.add_span_processor(
            BatchSpanProcessor(
                blocked, max_queue_size=4, max_export_batch_size=2, schedule_delay_millis=1
            )
        )
    elif fault == "span processor raises":
        provider.add_span_processor(RaisingProcessor())
    elif fault == "log processor raises":
        logger = structlog.wrap_logger(
            structlog.PrintLogger(),
            processors=[_raising_log_processor],
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        )
        signal = "logs"
    return provider, logger, blocked, signal


FAULTS = [
    "exporter raises",
    "exporter hangs",
    "exporter slow",
    "span queue full",
    "span processor raises",
    "log processor raises",
]


@pytest.mark.parametrize("fault", FAULTS)
async def test_broken_telemetry_changes_no_result(
    fault: str, valkey_client: Redis, record_row: Callable[[Row], None]
) -> None:
    run = uuid.uuid4().hex[:8]
    expected = await _workload(RedisSession(f"tel-plain-{run}", valkey_client, ttl=600))
    provider, logger, blocked, signal = _setup(fault)
    registry = CollectorRegistry()
    session = instrument(
        RedisSession(f"tel-{run}", valkey_client, ttl=600),
        tracer_provider=provider,
        registry=registry,
        logger=logger,
    )
    try:
        if blocked is not None:
            # Make sure the exporter is inside export() before the workload starts.
            await session.get_items()
            assert blocked.entered.wait(10)
        results = await _workload(session)
        # Functional, not timed: every call returned while a hung exporter still blocks.
        hung_throughout = blocked is not None and not blocked.release.is_set()
        if blocked is not None and blocked.delay == 0:
            assert hung_throughout
    finally:
        if blocked is not None:
            blocked.release.set()
        provider.shutdown()
    failures = sample(registry, "telemetry_errors_total", signal=signal)
    calls = ROUNDS * 5 + 2 + (blocked is not None)
    refused = results.count("TypeError")
    record_row(
        Row(
            f"Telemetry: {fault}",
            {
                "exporter raises": "SimpleSpanProcessor whose exporter raises ConnectionError",
                "exporter hangs": "BatchSpanProcessor whose exporter blocks on an Event "
                "until every call returned",
                "exporter slow": "BatchSpanProcessor whose exporter takes 50 ms per batch",
                "span queue full": "BatchSpanProcessor, queue of 4, exporter blocked",
                "span processor raises": "a SpanProcessor raising in on_start/on_end",
                "log processor raises": "a structlog processor that raises",
            }[fault],
            calls,
            calls - refused,
            0,
            0,
            0,
            0,
            f'`telemetry_errors_total{{signal="{signal}"}}` {int(failures)}'
            if failures
            else "none (the OTel SDK absorbs it; results unchanged)",
        )
    )
    assert results == expected
    assert metric_total(registry, "operations_total") == calls
    if fault in ("exporter raises", "span queue full", "span processor raises"):
        assert failures >= 1
    if fault == "log processor raises":
        assert failures >= 1
