"""Every Prometheus metric of the sessions has its OpenTelemetry counterpart, with the same value.

The test walks every metric family prometheus_client holds for the sessions and reads
each sample's counterpart from the OTel instruments through the naming table: a new
Prometheus metric without a row in the table, or whose OTel value differs, fails it.
"""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, StoreEvent, instrument
from openai_agents_session.instrumentation.metric_names import (
    DB_OPERATION_NAME,
    ERROR_CATEGORY,
    ERROR_TYPE,
    EXPIRY_REASON,
    METRICS,
    SIGNAL,
    MetricName,
    by_prometheus_name,
)
from openai_agents_session.instrumentation.metrics import METRIC_PREFIX

from .test_otel_metrics import ReportingSession, otel_metrics, otel_points

# Prometheus label -> OTel attribute; any other label (the app's own) keeps its name.
ATTRIBUTE_OF_LABEL = {
    "operation": DB_OPERATION_NAME,
    "error_type": ERROR_CATEGORY,
    "reason": EXPIRY_REASON,
    "signal": SIGNAL,
}


def _raise(*_args: Any) -> Any:
    raise RuntimeError("log processor failed")


def _counterpart(reader: InMemoryMetricReader, row: MetricName, sample: Any) -> float:
    """The OTel value that corresponds to one Prometheus sample."""
    wanted = {ATTRIBUTE_OF_LABEL.get(k, k): v for k, v in sample.labels.items() if k != "outcome"}
    outcome = sample.labels.get("outcome")
    total = 0.0
    for point in otel_points(reader, row.otel):
        attributes = point.attributes
        if any(attributes.get(name) != value for name, value in wanted.items()):
            continue
        if outcome is not None and (ERROR_TYPE in attributes) != (outcome == "error"):
            continue
        if row.otel_kind == "counter":
            total += point.value
        elif sample.name.endswith("_sum"):
            total += point.sum
        else:  # a histogram's _count, or operations_total: the number of recordings
            total += point.count
    return total


async def _every_fact(session: Any, failing: Any) -> None:
    await session.add_items([{"a": 1}, {"b": 2}, {"c": 3}, {"d": 4}])
    await session.get_items()
    await session.pop_item()
    await session.clear_session()
    with pytest.raises(TypeError):
        await failing.add_items([{"not json": {1}}])


@pytest.mark.parametrize("labels", [None, {"tenant": "acme"}], ids=["no labels", "extra labels"])
async def test_every_prometheus_metric_has_its_otel_counterpart_with_the_same_value(
    valkey_client: Redis, session_id: str, labels: dict[str, str] | None
) -> None:
    registry = CollectorRegistry()
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    both = {"registry": registry, "meter_provider": meter_provider, "labels": labels}
    logger = structlog.wrap_logger(structlog.PrintLogger(), processors=[_raise])
    real = instrument(
        RedisSession(session_id, valkey_client, ttl=60, max_items=3),
        slow_threshold_seconds=1e-9,
        logger=logger,  # every log fails: telemetry errors to count
        **both,
    )
    await valkey_client.rpush(real.key, b"corrupt")
    # The facts a healthy Redis rarely shows, reported as a store reports them.
    scripted = {
        "get_items": [
            StoreEvent("get_items", items=1, session_length=1, corrupt_skipped=2, expired="max_age")
        ],
        "add_items": [StoreEvent("add_items", replayed=True, log_evictions=3, round_trips=2)],
    }
    failing = instrument(RedisSession(session_id, valkey_client), **both)
    await _every_fact(real, failing)
    await instrument(ReportingSession("scripted", scripted), **both).get_items()
    await instrument(ReportingSession("scripted", scripted), **both).add_items([{"e": 5}])

    compared: set[str] = set()
    nonzero: set[str] = set()
    for family in registry.collect():
        assert family.name.startswith(METRIC_PREFIX), family.name
        scraped = family.name + "_total" if family.type == "counter" else family.name
        row = by_prometheus_name(scraped)  # KeyError: a metric without an OTel counterpart
        assert row.prometheus_kind == family.type
        for sample in family.samples:
            if sample.name.endswith(("_created", "_bucket")):
                continue
            expected = sample.value
            assert _counterpart(reader, row, sample) == pytest.approx(expected), (
                sample.name,
                sample.labels,
            )
            compared.add(row.prometheus)
            if expected:
                nonzero.add(row.prometheus)
    table = {row.prometheus for row in METRICS}
    assert compared == table
    assert nonzero == table  # each one compared on a value that happened
    assert set(otel_metrics(reader)) == {row.otel for row in METRICS}
    meter_provider.shutdown()
