"""CPU per call that the instrumentation adds, next to the libraries' own floors.

Every contender runs around the same ``CannedSession`` (no I/O), so what differs is
the telemetry alone. CPU time is the calling thread's (``time.thread_time_ns``): it
is not inflated when a busy machine deschedules the benchmark, and it leaves out the
``BatchSpanProcessor``'s export thread, whose queue is flushed between batches.

Contenders per operation:

* bare call: ``await canned.op()``;
* metrics + logs: ``instrument(canned)`` with a fresh registry and a filtering logger;
* bare span + attributes: ``tracer.start_as_current_span(name, kind=..., attributes=...)``
  around the canned call, with exactly the name, kind and attributes our span carried
  (captured from a real instrumented call on this machine's code);
* spans: ``instrument(canned)`` with every span sampled and batch-exported, plus
  metrics and logs; same provider as the bare spans;
* bare span: the same ``start_as_current_span`` with no attributes (the SDK's floor);
* prometheus_client floor: a ``Counter``, a ``Histogram`` and a ``Counter`` with bound
  label children, three updates (no call around them).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from items import conversation
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, Counter, Histogram
from sessions import CannedSession
from telemetry import Telemetry, metrics_and_logs, sampled_spans
from timing import Lane, interleave, paired_difference, paired_ratio, summary

__all__ = [
    "BUDGET_CONTENDERS",
    "PROMETHEUS",
    "Call",
    "Operation",
    "cpu_lane",
    "measure_budget",
    "nothing",
    "operations",
    "prometheus_floor",
]

BARE = "bare call"
METRICS_LOGS = "metrics + logs"
BARE_SPAN_ATTRS = "bare span + same attributes"
SPANS = "spans + metrics + logs"
BARE_SPAN = "bare span"
PROMETHEUS = "prometheus_client floor"
BUDGET_CONTENDERS = (BARE, METRICS_LOGS, BARE_SPAN_ATTRS, SPANS, BARE_SPAN, PROMETHEUS)

# Between calls the wrapper may leave work to the event loop; yielding this often
# lets it run inside the timing, as it would between real calls.
_YIELD_EVERY = 64

Call = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    name: str
    call: Call


def operations(items: list[Any]) -> tuple[Operation, ...]:
    one = items[:1]

    async def get_items(session: Any) -> Any:
        return await session.get_items(limit=20)

    async def add_items(session: Any) -> Any:
        return await session.add_items(one)

    async def pop_item(session: Any) -> Any:
        return await session.pop_item()

    async def clear_session(session: Any) -> Any:
        return await session.clear_session()

    return (
        Operation("get_items(limit=20)", get_items),
        Operation("add_items(1)", add_items),
        Operation("pop_item", pop_item),
        Operation("clear_session", clear_session),
    )


async def _span_shape(operation: Operation, items: list[Any]) -> tuple[str, Any, dict[str, Any]]:
    """Name, kind and final attributes of the span ours emits for ``operation``."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(provider=provider)
    await operation.call(telemetry.instrument(CannedSession("shape-probe", items)))
    provider.shutdown()
    spans = exporter.get_finished_spans()
    if len(spans) != 1:
        raise RuntimeError(f"{operation.name}: expected one span, got {len(spans)}")
    span = spans[0]
    return span.name, span.kind, dict(span.attributes or {})


def cpu_lane(body: Callable[[], Awaitable[Any]], calls: int, after: Callable[[], None]) -> Lane:
    async def lane() -> float:
        started = time.thread_time_ns()
        for index in range(calls):
            await body()
            if index % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        elapsed = time.thread_time_ns() - started
        after()
        return elapsed / calls / 1e3  # µs per call

    return lane


def prometheus_floor() -> Callable[[], Awaitable[None]]:
    registry = CollectorRegistry()
    outcomes = Counter("floor_operations", "ops", ["operation", "outcome"], registry=registry)
    duration = Histogram("floor_duration_seconds", "time", ["operation"], registry=registry)
    moved = Counter("floor_items", "items", ["operation"], registry=registry)
    bound = (
        outcomes.labels("add_items", "ok"),
        duration.labels("add_items"),
        moved.labels("add_items"),
    )

    async def updates() -> None:
        bound[0].inc()
        bound[1].observe(0.000123)
        bound[2].inc(1)

    return updates


def nothing() -> None:
    return None


async def _measure_operation(
    operation: Operation,
    items: list[Any],
    logs: Telemetry,
    spans: Telemetry,
    calls: int,
    rounds: int,
    rng: random.Random,
) -> dict[str, Any]:
    name, kind, attributes = await _span_shape(operation, items)
    assert spans.provider is not None
    tracer = spans.provider.get_tracer("budget-floor")
    canned = CannedSession("budget-session", items)
    with_logs = logs.instrument(CannedSession("budget-session", items))
    with_spans = spans.instrument(CannedSession("budget-session", items))

    async def bare() -> Any:
        return await operation.call(canned)

    async def bare_span_attrs() -> Any:
        with tracer.start_as_current_span(name, kind=kind, attributes=attributes):
            return await operation.call(canned)

    async def bare_span() -> Any:
        with tracer.start_as_current_span(name, kind=kind):
            return await operation.call(canned)

    async def metrics_logs() -> Any:
        return await operation.call(with_logs)

    async def spans_all() -> Any:
        return await operation.call(with_spans)

    lanes = {
        BARE: cpu_lane(bare, calls, nothing),
        METRICS_LOGS: cpu_lane(metrics_logs, calls, nothing),
        BARE_SPAN_ATTRS: cpu_lane(bare_span_attrs, calls, spans.flush),
        SPANS: cpu_lane(spans_all, calls, spans.flush),
        BARE_SPAN: cpu_lane(bare_span, calls, spans.flush),
        PROMETHEUS: cpu_lane(prometheus_floor(), calls, nothing),
    }
    samples = await interleave(lanes, rounds, rng)
    return {
        "operation": operation.name,
        "span": {"name": name, "kind": str(kind), "attributes": sorted(attributes)},
        "micros_per_call": {lane: summary(values) for lane, values in samples.items()},
        "metrics_logs_over_bare": paired_difference(samples[METRICS_LOGS], samples[BARE]),
        "spans_over_bare_span_attrs": paired_ratio(samples[SPANS], samples[BARE_SPAN_ATTRS]),
        "bare_span_attrs_over_bare": paired_difference(samples[BARE_SPAN_ATTRS], samples[BARE]),
    }


async def measure_budget(calls: int, rounds: int, rng: random.Random) -> dict[str, Any]:
    """µs of CPU per call for every contender and operation, with the budget comparisons."""
    items = conversation(40)
    logs = metrics_and_logs()
    spans = sampled_spans()
    try:
        results = [
            await _measure_operation(operation, items, logs, spans, calls, rounds, rng)
            for operation in operations(items)
        ]
    finally:
        spans.shutdown()
    assert spans.exporter is not None
    return {
        "calls_per_batch": calls,
        "rounds": rounds,
        "operations": results,
        "spans_exported": spans.exporter.exported,
    }
