"""Prometheus metrics for session operations.

prometheus-client has no get-or-create, so each registry's collectors are created
exactly once here and shared by every instrumented session that uses it: any
number of sessions on one registry, never "Duplicated timeseries".
Labelled children are cached per label tuple: the hot path does dict lookups only.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

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


@dataclass(slots=True)
class _OperationChildren:
    """The labelled children every call of one operation touches, resolved once."""

    ok: Any
    error: Any
    duration: Any
    items: Any
    session_items: Any
    ttl_refreshes: Any


class SessionMetrics:
    """The collectors of one registry, for one set of extra label names."""

    def __init__(self, registry: CollectorRegistry, extra_labels: tuple[str, ...]) -> None:
        self.extra_labels = extra_labels
        op = ("operation", *extra_labels)

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(f"{METRIC_PREFIX}_{name}", doc, labels, registry=registry)

        self.operations = counter("operations", "Session operations by outcome.", (*op, "outcome"))
        self.duration = Histogram(
            f"{METRIC_PREFIX}_operation_duration_seconds",
            "Duration of session operations, as seen by the caller.",
            op,
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.items = counter("items", "Items written, read or popped.", op)
        self.item_size = Histogram(
            f"{METRIC_PREFIX}_item_size_bytes",
            "Serialised size of items written.",
            extra_labels,
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
        self.session_items = Histogram(
            f"{METRIC_PREFIX}_session_items",
            "Session length (items) seen after each operation.",
            op,
            buckets=LENGTH_BUCKETS,
            registry=registry,
        )
        self.ttl_refreshes = counter("ttl_refreshes", "TTL re-arms done by operations.", op)
        self.trimmed = counter("trimmed_items", "Items dropped by max_items.", extra_labels)
        self.corrupt = counter("corrupt_items", "Stored items that were not JSON.", op)
        self.errors = counter("errors", "Failed operations by error type.", (*op, "error_type"))
        self.slow = counter("slow_operations", "Operations slower than the threshold.", op)
        self.duplicates = counter(
            "duplicate_batches",
            "Retried writes recognised and acknowledged without applying them twice.",
            extra_labels,
        )
        self.telemetry_errors = _telemetry_errors_of(registry)
        self._children: dict[tuple[Any, ...], Any] = {}
        self._by_operation: dict[tuple[str, ...], _OperationChildren] = {}

    def _child(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(*values) if values else metric
            self._children[key] = child
        return child

    def _operation_children(self, op: tuple[str, ...]) -> _OperationChildren:
        children = self._by_operation.get(op)
        if children is None:
            children = _OperationChildren(
                ok=self.operations.labels(*op, "ok"),
                error=self.operations.labels(*op, "error"),
                duration=self.duration.labels(*op),
                items=self.items.labels(*op),
                session_items=self.session_items.labels(*op),
                ttl_refreshes=self.ttl_refreshes.labels(*op),
            )
            self._by_operation[op] = children
        return children

    def record(
        self,
        facts: OperationFacts,
        extra: tuple[str, ...],
        *,
        slow: bool,
        trace_id: str | None,
    ) -> None:
        op = (facts.operation, *extra)
        children = self._operation_children(op)
        (children.ok if facts.error is None else children.error).inc()
        children.duration.observe(facts.duration, {"trace_id": trace_id} if trace_id else None)
        if slow:
            self._child(self.slow, *op).inc()
        if facts.error_type is not None:
            self._child(self.errors, *op, facts.error_type).inc()
            return
        if facts.items:
            children.items.inc(facts.items)
        if facts.session_length is not None and facts.operation != "clear_session":
            children.session_items.observe(facts.session_length)
        if facts.ttl_refreshed:
            children.ttl_refreshes.inc()
        if facts.trimmed:
            self._child(self.trimmed, *extra).inc(facts.trimmed)
        if facts.corrupt_skipped:
            self._child(self.corrupt, *op).inc(facts.corrupt_skipped)
        if facts.duplicate_batch:
            self._child(self.duplicates, *extra).inc()
        if facts.item_sizes:
            size = self._child(self.item_size, *extra)
            for item_size in facts.item_sizes:
                size.observe(item_size)

    def telemetry_error(self, signal: str) -> None:
        self._child(self.telemetry_errors, signal).inc()


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
