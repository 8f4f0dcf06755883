"""How each export path names the session metrics in Prometheus, for rules and dashboards.

The library sends the same facts down two paths:

* ``PROMETHEUS``: prometheus_client's own metrics, scraped from the app's ``/metrics``
  (``openai_agents_session_operations_total{operation, outcome}``, ...);
* ``OTEL``: the OpenTelemetry metrics API (``instrument(..., otel_metrics=True)``),
  reaching Prometheus through the OTel SDK's Prometheus exporter or an OpenTelemetry
  Collector. Dots become underscores, the unit becomes a suffix (``_seconds``,
  ``_bytes``; ``{item}``-style units none), counters get ``_total``, attributes become
  labels (``db.operation.name`` -> ``db_operation_name``), and every series carries
  ``otel_scope_name``, the library's meter name.

Several OTel series have the same names as prometheus_client families, with other
labels (``openai_agents_session_items_total`` has ``operation`` on one path and
``db_operation_name`` on the other), and ``db_client_operation_duration_seconds`` is
the database-client conventions' metric that other instrumentations export too. So
every query of the OTel path selects ``otel_scope_name``, and the Prometheus-path
rules select series by the label only they have.

The series names come from the library's table (``metric_names.METRICS``), so a
renamed metric reaches the rules and the dashboards in one change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.utils import floatToGoString

from openai_agents_session.instrumentation.metric_names import (
    DB_OPERATION_NAME,
    ERROR_CATEGORY,
    ERROR_TYPE,
    EXPIRY_REASON,
    METER_NAME,
    METRICS,
    SIGNAL,
)
from openai_agents_session.instrumentation.metric_names import (
    OPERATION_DURATION_BUCKETS as OTEL_DURATION_BUCKETS,
)
from openai_agents_session.instrumentation.metrics import DURATION_BUCKETS, METRIC_PREFIX

__all__ = [
    "OTEL",
    "OTEL_ERROR_LABEL",
    "PATHS",
    "PROMETHEUS",
    "MetricPath",
    "prometheus_label",
]

PathKey = Literal["prometheus", "otel"]


def prometheus_label(attribute: str) -> str:
    """The label an OTel attribute becomes in Prometheus (``db.operation.name`` -> ...)."""
    return attribute.replace(".", "_")


def _family(name: str) -> str:
    """A prometheus_client family's short key: ``items_total`` for its ``..._items_total``."""
    return name.removeprefix(METRIC_PREFIX + "_")


@dataclass(frozen=True)
class MetricPath:
    """The Prometheus series and labels of one export path.

    Attributes:
        key: ``prometheus`` or ``otel``.
        operation: the label holding the operation (``get_items``, ...).
        error_type: the label holding a failure's category (``timeout``, ...).
        signal: the label naming the telemetry signal that failed.
        expiry_reason: the label saying why a session ended (``max_age``).
        scope: matchers every raw query of this path carries ("" for none).
        duration_buckets: the latency histogram's bucket boundaries on this path.
        series: prometheus_client family (short key) -> this path's series name.
    """

    key: PathKey
    operation: str
    error_type: str
    signal: str
    expiry_reason: str
    scope: str
    duration_buckets: tuple[float, ...]
    series: dict[str, str] = field(repr=False)

    def metric(self, family: str, suffix: str = "") -> str:
        """This path's series for a prometheus_client family, e.g. ``items_total``."""
        return self.series[family] + suffix

    def matchers(self, *more: str) -> str:
        """``scope`` and ``more`` joined into the inside of a ``{...}`` selector."""
        return ", ".join(part for part in (self.scope, *more) if part)

    def to_operation(self, expr: str) -> str:
        """``expr`` with this path's operation label copied into ``operation``."""
        if self.operation == "operation":
            return expr
        return f'label_replace({expr}, "operation", "$1", "{self.operation}", "(.*)")'

    def duration_bucket_matcher(self, threshold: float) -> str:
        """The ``le`` matcher of the latency bucket at ``threshold`` seconds.

        prometheus_client writes Go's float format (``1``); the OTel SDK's exporter
        writes Python's (``1.0``) and the Collector Go's: both are matched, since
        Prometheus 2 compares ``le`` as text.
        """
        if self.key == "prometheus":
            return f'le="{floatToGoString(threshold)}"'  # type: ignore[no-untyped-call]
        if threshold == int(threshold):
            return f'le=~"{int(threshold)}(\\\\.0)?"'
        return f'le="{threshold!r}"'


PROMETHEUS = MetricPath(
    key="prometheus",
    operation="operation",
    error_type="error_type",
    signal="signal",
    expiry_reason="reason",
    scope="",
    duration_buckets=DURATION_BUCKETS,
    series={_family(row.prometheus): row.prometheus for row in METRICS},
)

OTEL = MetricPath(
    key="otel",
    operation=prometheus_label(DB_OPERATION_NAME),
    error_type=prometheus_label(ERROR_CATEGORY),
    signal=prometheus_label(SIGNAL),
    expiry_reason=prometheus_label(EXPIRY_REASON),
    scope=f'otel_scope_name="{METER_NAME}"',
    duration_buckets=OTEL_DURATION_BUCKETS,
    series={_family(row.prometheus): row.prometheus_via_otel for row in METRICS},
)

PATHS = {path.key: path for path in (PROMETHEUS, OTEL)}

# The label marking a failed call on the OTel path (its value: the exception's name).
OTEL_ERROR_LABEL = prometheus_label(ERROR_TYPE)
