"""Metrics through OpenTelemetry: the conventions' duration histogram and the store's facts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, StoreEvent, instrument
from openai_agents_session.events import StoreInfo, report
from openai_agents_session.instrumentation.metric_names import (
    METER_NAME,
    METRICS,
    OPERATION_DURATION_BUCKETS,
    by_otel_name,
)

from .conftest import sample
from .test_wrapping import PlainSession

DURATION = "db.client.operation.duration"
SEMCONV = {"db.system.name", "db.operation.name", "db.namespace", "server.address", "server.port"}


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(reader: InMemoryMetricReader) -> Iterator[MeterProvider]:
    provider = MeterProvider(metric_readers=[reader])
    yield provider
    provider.shutdown()


def otel_metrics(reader: InMemoryMetricReader) -> dict[str, Any]:
    """Each instrument of ours that has data, by name."""
    data = reader.get_metrics_data()
    found: dict[str, Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            if scope.scope.name == METER_NAME:
                found.update((metric.name, metric) for metric in scope.metrics)
    return found


def otel_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    metric = otel_metrics(reader).get(name)
    return [] if metric is None else list(metric.data.data_points)


def otel_value(reader: InMemoryMetricReader, name: str, **attributes: Any) -> float:
    """A counter's value, or a histogram's count, over the points carrying ``attributes``."""
    total = 0.0
    for point in otel_points(reader, name):
        if all(point.attributes.get(key) == value for key, value in attributes.items()):
            total += point.count if hasattr(point, "count") else point.value
    return total


class ReportingSession(PlainSession):
    """A session whose store reports the events a test scripts, as a store does."""

    def __init__(self, session_id: str, events: Mapping[str, Sequence[StoreEvent]]) -> None:
        super().__init__(session_id)
        self.events = events

    def _report(self, operation: str) -> None:
        for event in self.events.get(operation, ()):
            report(event)

    async def get_items(self, limit: int | None = None) -> list[Any]:
        self._report("get_items")
        return await super().get_items(limit)

    async def add_items(self, items: list[Any]) -> None:
        self._report("add_items")
        await super().add_items(items)

    async def pop_item(self) -> Any:
        self._report("pop_item")
        return await super().pop_item()

    async def clear_session(self) -> None:
        self._report("clear_session")
        await super().clear_session()

    def store_info(self) -> StoreInfo:
        return StoreInfo("redis", "app", "cache.internal", 6380)


async def test_duration_counts_equal_the_operations_made(
    valkey_client: Redis,
    session_id: str,
    meter_provider: MeterProvider,
    reader: InMemoryMetricReader,
    registry: CollectorRegistry,
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client, ttl=60),
        meter_provider=meter_provider,
        registry=registry,
    )
    await session.add_items([{"a": 1}, {"b": 2}])
    for _ in range(3):
        await session.get_items()
    await session.pop_item()
    await session.clear_session()
    made = {"add_items": 1, "get_items": 3, "pop_item": 1, "clear_session": 1}
    for operation, count in made.items():
        assert otel_value(reader, DURATION, **{"db.operation.name": operation}) == count
    assert otel_value(reader, DURATION) == sum(made.values())
    assert otel_value(reader, DURATION, **{"error.type": None}) == sum(made.values())


async def test_duration_carries_exactly_the_conventions_attributes_as_the_span_does(
    valkey_client: Redis,
    session_id: str,
    meter_provider: MeterProvider,
    reader: InMemoryMetricReader,
    provider: Any,
    exporter: InMemorySpanExporter,
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client),
        meter_provider=meter_provider,
        tracer_provider=provider,
        prometheus=False,
    )
    await session.get_items()
    (point,) = otel_points(reader, DURATION)
    span_attributes = dict(exporter.get_finished_spans()[0].attributes or {})
    assert set(point.attributes) == SEMCONV
    assert dict(point.attributes) == {name: span_attributes[name] for name in SEMCONV}


async def test_a_failure_adds_error_type_the_exceptions_qualified_name(
    meter_provider: MeterProvider,
    reader: InMemoryMetricReader,
    provider: Any,
    exporter: InMemorySpanExporter,
) -> None:
    session = instrument(
        ReportingSession("s", {}),
        meter_provider=meter_provider,
        tracer_provider=provider,
        prometheus=False,
    )
    with pytest.raises(TypeError):
        await session.add_items(None)  # type: ignore[arg-type]
    (point,) = otel_points(reader, DURATION)
    assert set(point.attributes) == SEMCONV | {"error.type"}
    assert point.attributes["error.type"] == "TypeError"
    assert (
        point.attributes["error.type"] == exporter.get_finished_spans()[0].attributes["error.type"]
    )
    errors = {"db.operation.name": "add_items", "openai_agents_session.error_type": "serialization"}
    assert otel_value(reader, "openai_agents_session.errors", **errors) == 1


async def test_instruments_carry_only_their_tables_attributes_and_units(
    meter_provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    events = {
        "add_items": [
            StoreEvent(
                "add_items", items=2, session_length=5, ttl_refreshed=True, trimmed=1,
                item_sizes=(10, 20), replayed=True, log_evictions=1, expired="max_age",
            )
        ],
        "get_items": [StoreEvent("get_items", items=1, session_length=5, corrupt_skipped=1)],
    }  # fmt: skip
    session = instrument(
        ReportingSession("private-session-id", events),
        meter_provider=meter_provider,
        prometheus=False,
        slow_threshold_seconds=1e-9,
        session_id_mode="raw",
    )
    await session.add_items([{"secret": "content"}])
    await session.get_items()
    found = otel_metrics(reader)
    assert set(found) == {row.otel for row in METRICS}
    for name, metric in found.items():
        (row, *_) = by_otel_name(name)
        assert metric.unit == row.unit, name
        for point in metric.data.data_points:
            assert set(point.attributes) <= set(row.otel_attributes), (name, point.attributes)
            assert not {"private-session-id", "content", "secret"} & {
                str(value) for value in point.attributes.values()
            }


async def test_histograms_use_the_conventions_and_prometheus_buckets(
    meter_provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    from openai_agents_session.instrumentation.metrics import LENGTH_BUCKETS, SIZE_BUCKETS

    events = {"add_items": [StoreEvent("add_items", items=1, session_length=1, item_sizes=(9,))]}
    session = instrument(
        ReportingSession("s", events), meter_provider=meter_provider, prometheus=False
    )
    await session.add_items([{"a": 1}])
    bounds = {name: tuple(points[0].explicit_bounds) for name, points in _by_name(reader).items()}
    assert (
        bounds[DURATION]
        == OPERATION_DURATION_BUCKETS
        == (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10)
    )
    assert bounds["openai_agents_session.session.items"] == LENGTH_BUCKETS
    assert bounds["openai_agents_session.item.size"] == SIZE_BUCKETS


def _by_name(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    return {
        name: list(metric.data.data_points)
        for name, metric in otel_metrics(reader).items()
        if hasattr(metric.data.data_points[0], "explicit_bounds")
    }


def test_the_meter_is_the_package_with_its_version(
    meter_provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    from openai_agents_session import __version__

    instrument(PlainSession("s"), meter_provider=meter_provider, prometheus=False)
    data = reader.get_metrics_data()
    assert data is not None
    scopes = {
        scope.scope.name: scope.scope.version
        for r in data.resource_metrics
        for scope in r.scope_metrics
    }
    assert scopes == {METER_NAME: __version__}


async def test_extra_labels_are_attributes_of_every_instrument(
    meter_provider: MeterProvider, reader: InMemoryMetricReader
) -> None:
    from agents.run_context import RunContextWrapper

    from .test_wrapping import ContextAwareSession

    session = instrument(
        ContextAwareSession("s"),
        meter_provider=meter_provider,
        prometheus=False,
        labels={"tenant": "none"},
        labels_from_context=lambda wrapper: {"tenant": wrapper.context["tenant"]},
    )
    await session.add_items([{"a": 1}], wrapper=RunContextWrapper(context={"tenant": "acme"}))
    await session.get_items()
    for name, metric in otel_metrics(reader).items():
        for point in metric.data.data_points:
            if name != "openai_agents_session.telemetry.errors":
                assert point.attributes["tenant"] in ("none", "acme"), name
    assert otel_value(reader, DURATION, tenant="acme", **{"db.operation.name": "add_items"}) == 1
    assert otel_value(reader, DURATION, tenant="none", **{"db.operation.name": "get_items"}) == 1


async def test_an_expired_session_is_counted_by_reason_in_both_systems(
    meter_provider: MeterProvider, reader: InMemoryMetricReader, registry: CollectorRegistry
) -> None:
    expired = "openai_agents_session_sessions_expired_total"
    events = {"get_items": [StoreEvent("get_items", session_length=0, expired="max_age")]}
    session = instrument(
        ReportingSession("s", events), meter_provider=meter_provider, registry=registry
    )
    assert registry.get_sample_value(expired, {"reason": "max_age"}) == 0.0
    await session.get_items()
    await session.add_items([{"a": 1}])
    assert sample(registry, expired, reason="max_age") == 1
    reason = {"openai_agents_session.expiry.reason": "max_age"}
    assert otel_value(reader, "openai_agents_session.sessions.expired", **reason) == 1


async def test_an_expiry_reported_among_several_events_of_one_call_is_kept(
    registry: CollectorRegistry,
) -> None:
    events = {
        "get_items": [
            StoreEvent("get_items", items=0, session_length=0, expired="max_age"),
            StoreEvent("get_items", items=2, session_length=2),
        ]
    }
    session = instrument(ReportingSession("s", events), registry=registry)
    await session.get_items()
    assert sample(registry, "openai_agents_session_sessions_expired_total", reason="max_age") == 1
    assert sample(registry, "openai_agents_session_items_total", operation="get_items") == 2


def test_a_registry_with_prometheus_turned_off_is_refused(registry: CollectorRegistry) -> None:
    with pytest.raises(ValueError, match="prometheus=False"):
        instrument(PlainSession("s"), registry=registry, prometheus=False, otel_metrics=True)


LATE_PROVIDER = """
import asyncio
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import REGISTRY, generate_latest
from openai_agents_session import instrument
from tests.instrumentation.test_wrapping import PlainSession

async def main():
    session = instrument(PlainSession("late"), otel_metrics=True, prometheus=False)
    await session.add_items([{"a": 1}])            # no metrics SDK yet: nothing to record
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    await session.get_items()
    for resource in reader.get_metrics_data().resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "db.client.operation.duration":
                    for point in metric.data.data_points:
                        print(dict(point.attributes), point.count)
    print("prometheus", "openai_agents_session" in generate_latest(REGISTRY).decode())

asyncio.run(main())
"""


def test_a_global_meter_provider_set_up_later_is_used_and_prometheus_can_be_off() -> None:
    # A global provider can be set once per process: this runs in a process of its own.
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", LATE_PROVIDER], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "{'db.operation.name': 'get_items'} 1",
        "prometheus False",
    ]
