"""The Prometheus recording rules for openai-agents-session, and their thresholds.

The rule files in ``deploy/prometheus/rules/`` are rendered from this module,
``session_alerts.py`` and ``thresholds.yaml`` by ``deploy/generate.py``; edit those,
never the YAML. Recorded series names follow ``level:metric:operations``.

Each export path (``metric_paths``: prometheus_client, or OpenTelemetry) has its own
recording rules, reading its own series, and both record the *same* series: the
rates and bucket rates the dashboards read and everything the alerts read. So the
alerts, and the dashboards' heavy panels, are one set for both paths, and loading
every rule file is safe: each path's rules select only that path's series. What is
derived from recorded series alone (error ratio, length p99) is recorded once, with
the Prometheus path's rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from metric_paths import OTEL, OTEL_ERROR_LABEL, PROMETHEUS, MetricPath

__all__ = [
    "RECORDED_SERIES",
    "ThresholdError",
    "Thresholds",
    "alert_input_groups",
    "corrupt_items_increase",
    "load_thresholds",
    "operations_rate",
    "recording_groups",
    "slo_groups",
    "slo_violations",
    "telemetry_errors_increase",
]

OPERATIONS_RATE = "job_instance_operation_outcome:openai_agents_session_operations:rate5m"
DURATION_BUCKET_RATE = (
    "job_instance_operation_le:openai_agents_session_operation_duration_seconds_bucket:rate5m"
)
LENGTH_BUCKET_RATE = "job_instance_operation_le:openai_agents_session_session_items_bucket:rate5m"
ERROR_RATIO = "job_operation:openai_agents_session_operations_errors:ratio_rate5m"
LENGTH_P99 = "job:openai_agents_session_session_items:p99_rate5m"
LOG_EVICTIONS = "job_operation:openai_agents_session_operation_log_evictions:increase5m"
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d")


def slo_violations(window: str) -> str:
    """Recorded share of operations slower than the latency threshold over ``window``."""
    return f"job:openai_agents_session_latency_slo_violations:ratio_rate{window}"


def operations_rate(window: str) -> str:
    """Recorded operations per second of each process over ``window`` (any outcome)."""
    return f"job_instance:openai_agents_session_operations:rate{window}"


def corrupt_items_increase(window: str) -> str:
    """Recorded corrupt items met over ``window``, counting series that appeared in it."""
    return f"job_instance_operation:openai_agents_session_corrupt_items:increase{window}"


def telemetry_errors_increase(window: str) -> str:
    """Recorded telemetry failures over ``window``, counting series that appeared in it."""
    return f"job_instance_signal:openai_agents_session_telemetry_errors:increase{window}"


RECORDED_SERIES = (
    OPERATIONS_RATE,
    DURATION_BUCKET_RATE,
    LENGTH_BUCKET_RATE,
    ERROR_RATIO,
    LENGTH_P99,
    LOG_EVICTIONS,
    *(slo_violations(window) for window in SLO_WINDOWS),
)

_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


class ThresholdError(ValueError):
    """A threshold that would produce wrong or dead rules; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Every number and window the alerts use; ``thresholds.yaml`` documents each."""

    latency_threshold_seconds: float
    otel_latency_threshold_seconds: float
    latency_objective: float
    fast_burn_factor: float
    medium_burn_factor: float
    slow_burn_factor: float
    error_ratio: float
    error_ratio_for: str
    session_length_p99: float
    session_length_for: str
    session_growth_horizon: str
    corrupt_items_window: str
    telemetry_errors_window: str
    log_evictions_for: str
    app_job_selector: str
    no_operations_window: str
    no_operations_for: str
    runbook_url: str

    def __post_init__(self) -> None:
        per_path = (
            (PROMETHEUS, "latency_threshold_seconds"),
            (OTEL, "otel_latency_threshold_seconds"),
        )
        for path, name in per_path:
            threshold = getattr(self, name)
            if threshold not in path.duration_buckets:
                # The SLI reads the bucket le="<threshold>": any other value selects a
                # series that does not exist, and the latency alerts could never fire.
                valid = ", ".join(f"{bucket:g}" for bucket in path.duration_buckets)
                raise ThresholdError(
                    f"{name}={threshold:g} is not a bucket boundary of "
                    f"{path.metric('operation_duration_seconds')}, so no alert could "
                    f"measure it; use one of: {valid}"
                )
        if not 0 < self.latency_objective < 1:
            raise ThresholdError(
                f"latency_objective={self.latency_objective!r} must be between 0 and 1 "
                "(exclusive), e.g. 0.99 for 99% of operations within the threshold"
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type == "str" and field.name.endswith(("_for", "_window", "_horizon")):
                if not _DURATION.match(value):
                    raise ThresholdError(
                        f"{field.name}={value!r} is not a Prometheus duration; "
                        "write it like 30s, 5m, 1h or 1d"
                    )
            elif field.type == "float" and value <= 0:
                raise ThresholdError(f"{field.name}={value!r} must be a positive number")

    def latency_threshold(self, path: MetricPath) -> float:
        """The latency SLO's threshold on ``path`` (each histogram has its own buckets)."""
        if path is OTEL:
            return self.otel_latency_threshold_seconds
        return self.latency_threshold_seconds

    @property
    def latency_bucket(self) -> str:
        """The ``le`` label value prometheus_client gives the threshold's bucket."""
        return f"{self.latency_threshold_seconds:g}"

    @property
    def error_budget(self) -> str:
        return f"(1 - {self.latency_objective})"


def load_thresholds(path: Path, overrides: Mapping[str, str] | None = None) -> Thresholds:
    """Read ``path`` (YAML) and apply ``key=value`` overrides given as strings.

    Raises :class:`ThresholdError` with one line naming the bad key or value.
    """
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        reason = str(exc).replace("\n", " ")
        raise ThresholdError(f"cannot read thresholds from {path}: {reason}") from exc
    if not isinstance(values, dict):
        raise ThresholdError(f"{path}: expected key: value lines, got a {type(values).__name__}")
    known = {field.name: field.type for field in dataclasses.fields(Thresholds)}
    for key, text in (overrides or {}).items():
        if key not in known:
            raise ThresholdError(f"unknown threshold {key!r}; known: {', '.join(sorted(known))}")
        values[key] = text
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ThresholdError(
            f"{path}: unknown threshold(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )
    missing = sorted(set(known) - set(values))
    if missing:
        raise ThresholdError(
            f"{path}: missing threshold(s) {', '.join(map(repr, missing))}; "
            "compare with deploy/prometheus/thresholds.yaml"
        )
    typed = {key: _typed(key, known[key], value) for key, value in values.items()}
    return Thresholds(**typed)


def _typed(key: str, kind: str, value: Any) -> float | str:
    if kind != "float":
        return str(value)
    if isinstance(value, bool):  # YAML's yes/no/true: float() would take it as 1 or 0
        raise ThresholdError(f"{key}={value!r} is not a number; write e.g. {key}=0.05")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ThresholdError(f"{key}={value!r} is not a number; write e.g. {key}=0.05") from None


def _relabel(expr: str, target: str, source: str) -> str:
    if target == source:
        return expr
    return f'label_replace({expr}, "{target}", "$1", "{source}", "(.*)")'


def _operations(path: MetricPath, window: str, *, outcome: bool = True) -> str:
    """Per-series operations per second over ``window``, with an ``outcome`` label.

    The OTel path counts operations with the duration histogram's count; a failed
    call carries ``error_type`` (the exception's name), a successful one none.
    """
    if path is PROMETHEUS:
        return f"rate({path.metric('operations_total')}[{window}])"
    rate = f"rate({path.metric('operations_total')}{{{path.scope}}}[{window}])"
    if not outcome:
        return rate
    failed = f'label_replace({rate}, "outcome", "error", "{OTEL_ERROR_LABEL}", ".+")'
    return f'label_replace({failed}, "outcome", "ok", "outcome", "")'


def _bucket_rate(path: MetricPath, family: str) -> str:
    # prometheus_client's session_items has the same name as the OTel one: its own
    # series are those with the operation label.
    selector = path.matchers(f'{path.operation}!=""')
    rate = f"rate({path.metric(family, '_bucket')}{{{selector}}}[5m])"
    return f"sum by (job, instance, operation, le) ({path.to_operation(rate)})"


def recording_groups(path: MetricPath = PROMETHEUS) -> list[dict[str, Any]]:
    """Rate and bucket aggregations the dashboard and the alerts read, from ``path``."""
    operations = [
        {
            "record": OPERATIONS_RATE,
            "expr": "sum by (job, instance, operation, outcome) "
            f"({path.to_operation(_operations(path, '5m'))})",
        },
        {
            "record": DURATION_BUCKET_RATE,
            "expr": _bucket_rate(path, "operation_duration_seconds"),
        },
        {
            "record": LENGTH_BUCKET_RATE,
            "expr": _bucket_rate(path, "session_items"),
        },
    ]
    if path is OTEL:
        return [{"name": "openai_agents_session.otel.recording", "rules": operations}]
    derived = [
        {
            # "or 0 * ..." makes the ratio 0, not absent, while nothing has failed yet;
            # "> 0" leaves out operations without calls in the window (their series
            # exist at zero from the start) instead of recording 0/0 = NaN.
            "record": ERROR_RATIO,
            "expr": (
                "(\n"
                f'  sum by (job, operation) ({OPERATIONS_RATE}{{outcome="error"}})\n'
                "  or\n"
                f"  0 * sum by (job, operation) ({OPERATIONS_RATE})\n"
                ")\n"
                "/\n"
                f"(sum by (job, operation) ({OPERATIONS_RATE}) > 0)\n"
            ),
        },
        {
            "record": LENGTH_P99,
            "expr": f"histogram_quantile(0.99, sum by (job, le) ({LENGTH_BUCKET_RATE}))",
        },
    ]
    return [{"name": "openai_agents_session.recording", "rules": operations + derived}]


def _group_name(path: MetricPath, name: str) -> str:
    return f"openai_agents_session.{'otel.' if path is OTEL else ''}{name}"


def slo_groups(thresholds: Thresholds, path: MetricPath = PROMETHEUS) -> list[dict[str, Any]]:
    """The latency SLI over every window a burn-rate alert reads, from ``path``."""
    threshold = thresholds.latency_threshold(path)
    histogram = path.metric("operation_duration_seconds")
    bucket = f"{histogram}_bucket{{{path.matchers(path.duration_bucket_matcher(threshold))}}}"
    count = f"{histogram}_count{{{path.scope}}}" if path.scope else f"{histogram}_count"
    rules = [
        {
            "record": slo_violations(window),
            "expr": (
                "1 - (\n"
                f"  sum by (job) (rate({bucket}[{window}]))\n"
                "  /\n"
                f"  sum by (job) (rate({count}[{window}]))\n"
                ")\n"
            ),
            "labels": {"slo_threshold_seconds": f"{threshold:g}"},
        }
        for window in SLO_WINDOWS
    ]
    return [{"name": _group_name(path, "latency_slo"), "rules": rules}]


def _new_or_increased(metric: str, window: str, by: str, relabel: str) -> str:
    # increase() ignores a series' first sample, so a counter that appears with value 1
    # (the first corrupt item ever) would count nothing; such a series (absent a window
    # ago) counts with its whole value instead. "+ 0" drops the metric name so that
    # the two branches' series match and each counts once.
    new = f"(({metric} unless {metric} offset {window}) + 0)"
    per_series = f"{new}\n  or\n  increase({metric}[{window}])"
    return f"sum by ({by}) (\n  {relabel.format(per_series)}\n)\n"


def alert_input_groups(
    thresholds: Thresholds, path: MetricPath = PROMETHEUS
) -> list[dict[str, Any]]:
    """What the alerts read from raw counters, recorded alike from ``path``."""
    t = thresholds

    def raw(family: str, *matchers: str) -> str:
        selector = path.matchers(*matchers)
        return f"{path.metric(family)}{{{selector}}}" if selector else path.metric(family)

    def relabel(target: str, source: str) -> str:
        return _relabel("{}", target, source) if target != source else "{}"

    operations = _operations(path, t.no_operations_window, outcome=False)
    operations = f"sum by (job, instance) ({operations})"
    evictions = path.to_operation(f"increase({raw('operation_log_evictions_total')}[5m])")
    rules = [
        {
            "record": corrupt_items_increase(t.corrupt_items_window),
            "expr": _new_or_increased(
                raw("corrupt_items_total"),
                t.corrupt_items_window,
                "job, instance, operation",
                relabel("operation", path.operation),
            ),
        },
        {
            # prometheus_client and the OTel exporter both name it ..._telemetry_errors_total:
            # each path's series are those with its signal label.
            "record": telemetry_errors_increase(t.telemetry_errors_window),
            "expr": _new_or_increased(
                raw("telemetry_errors_total", f'{path.signal}!=""'),
                t.telemetry_errors_window,
                "job, instance, signal",
                relabel("signal", path.signal),
            ),
        },
        {
            "record": LOG_EVICTIONS,
            "expr": f"sum by (job, operation) ({evictions})",
        },
        {"record": operations_rate(t.no_operations_window), "expr": operations},
    ]
    return [{"name": _group_name(path, "alert_inputs"), "rules": rules}]
