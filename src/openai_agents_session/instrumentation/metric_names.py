"""The session metrics under both naming schemes, as data.

One :class:`MetricName` per prometheus_client metric family, naming its
OpenTelemetry counterpart. The metric modules, the tests, the README table and the
dashboards read this one table, so a name changes in one place.

OpenTelemetry names follow the OTel conventions: dotted names, units as UCUM
(``s``, ``By``, ``{item}``), the stable database-client metric
``db.client.operation.duration`` for durations and outcomes. Prometheus names keep
prometheus_client's: base units in the name, ``_total`` counters.

``prometheus_via_otel`` is the name the OTel instrument gets in Prometheus when
exported through the OTel Prometheus exporter or the Collector (dots to
underscores, the unit's suffix, ``_total`` on counters): several are the same
names as the prometheus_client ones, with other label names, so a Prometheus that
receives both schemes from one service should tell them apart by job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DB_NAMESPACE",
    "DB_OPERATION_NAME",
    "DB_SYSTEM_NAME",
    "ERROR_TYPE",
    "ERROR_CATEGORY",
    "EXPIRY_REASON",
    "METER_NAME",
    "METRICS",
    "OPERATION_DURATION_BUCKETS",
    "SERVER_ADDRESS",
    "SERVER_PORT",
    "SIGNAL",
    "MetricName",
    "by_otel_name",
    "by_prometheus_name",
]

# The instrumentation scope of every OTel instrument (with the package's version).
METER_NAME = "openai_agents_session"

# The database-client semantic conventions' recommended boundaries for
# db.client.operation.duration, in seconds.
OPERATION_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)

# Attributes, as the spans carry them.
DB_SYSTEM_NAME = "db.system.name"
DB_OPERATION_NAME = "db.operation.name"
DB_NAMESPACE = "db.namespace"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"  # the exception's qualified name, on failures only
# Ours: the fixed category of a failure (timeout, connection, ...), why a session
# expired, and which signal failed.
ERROR_CATEGORY = "openai_agents_session.error_type"
EXPIRY_REASON = "openai_agents_session.expiry.reason"
SIGNAL = "openai_agents_session.signal"

Kind = Literal["counter", "histogram"]
_STORE = (DB_SYSTEM_NAME, DB_OPERATION_NAME, DB_NAMESPACE, SERVER_ADDRESS, SERVER_PORT)


@dataclass(frozen=True, slots=True)
class MetricName:
    """One prometheus_client metric family and its OpenTelemetry counterpart.

    Attributes:
        prometheus: the family's name as scraped (counters with ``_total``).
        prometheus_kind: ``counter`` or ``histogram``.
        prometheus_labels: its labels, besides the app's extra labels.
        otel: the OTel instrument it is read from.
        otel_kind: the instrument's kind.
        unit: the instrument's UCUM unit.
        otel_attributes: the instrument's attributes, besides the app's extra labels
            (all it may carry; store attributes only where the store reports them,
            ``error.type`` only on failures).
        prometheus_via_otel: the OTel instrument's name in Prometheus, through the
            OTel Prometheus exporter or the Collector.
        reading: how the Prometheus value is read from the OTel instrument, where it
            is not simply the same value.
        description: the instrument's description.
    """

    prometheus: str
    prometheus_kind: Kind
    prometheus_labels: tuple[str, ...]
    otel: str
    otel_kind: Kind
    unit: str
    otel_attributes: tuple[str, ...]
    prometheus_via_otel: str
    description: str
    reading: str = ""


_P = "openai_agents_session_"
_O = "openai_agents_session."

METRICS: tuple[MetricName, ...] = (
    MetricName(
        prometheus=_P + "operation_duration_seconds",
        prometheus_kind="histogram",
        prometheus_labels=("operation",),
        otel="db.client.operation.duration",
        otel_kind="histogram",
        unit="s",
        otel_attributes=(*_STORE, ERROR_TYPE),
        prometheus_via_otel="db_client_operation_duration_seconds",
        description="Duration of session operations, as seen by the caller.",
        reading="count and sum are the same; the buckets are the conventions' own",
    ),
    MetricName(
        prometheus=_P + "operations_total",
        prometheus_kind="counter",
        prometheus_labels=("operation", "outcome"),
        otel="db.client.operation.duration",
        otel_kind="histogram",
        unit="s",
        otel_attributes=(*_STORE, ERROR_TYPE),
        prometheus_via_otel="db_client_operation_duration_seconds_count",
        description="Duration of session operations, as seen by the caller.",
        reading='the histogram\'s count; outcome="error" where error.type is set',
    ),
    MetricName(
        prometheus=_P + "errors_total",
        prometheus_kind="counter",
        prometheus_labels=("operation", "error_type"),
        otel=_O + "errors",
        otel_kind="counter",
        unit="{error}",
        otel_attributes=(DB_OPERATION_NAME, ERROR_CATEGORY),
        prometheus_via_otel=_P + "errors_total",
        description="Failed operations by error category.",
    ),
    MetricName(
        prometheus=_P + "items_total",
        prometheus_kind="counter",
        prometheus_labels=("operation",),
        otel=_O + "items",
        otel_kind="counter",
        unit="{item}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "items_total",
        description="Items written, read or popped.",
    ),
    MetricName(
        prometheus=_P + "session_items",
        prometheus_kind="histogram",
        prometheus_labels=("operation",),
        otel=_O + "session.items",
        otel_kind="histogram",
        unit="{item}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "session_items",
        description="Session length (items) seen after each operation.",
    ),
    MetricName(
        prometheus=_P + "ttl_refreshes_total",
        prometheus_kind="counter",
        prometheus_labels=("operation",),
        otel=_O + "ttl_refreshes",
        otel_kind="counter",
        unit="{refresh}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "ttl_refreshes_total",
        description="TTL re-arms done by operations.",
    ),
    MetricName(
        prometheus=_P + "trimmed_items_total",
        prometheus_kind="counter",
        prometheus_labels=(),
        otel=_O + "trimmed",
        otel_kind="counter",
        unit="{item}",
        otel_attributes=(),
        prometheus_via_otel=_P + "trimmed_total",
        description="Items dropped by max_items.",
    ),
    MetricName(
        prometheus=_P + "corrupt_items_total",
        prometheus_kind="counter",
        prometheus_labels=("operation",),
        otel=_O + "corrupt",
        otel_kind="counter",
        unit="{item}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "corrupt_total",
        description="Stored items that were not JSON.",
    ),
    MetricName(
        prometheus=_P + "slow_operations_total",
        prometheus_kind="counter",
        prometheus_labels=("operation",),
        otel=_O + "slow",
        otel_kind="counter",
        unit="{operation}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "slow_total",
        description="Operations slower than the threshold.",
    ),
    MetricName(
        prometheus=_P + "duplicate_batches_total",
        prometheus_kind="counter",
        prometheus_labels=(),
        otel=_O + "duplicates",
        otel_kind="counter",
        unit="{call}",
        otel_attributes=(),
        prometheus_via_otel=_P + "duplicates_total",
        description=(
            "Retried writes and pops recognised and acknowledged without applying them twice."
        ),
    ),
    MetricName(
        prometheus=_P + "operation_log_evictions_total",
        prometheus_kind="counter",
        prometheus_labels=("operation",),
        otel=_O + "evictions",
        otel_kind="counter",
        unit="{entry}",
        otel_attributes=(DB_OPERATION_NAME,),
        prometheus_via_otel=_P + "evictions_total",
        description="Operation-log entries evicted inside their window (exactly-once weakened).",
    ),
    MetricName(
        prometheus=_P + "item_size_bytes",
        prometheus_kind="histogram",
        prometheus_labels=(),
        otel=_O + "item.size",
        otel_kind="histogram",
        unit="By",
        otel_attributes=(),
        prometheus_via_otel=_P + "item_size_bytes",
        description="Serialised size of items written.",
    ),
    MetricName(
        prometheus=_P + "sessions_expired_total",
        prometheus_kind="counter",
        prometheus_labels=("reason",),
        otel=_O + "sessions.expired",
        otel_kind="counter",
        unit="{session}",
        otel_attributes=(EXPIRY_REASON,),
        prometheus_via_otel=_P + "sessions_expired_total",
        description="Sessions found ended by a bound before their idle TTL, by reason.",
    ),
    MetricName(
        prometheus=_P + "telemetry_errors_total",
        prometheus_kind="counter",
        prometheus_labels=("signal",),
        otel=_O + "telemetry.errors",
        otel_kind="counter",
        unit="{error}",
        otel_attributes=(SIGNAL,),
        prometheus_via_otel=_P + "telemetry_errors_total",
        description="Failures inside telemetry itself.",
    ),
)


def by_prometheus_name(name: str) -> MetricName:
    """The row of a Prometheus family (as scraped, or as prometheus_client names it)."""
    for row in METRICS:
        if name in (row.prometheus, row.prometheus.removesuffix("_total")):
            return row
    raise KeyError(f"no session metric is named {name!r} in Prometheus")


def by_otel_name(name: str) -> tuple[MetricName, ...]:
    """The rows read from an OTel instrument (two for the duration histogram)."""
    rows = tuple(row for row in METRICS if row.otel == name)
    if not rows:
        raise KeyError(f"no session metric is named {name!r} in OpenTelemetry")
    return rows
