"""Prometheus metrics for session operations.

All session metrics of one registry live in one collector, created once per
registry and shared by every instrumented session that uses it: any number of
sessions on one registry, never "Duplicated timeseries". The hot path updates
plain dicts under a single lock per operation (prometheus-client's own metric
objects take a lock per update, about ten per write); the metric families are
built when the registry is scraped. Histograms keep the newest exemplar per
bucket, as prometheus-client does.
"""

from __future__ import annotations

import bisect
import functools
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, Counter
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

from .export_errors import watch_span_export_errors
from .facts import OperationFacts

__all__ = ["METRIC_PREFIX", "SessionMetrics", "count_telemetry_error", "metrics_for"]

METRIC_PREFIX = "openai_agents_session"

DURATION_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SIZE_BUCKETS = (64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)
LENGTH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000, 100000)

LabelValues = tuple[str, ...]


@dataclass(slots=True)
class _Series:
    """One histogram series: per-bucket counts (the last is +Inf), sum, exemplars."""

    counts: list[int]
    total: float = 0.0
    exemplars: list[tuple[str, float, float] | None] = field(default_factory=list)


@dataclass(frozen=True)
class _Spec:
    name: str
    doc: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


class SessionMetrics:
    """The session metrics of one registry, for one set of extra label names."""

    def __init__(self, registry: CollectorRegistry, extra_labels: tuple[str, ...]) -> None:
        self.extra_labels = extra_labels
        op = ("operation", *extra_labels)
        self._counter_specs = {
            spec.name: spec
            for spec in (
                _Spec("operations", "Session operations by outcome.", (*op, "outcome")),
                _Spec("items", "Items written, read or popped.", op),
                _Spec("ttl_refreshes", "TTL re-arms done by operations.", op),
                _Spec("trimmed_items", "Items dropped by max_items.", extra_labels),
                _Spec("corrupt_items", "Stored items that were not JSON.", op),
                _Spec("errors", "Failed operations by error type.", (*op, "error_type")),
                _Spec("slow_operations", "Operations slower than the threshold.", op),
                _Spec(
                    "duplicate_batches",
                    "Retried writes recognised and acknowledged without applying them twice.",
                    extra_labels,
                ),
            )
        }
        self._histogram_specs = {
            spec.name: spec
            for spec in (
                _Spec(
                    "operation_duration_seconds",
                    "Duration of session operations, as seen by the caller.",
                    op,
                    DURATION_BUCKETS,
                ),
                _Spec(
                    "item_size_bytes",
                    "Serialised size of items written.",
                    extra_labels,
                    SIZE_BUCKETS,
                ),
                _Spec(
                    "session_items",
                    "Session length (items) seen after each operation.",
                    op,
                    LENGTH_BUCKETS,
                ),
            )
        }
        self._counters: dict[str, dict[LabelValues, float]] = {
            name: {} for name in self._counter_specs
        }
        self._histograms: dict[str, dict[LabelValues, _Series]] = {
            name: {} for name in self._histogram_specs
        }
        # Like prometheus-client, series without labels exist (at zero) from the
        # start, so "rate of X" has data before the first X happens.
        for name, spec in self._counter_specs.items():
            if not spec.labels:
                self._counters[name][()] = 0.0
        for name, spec in self._histogram_specs.items():
            if not spec.labels:
                width = len(spec.buckets) + 1
                self._histograms[name][()] = _Series([0] * width, 0.0, [None] * width)
        self._lock = threading.Lock()
        # Label tuples per (operation, extra labels), built once: fewer allocations
        # per call.
        self._label_keys: dict[
            tuple[str, LabelValues], tuple[LabelValues, LabelValues, LabelValues]
        ] = {}
        self.telemetry_errors = _telemetry_errors_of(registry)
        registry.register(self)

    # ---------------------------------------------------------------- hot path

    def _inc(self, name: str, labels: LabelValues, amount: float = 1.0) -> None:
        series = self._counters[name]
        series[labels] = series.get(labels, 0.0) + amount

    def _observe(
        self, name: str, labels: LabelValues, value: float, trace_id: str | None = None
    ) -> None:
        by_labels = self._histograms[name]
        series = by_labels.get(labels)
        if series is None:
            width = len(self._histogram_specs[name].buckets) + 1
            series = _Series([0] * width, 0.0, [None] * width)
            by_labels[labels] = series
        index = bisect.bisect_left(self._histogram_specs[name].buckets, value)
        series.counts[index] += 1
        series.total += value
        if trace_id is not None:
            series.exemplars[index] = (trace_id, value, time.time())

    def record(
        self,
        facts: OperationFacts,
        extra: tuple[str, ...],
        *,
        slow: bool,
        trace_id: str | None,
    ) -> None:
        keys = self._label_keys.get((facts.operation, extra))
        if keys is None:
            op_labels = (facts.operation, *extra)
            keys = (op_labels, (*op_labels, "ok"), (*op_labels, "error"))
            self._label_keys[(facts.operation, extra)] = keys
        op, op_ok, op_error = keys
        with self._lock:
            self._inc("operations", op_ok if facts.error is None else op_error)
            self._observe("operation_duration_seconds", op, facts.duration, trace_id)
            if slow:
                self._inc("slow_operations", op)
            if facts.error_type is not None:
                self._inc("errors", (*op, facts.error_type))
                return
            if facts.items:
                self._inc("items", op, facts.items)
            if facts.session_length is not None and facts.operation != "clear_session":
                self._observe("session_items", op, facts.session_length)
            if facts.ttl_refreshed:
                self._inc("ttl_refreshes", op)
            if facts.trimmed:
                self._inc("trimmed_items", extra, facts.trimmed)
            if facts.corrupt_skipped:
                self._inc("corrupt_items", op, facts.corrupt_skipped)
            if facts.duplicate_batch:
                self._inc("duplicate_batches", extra)
            for size in facts.item_sizes:
                self._observe("item_size_bytes", extra, size)

    def telemetry_error(self, signal: str) -> None:
        self.telemetry_errors.labels(signal).inc()

    # ---------------------------------------------------------------- scrape

    def describe(self) -> Iterator[Metric]:
        """The metric names, so the registry can refuse duplicates up front."""
        for spec in self._counter_specs.values():
            yield CounterMetricFamily(f"{METRIC_PREFIX}_{spec.name}", spec.doc, labels=spec.labels)
        for spec in self._histogram_specs.values():
            yield HistogramMetricFamily(
                f"{METRIC_PREFIX}_{spec.name}", spec.doc, labels=spec.labels
            )

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counters = {name: dict(series) for name, series in self._counters.items()}
            histograms = {
                name: {
                    labels: _Series(list(s.counts), s.total, list(s.exemplars))
                    for labels, s in series.items()
                }
                for name, series in self._histograms.items()
            }
        for name, spec in self._counter_specs.items():
            family = CounterMetricFamily(f"{METRIC_PREFIX}_{name}", spec.doc, labels=spec.labels)
            for labels, value in counters[name].items():
                family.add_metric(labels, value)
            yield family
        for name, spec in self._histogram_specs.items():
            histogram = HistogramMetricFamily(
                f"{METRIC_PREFIX}_{name}", spec.doc, labels=spec.labels
            )
            for labels, series in histograms[name].items():
                histogram.add_metric(labels, _buckets(spec.buckets, series), series.total)
            yield histogram


def _buckets(
    bounds: tuple[float, ...], series: _Series
) -> list[tuple[str, float] | tuple[str, float, Exemplar]]:
    buckets: list[tuple[str, float] | tuple[str, float, Exemplar]] = []
    cumulative = 0
    for index, bound in enumerate((*bounds, float("inf"))):
        cumulative += series.counts[index]
        name = floatToGoString(bound)  # type: ignore[no-untyped-call]
        exemplar = series.exemplars[index]
        if exemplar is None:
            buckets.append((name, float(cumulative)))
        else:
            trace_id, value, timestamp = exemplar
            buckets.append(
                (name, float(cumulative), Exemplar({"trace_id": trace_id}, value, timestamp))
            )
    return buckets


_lock = threading.RLock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, SessionMetrics] = (
    weakref.WeakKeyDictionary()
)
# The telemetry-error counter has the same labels whatever the session metrics'
# extra labels are, so parts without sessions (the tracing bridge) can count into
# it without fixing those labels for the registry.
_telemetry_errors: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = (
    weakref.WeakKeyDictionary()
)


def _telemetry_errors_of(registry: CollectorRegistry) -> Counter:
    with _lock:
        counter = _telemetry_errors.get(registry)
        if counter is None:
            counter = Counter(
                f"{METRIC_PREFIX}_telemetry_errors",
                "Failures inside telemetry itself.",
                ("signal",),
                registry=registry,
            )
            _telemetry_errors[registry] = counter
        return counter


def count_telemetry_error(registry: CollectorRegistry | None, signal: str) -> None:
    """Count one failure of ``signal`` in ``registry`` (default: the global one)."""
    _telemetry_errors_of(REGISTRY if registry is None else registry).labels(signal).inc()


def metrics_for(
    registry: CollectorRegistry | None, extra_labels: Mapping[str, str] | None = None
) -> SessionMetrics:
    """The one ``SessionMetrics`` of ``registry`` (default: the global one)."""
    registry = REGISTRY if registry is None else registry
    names = tuple(sorted(extra_labels or {}))
    with _lock:
        existing = _by_registry.get(registry)
        if existing is None:
            existing = SessionMetrics(registry, names)
            _by_registry[registry] = existing
            watch_span_export_errors(
                id(existing), functools.partial(existing.telemetry_error, "traces")
            )
        elif existing.extra_labels != names:
            raise ValueError(
                f"this registry already has session metrics with extra labels "
                f"{list(existing.extra_labels)}, not {list(names)}: every instrumented "
                "session on one registry must use the same label names (use another "
                "registry, or the same `labels` keys everywhere)"
            )
        return existing
