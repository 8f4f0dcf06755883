"""Prometheus metrics for session operations, on prometheus_client's own types.

The metrics of one registry are created once and shared by every instrumented
session that uses it (never "Duplicated timeseries"). Being prometheus_client's
``Counter`` and ``Histogram``, they work in its multiprocess mode (gunicorn or
uvicorn workers with ``PROMETHEUS_MULTIPROC_DIR``), get ``_created`` samples and
exemplars (single process only: multiprocess mode drops exemplars).

Each (operation, extra label values) resolves its label children once; every
series of the default label values exists at zero from the start, so a healthy
service's dashboard shows zeros rather than "No data".
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any, get_args

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from ..events import ExpiryReason, Operation
from .facts import ERROR_TYPES, OperationFacts
from .telemetry_errors import telemetry_errors_of, watch_span_export_errors

__all__ = ["EXPIRY_REASONS", "METRIC_PREFIX", "OPERATIONS", "SessionMetrics", "metrics_for"]

METRIC_PREFIX = "openai_agents_session"
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
EXPIRY_REASONS: tuple[ExpiryReason, ...] = get_args(ExpiryReason)
DURATION_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SIZE_BUCKETS = (64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)
LENGTH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000, 100000)


class _OperationSeries:
    """The label children of one operation and one set of extra label values."""

    def __init__(self, metrics: SessionMetrics, operation: str, extra: tuple[str, ...]) -> None:
        labels = (operation, *extra)
        self.ok = metrics.operations.labels(*labels, "ok")
        self.error = metrics.operations.labels(*labels, "error")
        self.errors = {kind: metrics.errors.labels(*labels, kind) for kind in ERROR_TYPES}
        self.items = metrics.items.labels(*labels)
        self.ttl_refreshes = metrics.ttl_refreshes.labels(*labels)
        self.corrupt = metrics.corrupt.labels(*labels)
        self.slow = metrics.slow.labels(*labels)
        self.log_evictions = metrics.log_evictions.labels(*labels)
        self.duration = metrics.duration.labels(*labels)
        self.length = metrics.length.labels(*labels)
        # Labelled by the extra labels only (none: the metric is its own only series).
        self.trimmed = metrics.trimmed.labels(*extra) if extra else metrics.trimmed
        self.duplicates = metrics.duplicates.labels(*extra) if extra else metrics.duplicates
        self.sizes = metrics.sizes.labels(*extra) if extra else metrics.sizes
        self.expired = {reason: metrics.expired.labels(reason, *extra) for reason in EXPIRY_REASONS}


class SessionMetrics:
    """The session metrics of one registry, for one set of extra label names."""

    def __init__(self, registry: CollectorRegistry, labels: Mapping[str, str]) -> None:
        self.extra_labels = tuple(sorted(labels))
        extra = self.extra_labels
        op = ("operation", *extra)

        def counter(name: str, doc: str, names: tuple[str, ...]) -> Counter:
            return Counter(f"{METRIC_PREFIX}_{name}", doc, names, registry=registry)

        def histogram(name: str, doc: str, names: tuple[str, ...], buckets: Any) -> Histogram:
            name = f"{METRIC_PREFIX}_{name}"
            return Histogram(name, doc, names, registry=registry, buckets=buckets)

        self.operations = counter("operations", "Session operations by outcome.", (*op, "outcome"))
        self.items = counter("items", "Items written, read or popped.", op)
        self.ttl_refreshes = counter("ttl_refreshes", "TTL re-arms done by operations.", op)
        self.trimmed = counter("trimmed_items", "Items dropped by max_items.", extra)
        self.corrupt = counter("corrupt_items", "Stored items that were not JSON.", op)
        self.errors = counter("errors", "Failed operations by error type.", (*op, "error_type"))
        self.slow = counter("slow_operations", "Operations slower than the threshold.", op)
        self.duplicates = counter(
            "duplicate_batches",
            "Retried writes and pops recognised and acknowledged without applying them twice.",
            extra,
        )
        self.log_evictions = counter(
            "operation_log_evictions",
            "Operation-log entries evicted inside their window (exactly-once weakened).",
            op,
        )
        self.duration = histogram(
            "operation_duration_seconds",
            "Duration of session operations, as seen by the caller.",
            op,
            DURATION_BUCKETS,
        )
        self.sizes = histogram(
            "item_size_bytes", "Serialised size of items written.", extra, SIZE_BUCKETS
        )
        self.length = histogram(
            "session_items", "Session length (items) seen after each operation.", op, LENGTH_BUCKETS
        )
        self.expired = counter(
            "sessions_expired",
            "Sessions found ended by a bound before their idle TTL, by reason.",
            ("reason", *extra),
        )
        self.telemetry_errors = telemetry_errors_of(registry)
        self._series: dict[tuple[str, tuple[str, ...]], _OperationSeries] = {}
        self._lock = threading.Lock()
        defaults = tuple(labels[name] for name in extra)
        for operation in OPERATIONS:
            self.series(operation, defaults)

    def series(self, operation: str, extra: tuple[str, ...]) -> _OperationSeries:
        found = self._series.get((operation, extra))
        if found is None:
            with self._lock:
                found = self._series.get((operation, extra))
                if found is None:
                    found = _OperationSeries(self, operation, extra)
                    self._series[(operation, extra)] = found
        return found

    def record(self, facts: OperationFacts, series: _OperationSeries, trace_id: str | None) -> None:
        """Count one operation (of ``series``): outcome, duration and what it did."""
        exemplar = None if trace_id is None else {"trace_id": trace_id}
        series.duration.observe(facts.duration, exemplar)
        if facts.slow:
            series.slow.inc()
        if facts.error_type is not None:
            series.error.inc()
            series.errors[facts.error_type].inc()
            return
        series.ok.inc()
        store = facts.store
        if store.items:
            series.items.inc(store.items)
        if store.session_length is not None and store.operation != "clear_session":
            series.length.observe(store.session_length)
        if store.ttl_refreshed:
            series.ttl_refreshes.inc()
        if store.corrupt_skipped:
            series.corrupt.inc(store.corrupt_skipped)
        if store.trimmed:
            series.trimmed.inc(store.trimmed)
        if store.replayed:
            series.duplicates.inc()
        if store.log_evictions:
            series.log_evictions.inc(store.log_evictions)
        if store.expired is not None:
            series.expired[store.expired].inc()
        for size in store.item_sizes:
            series.sizes.observe(size)

    def telemetry_error(self, signal: str) -> None:
        self.telemetry_errors.labels(signal).inc()


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, SessionMetrics] = (
    weakref.WeakKeyDictionary()
)


def metrics_for(
    registry: CollectorRegistry | None, labels: Mapping[str, str] | None = None
) -> SessionMetrics:
    """The one ``SessionMetrics`` of ``registry`` (default: the global one)."""
    registry = REGISTRY if registry is None else registry
    labels = dict(labels or {})
    with _lock:
        existing = _by_registry.get(registry)
        if existing is None:
            existing = SessionMetrics(registry, labels)
            _by_registry[registry] = existing
            watch_span_export_errors(id(existing), lambda: existing.telemetry_error("traces"))
        elif existing.extra_labels != tuple(sorted(labels)):
            raise ValueError(
                f"this registry already has session metrics with extra labels "
                f"{list(existing.extra_labels)}, not {sorted(labels)}: every instrumented "
                "session on one registry must use the same label names (use another "
                "registry, or the same `labels` keys everywhere)"
            )
        return existing
