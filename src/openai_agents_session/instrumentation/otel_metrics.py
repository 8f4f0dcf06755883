"""OpenTelemetry metrics for session operations: the Prometheus metrics' facts, in OTel names.

Another recorder of the same :class:`~.facts.OperationFacts` as
:class:`~.metrics.SessionMetrics`, on the OTel metrics API's own instruments (the
names, units and attributes are in :mod:`.metric_names`):

* ``db.client.operation.duration`` as the stable database-client conventions define
  it: seconds, their recommended buckets, the store's ``db.*``/``server.*``
  attributes exactly as the spans carry them and ``error.type`` (the exception's
  qualified name) on failures only;
* the store's facts as ``openai_agents_session.*`` counters and histograms.

The instruments of one meter provider are created once (the SDK warns on every
duplicate); the attribute dicts of each (store, operation, extra label values) are
built once and kept, as prometheus_client's label children are. The duration is
recorded while the operation's span is current, so the SDK's exemplar filter
(``trace_based`` by default) links it to the span.

Without a provider given, the meter comes from the global provider: the API's proxy
instruments forward to an SDK provider installed later. Counters of the default
label values are added at zero when first resolved, so an SDK already installed
shows zeros rather than "No data".
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider

from ..events import StoreInfo
from .facts import ERROR_TYPES, OperationFacts
from .metric_names import (
    DB_OPERATION_NAME,
    ERROR_CATEGORY,
    ERROR_TYPE,
    EXPIRY_REASON,
    METER_NAME,
    METRICS,
    OPERATION_DURATION_BUCKETS,
    SIGNAL,
)
from .metrics import EXPIRY_REASONS, LENGTH_BUCKETS, SIZE_BUCKETS
from .privacy import qualified_name
from .spans import store_attributes
from .telemetry_errors import SIGNALS, watch_span_export_errors

__all__ = ["OtelInstruments", "OtelSessionMetrics", "instruments_for"]

Attributes = dict[str, Any]
# Failed calls keep the attributes of this many exception types per series; rarer
# ones build theirs per call (error.type comes from the app's own exceptions too).
_KEPT_ERROR_TYPES = 32


def _histogram(meter: Meter, name: str, buckets: Sequence[float]) -> Histogram:
    row = next(row for row in METRICS if row.otel == name)
    try:
        return meter.create_histogram(
            name, row.unit, row.description, explicit_bucket_boundaries_advisory=buckets
        )
    except TypeError:
        # An API before the bucket advisory (1.23): the SDK's default buckets apply
        # unless the app configures a View (the README shows one).
        return meter.create_histogram(name, row.unit, row.description)


def _counter(meter: Meter, name: str) -> Counter:
    row = next(row for row in METRICS if row.otel == name)
    return meter.create_counter(name, row.unit, row.description)


class _OtelSeries:
    """The attribute dicts of one store, operation and set of extra label values."""

    __slots__ = ("errors", "expired", "extra", "failed", "operation", "succeeded")

    def __init__(self, store: Attributes, operation: str, extra: Attributes) -> None:
        self.succeeded = {**store, DB_OPERATION_NAME: operation, **extra}
        self.extra = dict(extra)
        self.operation = {DB_OPERATION_NAME: operation, **extra}
        self.errors = {kind: {**self.operation, ERROR_CATEGORY: kind} for kind in ERROR_TYPES}
        self.expired = {reason: {EXPIRY_REASON: reason, **extra} for reason in EXPIRY_REASONS}
        self.failed: dict[str, Attributes] = {}

    def failure(self, error: BaseException | None) -> Attributes:
        """The duration's attributes for a call that raised ``error``."""
        name = "_OTHER" if error is None else qualified_name(error)
        found = self.failed.get(name)
        if found is None:
            found = {**self.succeeded, ERROR_TYPE: name}
            if len(self.failed) < _KEPT_ERROR_TYPES:
                self.failed[name] = found
        return found


class OtelInstruments:
    """The session instruments of one meter, and the attribute dicts resolved so far."""

    def __init__(self, meter: Meter) -> None:
        prefix = METER_NAME + "."
        self.duration = _histogram(
            meter, "db.client.operation.duration", OPERATION_DURATION_BUCKETS
        )
        self.errors = _counter(meter, prefix + "errors")
        self.items = _counter(meter, prefix + "items")
        self.length = _histogram(meter, prefix + "session.items", LENGTH_BUCKETS)
        self.ttl_refreshes = _counter(meter, prefix + "ttl_refreshes")
        self.trimmed = _counter(meter, prefix + "trimmed")
        self.corrupt = _counter(meter, prefix + "corrupt")
        self.slow = _counter(meter, prefix + "slow")
        self.duplicates = _counter(meter, prefix + "duplicates")
        self.evictions = _counter(meter, prefix + "evictions")
        self.sizes = _histogram(meter, prefix + "item.size", SIZE_BUCKETS)
        self.expired = _counter(meter, prefix + "sessions.expired")
        self.telemetry_errors = _counter(meter, prefix + "telemetry.errors")
        self._signals = {signal: {SIGNAL: signal} for signal in SIGNALS}
        with suppress(Exception):  # zeros are a convenience; a broken SDK shows on use
            for attributes in self._signals.values():
                self.telemetry_errors.add(0, attributes)
        self._series: dict[tuple[Any, ...], _OtelSeries] = {}
        self._lock = threading.Lock()

    def series(self, store: Attributes, operation: str, extra: Attributes) -> _OtelSeries:
        key = (tuple(store.items()), operation, tuple(extra.values()))
        found = self._series.get(key)
        if found is None:
            with self._lock:
                found = self._series.get(key)
                if found is None:
                    found = _OtelSeries(store, operation, extra)
                    with suppress(Exception):
                        self._at_zero(found)
                    self._series[key] = found
        return found

    def _at_zero(self, series: _OtelSeries) -> None:
        for counter in (self.items, self.ttl_refreshes, self.corrupt, self.slow, self.evictions):
            counter.add(0, series.operation)
        for attributes in series.errors.values():
            self.errors.add(0, attributes)
        for attributes in series.expired.values():
            self.expired.add(0, attributes)
        self.trimmed.add(0, series.extra)
        self.duplicates.add(0, series.extra)

    def telemetry_error(self, signal: str) -> None:
        self.telemetry_errors.add(1, self._signals.get(signal) or {SIGNAL: signal})


_lock = threading.Lock()
_global: OtelInstruments | None = None
_by_provider: weakref.WeakKeyDictionary[MeterProvider, OtelInstruments] = (
    weakref.WeakKeyDictionary()
)


def instruments_for(meter_provider: MeterProvider | None) -> OtelInstruments:
    """The one ``OtelInstruments`` of ``meter_provider`` (default: the global provider)."""
    global _global
    from .. import __version__

    with _lock:
        found = _global if meter_provider is None else _by_provider.get(meter_provider)
        if found is None:
            meter = metrics.get_meter(METER_NAME, __version__, meter_provider=meter_provider)
            found = OtelInstruments(meter)
            if meter_provider is None:
                _global = found
            else:
                _by_provider[meter_provider] = found
            watch_span_export_errors(id(found), _counting(found, "traces"))
        return found


def _counting(instruments: OtelInstruments, signal: str) -> Any:
    # A weak reference: the SDK's loggers outlive a provider the app has dropped.
    reference = weakref.ref(instruments)

    def count() -> None:
        alive = reference()
        if alive is not None:
            alive.telemetry_error(signal)

    return count


class OtelSessionMetrics:
    """The OTel metrics of one instrumented session: its store's attributes, its labels."""

    def __init__(
        self,
        instruments: OtelInstruments,
        store: StoreInfo | None,
        labels: Mapping[str, str] | None,
    ) -> None:
        self.instruments = instruments
        self._store = store_attributes(store)
        self._label_names = tuple(sorted(labels or {}))

    def series(self, operation: str, extra: tuple[str, ...]) -> _OtelSeries:
        values = dict(zip(self._label_names, extra, strict=True))
        return self.instruments.series(self._store, operation, values)

    def record(self, facts: OperationFacts, series: _OtelSeries, trace_id: str | None) -> None:
        """Count one operation of ``series``; exemplars come from the current span."""
        instruments = self.instruments
        failed = facts.error_type is not None
        attributes = series.failure(facts.error) if failed else series.succeeded
        instruments.duration.record(facts.duration, attributes)
        if facts.slow:
            instruments.slow.add(1, series.operation)
        if facts.error_type is not None:
            instruments.errors.add(1, series.errors[facts.error_type])
            return
        store = facts.store
        operation = series.operation
        if store.items:
            instruments.items.add(store.items, operation)
        if store.session_length is not None and store.operation != "clear_session":
            instruments.length.record(store.session_length, operation)
        if store.ttl_refreshed:
            instruments.ttl_refreshes.add(1, operation)
        if store.corrupt_skipped:
            instruments.corrupt.add(store.corrupt_skipped, operation)
        if store.log_evictions:
            instruments.evictions.add(store.log_evictions, operation)
        if store.expired is not None:
            instruments.expired.add(1, series.expired[store.expired])
        # Counted without the operation, as in Prometheus.
        if store.trimmed:
            instruments.trimmed.add(store.trimmed, series.extra)
        if store.replayed:
            instruments.duplicates.add(1, series.extra)
        for size in store.item_sizes:
            instruments.sizes.record(size, series.extra)

    def telemetry_error(self, signal: str) -> None:
        self.instruments.telemetry_error(signal)
