"""OTel metrics: exemplars link durations to spans; a failing instrument never breaks storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.metrics import Counter, Histogram, NoOpMeter, NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument

from .conftest import sample
from .test_otel_metrics import otel_points


async def test_the_duration_links_to_the_operations_span_as_an_exemplar(
    valkey_client: Redis,
    session_id: str,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
) -> None:
    reader = InMemoryMetricReader()
    # The SDK's default exemplar filter (trace_based): sampled spans only.
    meter_provider = MeterProvider(metric_readers=[reader])
    session = instrument(
        RedisSession(session_id, valkey_client),
        tracer_provider=provider,
        meter_provider=meter_provider,
        registry=registry,
    )
    await session.get_items()
    span = exporter.get_finished_spans()[0]
    (point,) = otel_points(reader, "db.client.operation.duration")
    (exemplar,) = point.exemplars
    assert (exemplar.trace_id, exemplar.span_id) == (span.context.trace_id, span.context.span_id)
    assert exemplar.value == point.sum
    meter_provider.shutdown()


class _Exploding:
    def add(self, *_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("instrument failed")

    record = add


class _ExplodingMeter(NoOpMeter):
    def create_counter(self, name: str, unit: str = "", description: str = "") -> Counter:
        return _Exploding()  # type: ignore[return-value]

    def create_histogram(
        self,
        name: str,
        unit: str = "",
        description: str = "",
        *,
        explicit_bucket_boundaries_advisory: Sequence[float] | None = None,
    ) -> Histogram:
        return _Exploding()  # type: ignore[return-value]


class _ExplodingMeterProvider(NoOpMeterProvider):
    def get_meter(self, name: str, *args: Any, **kwargs: Any) -> NoOpMeter:
        return _ExplodingMeter(name)


async def test_a_failing_otel_instrument_changes_nothing_and_is_counted(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(session_id, valkey_client),
        meter_provider=_ExplodingMeterProvider(),
        registry=registry,
    )
    await session.add_items([{"a": 1}, {"b": 2}])
    assert await session.get_items() == [{"a": 1}, {"b": 2}]
    assert await session.pop_item() == {"b": 2}
    await session.clear_session()
    operations = "openai_agents_session_operations_total"
    for operation in ("add_items", "get_items", "pop_item", "clear_session"):
        assert sample(registry, operations, operation=operation, outcome="ok") == 1
    errors = "openai_agents_session_telemetry_errors_total"
    assert sample(registry, errors, signal="metrics") == 4
