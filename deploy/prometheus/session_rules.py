"""The Prometheus recording rules for openai-agents-session, and their thresholds.

The rule files in ``deploy/prometheus/rules/`` are rendered from this module,
``session_alerts.py`` and ``thresholds.yaml`` by ``deploy/generate.py``; edit those,
never the YAML. Recorded series names follow ``level:metric:operations``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.utils import floatToGoString

from openai_agents_session.instrumentation.metrics import DURATION_BUCKETS

__all__ = [
    "RECORDED_SERIES",
    "ThresholdError",
    "Thresholds",
    "load_thresholds",
    "recording_groups",
    "slo_groups",
    "slo_violations",
]

OPERATIONS_RATE = "job_instance_operation_outcome:openai_agents_session_operations:rate5m"
DURATION_BUCKET_RATE = (
    "job_instance_operation_le:openai_agents_session_operation_duration_seconds_bucket:rate5m"
)
LENGTH_BUCKET_RATE = "job_instance_operation_le:openai_agents_session_session_items_bucket:rate5m"
ERROR_RATIO = "job_operation:openai_agents_session_operations_errors:ratio_rate5m"
LENGTH_P99 = "job:openai_agents_session_session_items:p99_rate5m"
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d")


def slo_violations(window: str) -> str:
    """Recorded share of operations slower than the latency threshold over ``window``."""
    return f"job:openai_agents_session_latency_slo_violations:ratio_rate{window}"


RECORDED_SERIES = (
    OPERATIONS_RATE,
    DURATION_BUCKET_RATE,
    LENGTH_BUCKET_RATE,
    ERROR_RATIO,
    LENGTH_P99,
    *(slo_violations(window) for window in SLO_WINDOWS),
)

_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


class ThresholdError(ValueError):
    """A threshold that would produce wrong or dead rules; the message is one line."""


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Every number and window the alerts use; ``thresholds.yaml`` documents each."""

    latency_threshold_seconds: float
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
        if self.latency_threshold_seconds not in DURATION_BUCKETS:
            # The SLI reads the bucket le="<threshold>": any other value selects a
            # series that does not exist, and the latency alerts could never fire.
            valid = ", ".join(f"{bucket:g}" for bucket in DURATION_BUCKETS)
            raise ThresholdError(
                f"latency_threshold_seconds={self.latency_threshold_seconds:g} is not a bucket "
                "boundary of openai_agents_session_operation_duration_seconds, so no alert "
                f"could measure it; use one of: {valid}"
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

    @property
    def latency_bucket(self) -> str:
        """The ``le`` label value the client library gives the threshold's bucket."""
        return str(floatToGoString(self.latency_threshold_seconds))  # type: ignore[no-untyped-call]

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


def recording_groups() -> list[dict[str, Any]]:
    """Rate and bucket aggregations the dashboard and the alerts read."""
    operations = [
        {
            "record": OPERATIONS_RATE,
            "expr": "sum by (job, instance, operation, outcome) "
            "(rate(openai_agents_session_operations_total[5m]))",
        },
        {
            "record": DURATION_BUCKET_RATE,
            "expr": "sum by (job, instance, operation, le) "
            "(rate(openai_agents_session_operation_duration_seconds_bucket[5m]))",
        },
        {
            "record": LENGTH_BUCKET_RATE,
            "expr": "sum by (job, instance, operation, le) "
            "(rate(openai_agents_session_session_items_bucket[5m]))",
        },
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
    return [{"name": "openai_agents_session.recording", "rules": operations}]


def slo_groups(thresholds: Thresholds) -> list[dict[str, Any]]:
    """The latency SLI over every window a burn-rate alert reads."""
    bucket = (
        "openai_agents_session_operation_duration_seconds_bucket"
        f'{{le="{thresholds.latency_bucket}"}}'
    )
    rules = [
        {
            "record": slo_violations(window),
            "expr": (
                "1 - (\n"
                f"  sum by (job) (rate({bucket}[{window}]))\n"
                "  /\n"
                "  sum by (job) "
                f"(rate(openai_agents_session_operation_duration_seconds_count[{window}]))\n"
                ")\n"
            ),
            "labels": {"slo_threshold_seconds": thresholds.latency_bucket},
        }
        for window in SLO_WINDOWS
    ]
    return [{"name": "openai_agents_session.latency_slo", "rules": rules}]
