"""What the demo's numbers are, read from the Prometheus registry it exports.

The live table and the summary are computed from the same registry a scraper
reads, with the same quantile estimate as PromQL's ``histogram_quantile``, so the
numbers on screen are the numbers a Grafana panel would show.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

__all__ = ["MetricsSnapshot", "OperationStats", "histogram_quantile", "take_snapshot"]

_PREFIX = "openai_agents_session_"
OPERATIONS = ("get_items", "add_items", "pop_item", "clear_session")


@dataclass
class OperationStats:
    count: int = 0
    errors: int = 0
    items: int = 0
    p50_seconds: float | None = None
    p99_seconds: float | None = None


@dataclass
class MetricsSnapshot:
    operations: dict[str, OperationStats] = field(default_factory=dict)
    errors: int = 0
    ttl_refreshes: int = 0
    trimmed_items: int = 0
    corrupt_items: int = 0
    slow_operations: int = 0
    telemetry_errors: int = 0

    @property
    def items_written(self) -> int:
        return self.operations["add_items"].items if "add_items" in self.operations else 0

    @property
    def items_read(self) -> int:
        return self.operations["get_items"].items if "get_items" in self.operations else 0

    @property
    def total_operations(self) -> int:
        return sum(stats.count for stats in self.operations.values())

    def as_json(self) -> dict[str, Any]:
        ops = {name: stats for name, stats in self.operations.items() if stats.count}
        return {
            "operations": {name: stats.count for name, stats in ops.items()},
            "p50_seconds": {name: _round(stats.p50_seconds) for name, stats in ops.items()},
            "p99_seconds": {name: _round(stats.p99_seconds) for name, stats in ops.items()},
            "items_written": self.items_written,
            "items_read": self.items_read,
            "errors": self.errors,
            "ttl_refreshes": self.ttl_refreshes,
            "trimmed_items": self.trimmed_items,
            "corrupt_items": self.corrupt_items,
            "slow_operations": self.slow_operations,
        }


def _round(seconds: float | None) -> float | None:
    # Bucket interpolation is an estimate: microseconds are all the precision it has.
    return None if seconds is None else round(seconds, 6)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Estimate the ``q`` quantile from cumulative ``(upper bound, count)`` buckets.

    Linear interpolation inside the bucket that holds the rank, as PromQL does; a
    rank in the ``+Inf`` bucket answers the highest finite bound. ``None`` when
    nothing was observed.
    """
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for upper_bound, count in ordered:
        if count >= rank:
            if math.isinf(upper_bound):
                return lower_bound
            if count == lower_count:
                return upper_bound
            return lower_bound + (upper_bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = upper_bound, count
    return lower_bound


def take_snapshot(registry: CollectorRegistry) -> MetricsSnapshot:
    """Sum the session metrics of ``registry`` over any extra labels, per operation."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for family in registry.collect():
        if not family.name.startswith(_PREFIX):
            continue
        for sample in family.samples:
            name = sample.name[len(_PREFIX) :]
            operation = sample.labels.get("operation", "")
            if name == "operation_duration_seconds_bucket":
                buckets[operation][float(sample.labels["le"])] += sample.value
                continue
            counts[(name, operation)] += sample.value
            if name == "operations_total" and sample.labels.get("outcome") == "error":
                counts[("operations_failed", operation)] += sample.value
    snapshot = MetricsSnapshot()
    for operation in OPERATIONS:
        histogram = sorted(buckets.get(operation, {}).items())
        snapshot.operations[operation] = OperationStats(
            count=int(counts[("operations_total", operation)]),
            errors=int(counts[("operations_failed", operation)]),
            items=int(counts[("items_total", operation)]),
            p50_seconds=histogram_quantile(0.5, histogram),
            p99_seconds=histogram_quantile(0.99, histogram),
        )

    def total(name: str) -> int:
        return int(sum(value for (metric, _), value in counts.items() if metric == name))

    snapshot.errors = total("errors_total")
    snapshot.ttl_refreshes = total("ttl_refreshes_total")
    snapshot.trimmed_items = total("trimmed_items_total")
    snapshot.corrupt_items = total("corrupt_items_total")
    snapshot.slow_operations = total("slow_operations_total")
    snapshot.telemetry_errors = total("telemetry_errors_total")
    return snapshot
