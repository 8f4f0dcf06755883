"""CPU per call of each metrics path, next to prometheus_client's and the OTel SDK's floors.

Every contender is ``instrument(canned)`` with the same production logger and no
tracing SDK; only the metrics differ, so the difference to the metrics-off contender
is what a metrics path costs per call:

* metrics off: ``instrument(canned, prometheus=False)``: the wrapper, logs only;
* prometheus_client: the default, into a fresh ``CollectorRegistry``;
* OpenTelemetry: ``prometheus=False`` and an SDK ``MeterProvider`` whose periodic
  reader exports to a discarding exporter (the export thread is not the calling
  thread, and the interval is longer than the section);
* both: prometheus_client and OpenTelemetry together;
* prometheus_client floor: three updates of bound children (as in ``budget``);
* OTel SDK floor: one ``Histogram.record`` on the same provider, with exactly the
  attributes our duration carried (captured from a real call, so it follows the
  code);
* OTel SDK, same updates: the SDK's own calls for every instrument our call updated
  (the duration, and the items counter where items moved), with the same values and
  attributes, on instruments of the same kinds: the least any OTel recorder of these
  facts can cost.

Ratios, paired round by round: the OTel path over the OTel floor and over the same
updates, and both paths together over the two floors added.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from budget import PROMETHEUS, Call, cpu_lane, nothing, operations, prometheus_floor
from items import conversation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from prometheus_client import CollectorRegistry
from sessions import CannedSession
from telemetry import SESSION_ID_KEY, production_logger
from timing import interleave, summary

from openai_agents_session import instrument
from openai_agents_session.instrumentation.metric_names import OPERATION_DURATION_BUCKETS

__all__ = ["METRICS_CONTENDERS", "measure_metrics_budget"]

OFF = "metrics off"
PROMETHEUS_PATH = "prometheus_client"
OTEL_PATH = "OpenTelemetry"
BOTH = "both"
OTEL_FLOOR = "OTel SDK floor"
OTEL_SAME = "OTel SDK, same updates"
METRICS_CONTENDERS = (OFF, PROMETHEUS_PATH, OTEL_PATH, BOTH, PROMETHEUS, OTEL_FLOOR, OTEL_SAME)
DURATION = "db.client.operation.duration"


class DiscardingMetricExporter(MetricExporter):
    """Accepts every export and keeps nothing."""

    def __init__(self) -> None:
        super().__init__(preferred_temporality={}, preferred_aggregation={})

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Nothing to release."""


def _meter_provider() -> MeterProvider:
    reader = PeriodicExportingMetricReader(
        DiscardingMetricExporter(), export_interval_millis=3_600_000
    )
    return MeterProvider(metric_readers=[reader])


# One instrument update of ours: (histogram or counter, value, attributes).
Update = tuple[bool, float, dict[str, Any]]


async def _updates(call: Call, items: list[Any]) -> list[Update]:
    """The instrument updates our OTel path made for one ``call`` (the duration first)."""
    reader = InMemoryMetricReader(preferred_temporality={}, preferred_aggregation={})
    provider = MeterProvider(metric_readers=[reader])
    session = instrument(
        CannedSession("shape-probe", items),
        meter_provider=provider,
        prometheus=False,
        session_id_key=SESSION_ID_KEY,
    )
    await call(session)
    data = reader.get_metrics_data()
    provider.shutdown()
    found: list[Update] = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    histogram = hasattr(point, "count")
                    value = point.sum if histogram else point.value
                    if (point.count if histogram else point.value) > 0:
                        found.append((histogram, value, dict(point.attributes)))
                        if metric.name == DURATION:
                            found.insert(0, found.pop())
    if not found or not found[0][0]:
        raise RuntimeError(f"expected a duration among the updates, got {found}")
    return found


def _otel_floor(
    provider: MeterProvider, name: str, updates: list[Update]
) -> Callable[[], Awaitable[None]]:
    meter = provider.get_meter(name)
    calls: list[tuple[Callable[..., None], float, dict[str, Any]]] = []
    for index, (histogram, value, attributes) in enumerate(updates):
        if histogram:
            instrument = meter.create_histogram(
                f"floor.h{index}", explicit_bucket_boundaries_advisory=OPERATION_DURATION_BUCKETS
            )
            calls.append((instrument.record, value, attributes))
        else:
            calls.append((meter.create_counter(f"floor.c{index}").add, value, attributes))

    async def record() -> None:
        for update, value, attributes in calls:
            update(value, attributes)

    return record


def _paired(values: dict[str, list[float]], formula: Callable[..., float], *names: str) -> Any:
    rounds: Sequence[tuple[float, ...]] = list(zip(*(values[name] for name in names), strict=True))
    return summary([formula(*row) for row in rounds])


async def _measure_operation(
    name: str, call: Call, items: list[Any], calls: int, rounds: int, rng: random.Random
) -> dict[str, Any]:
    provider = _meter_provider()
    updates = await _updates(call, items)
    logger = production_logger()

    def session(**options: Any) -> Any:
        canned = CannedSession("metrics-session", items)
        return instrument(canned, logger=logger, session_id_key=SESSION_ID_KEY, **options)

    contenders = {
        OFF: session(prometheus=False),
        PROMETHEUS_PATH: session(registry=CollectorRegistry()),
        OTEL_PATH: session(prometheus=False, meter_provider=provider),
        BOTH: session(registry=CollectorRegistry(), meter_provider=provider),
    }

    def calling(instrumented: Any) -> Callable[[], Awaitable[Any]]:
        async def body() -> Any:
            return await call(instrumented)

        return body

    lanes = {label: cpu_lane(calling(s), calls, nothing) for label, s in contenders.items()}
    lanes[PROMETHEUS] = cpu_lane(prometheus_floor(), calls, nothing)
    lanes[OTEL_FLOOR] = cpu_lane(_otel_floor(provider, "floor", updates[:1]), calls, nothing)
    lanes[OTEL_SAME] = cpu_lane(_otel_floor(provider, "same", updates), calls, nothing)
    samples = await interleave(lanes, rounds, rng)
    provider.shutdown()

    def over_off(path: str) -> Any:
        return _paired(samples, lambda on, off: on - off, path, OFF)

    return {
        "operation": name,
        "duration_attributes": sorted(updates[0][2]),
        "otel_updates": len(updates),
        "micros_per_call": {lane: summary(values) for lane, values in samples.items()},
        "prometheus_path": over_off(PROMETHEUS_PATH),
        "otel_path": over_off(OTEL_PATH),
        "both_paths": over_off(BOTH),
        "otel_path_over_otel_floor": _paired(
            samples, lambda on, off, floor: (on - off) / floor, OTEL_PATH, OFF, OTEL_FLOOR
        ),
        "otel_path_over_same_updates": _paired(
            samples, lambda on, off, floor: (on - off) / floor, OTEL_PATH, OFF, OTEL_SAME
        ),
        "both_paths_over_floors": _paired(
            samples,
            lambda on, off, prom, otel: (on - off) / (prom + otel),
            BOTH,
            OFF,
            PROMETHEUS,
            OTEL_FLOOR,
        ),
    }


async def measure_metrics_budget(calls: int, rounds: int, rng: random.Random) -> dict[str, Any]:
    """µs of CPU per call of each metrics path and floor, per operation, with the ratios."""
    items = conversation(40)
    results = [
        await _measure_operation(op.name, op.call, items, calls, rounds, rng)
        for op in operations(items)
    ]
    return {
        "calls_per_batch": calls,
        "rounds": rounds,
        "operations": results,
    }
