"""The Prometheus alerts for openai-agents-session, as data.

``deploy/RUNBOOK.md`` has one section per alert; each alert's ``runbook_url`` points
at it. Numbers and windows come from :class:`session_rules.Thresholds`.

The alerts read recorded series only, which the recording rules of either export
path (prometheus_client or OpenTelemetry) write alike: one set of alerts serves both.
"""

from __future__ import annotations

import re
from typing import Any

from session_rules import (
    ERROR_RATIO,
    LENGTH_P99,
    LOG_EVICTIONS,
    Thresholds,
    corrupt_items_increase,
    operations_rate,
    slo_violations,
    telemetry_errors_increase,
)

__all__ = ["ALERT_NAMES", "alerting_groups"]

ALERT_NAMES = (
    "OpenAIAgentsSessionLatencyBudgetBurnFast",
    "OpenAIAgentsSessionLatencyBudgetBurnSlow",
    "OpenAIAgentsSessionErrorRatioHigh",
    "OpenAIAgentsSessionLengthHigh",
    "OpenAIAgentsSessionLengthGrowing",
    "OpenAIAgentsSessionCorruptItems",
    "OpenAIAgentsSessionTelemetryErrors",
    "OpenAIAgentsSessionNoOperations",
    "OpenAIAgentsSessionOperationLogEvicting",
)


def _burn(long: str, short: str, factor: float, thresholds: Thresholds) -> str:
    limit = f"({factor:g} * {thresholds.error_budget})"
    return f"(\n  {slo_violations(long)} > {limit}\n  and\n  {slo_violations(short)} > {limit}\n)"


def _alert(
    name: str,
    expr: str,
    duration: str,
    severity: str,
    summary: str,
    description: str,
    t: Thresholds,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if duration != "0s":
        rule["for"] = duration
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{t.runbook_url}#{name.lower()}",
    }
    return rule


def alerting_groups(t: Thresholds) -> list[dict[str, Any]]:
    """The alerts; ``deploy/RUNBOOK.md`` has one section per alert name."""
    objective = f"{t.latency_objective:.4g}"
    # Each path's SLI records its own threshold (their histograms' buckets differ).
    limit = "{{ $labels.slo_threshold_seconds }}s"
    rate = operations_rate(t.no_operations_window)
    alerts = [
        _alert(
            ALERT_NAMES[0],
            f"{_burn('1h', '5m', t.fast_burn_factor, t)}\nor\n"
            f"{_burn('6h', '30m', t.medium_burn_factor, t)}\n",
            "2m",
            "critical",
            "Session storage latency is burning the SLO budget fast",
            f"{{{{ $labels.job }}}}: more than the budgeted share of storage operations "
            f"take longer than {limit} (objective {objective}); "
            "{{ $value | humanizePercentage }} of operations were too slow. "
            "At this rate the 30-day budget is gone in days.",
            t,
        ),
        _alert(
            ALERT_NAMES[1],
            f"{_burn('1d', '2h', t.slow_burn_factor, t)}\n",
            "15m",
            "warning",
            "Session storage latency is slowly burning the SLO budget",
            f"{{{{ $labels.job }}}}: {{{{ $value | humanizePercentage }}}} of storage operations "
            f"over the last day took longer than {limit} (objective {objective}).",
            t,
        ),
        _alert(
            ALERT_NAMES[2],
            f"{ERROR_RATIO} > {t.error_ratio:g}\n",
            t.error_ratio_for,
            "warning",
            "Session storage operations are failing",
            "{{ $labels.job }}: {{ $value | humanizePercentage }} of {{ $labels.operation }} "
            f"calls failed over the last 5 minutes (threshold {t.error_ratio:.2%}).",
            t,
        ),
        _alert(
            ALERT_NAMES[3],
            f"{LENGTH_P99} > {t.session_length_p99:g}\n",
            t.session_length_for,
            "warning",
            "Agent sessions are longer than expected",
            "{{ $labels.job }}: the p99 session holds {{ $value | humanize }} items "
            f"(bound {t.session_length_p99:g}). "
            "Long sessions make every read slower and cost memory.",
            t,
        ),
        _alert(
            ALERT_NAMES[4],
            f"predict_linear({LENGTH_P99}[1h], {_seconds(t.session_growth_horizon)})"
            f" > {t.session_length_p99:g}\n",
            "30m",
            "info",
            "Agent sessions are growing towards the length bound",
            "{{ $labels.job }}: at the growth rate of the last hour the p99 session will hold "
            f"{{{{ $value | humanize }}}} items within {t.session_growth_horizon} "
            f"(bound {t.session_length_p99:g}).",
            t,
        ),
        _alert(
            ALERT_NAMES[5],
            f"{corrupt_items_increase(t.corrupt_items_window)} > 0\n",
            "0s",
            "warning",
            "Corrupt items found in session storage",
            "{{ $labels.job }} {{ $labels.instance }}: {{ $labels.operation }} met "
            f"{{{{ $value | humanize }}}} stored items that are not valid JSON in the last "
            f"{t.corrupt_items_window} (skipped on reads, dropped on pops). Something other "
            "than this library writes to the session keys.",
            t,
        ),
        _alert(
            ALERT_NAMES[6],
            f"{telemetry_errors_increase(t.telemetry_errors_window)} > 0\n",
            "0s",
            "warning",
            "Session telemetry is failing",
            "{{ $labels.job }} {{ $labels.instance }}: {{ $value | humanize }} failures while "
            "emitting {{ $labels.signal }} in the last "
            f"{t.telemetry_errors_window}. Storage still works; its {{{{ $labels.signal }}}} "
            "are incomplete.",
            t,
        ),
        _alert(
            ALERT_NAMES[7],
            # Both branches only look at the watched jobs: an idle batch job that
            # also exports session metrics is not a service that must have traffic.
            # Session metrics pushed through a collector carry the process's own
            # instance (service.instance.id), not a scrape target's: a scraped
            # process without session series is not flagged while its job's pushed
            # series (those of no scraped instance) show traffic.
            "(\n"
            f"  {rate}{{{t.app_job_selector}}} == 0\n"
            "  and on (job, instance)\n"
            f"  up{{{t.app_job_selector}}} == 1\n"
            ")\n"
            "or\n"
            "(\n"
            f"  up{{{t.app_job_selector}}} == 1\n"
            f"  unless on (job, instance) {rate}{{{t.app_job_selector}}}\n"
            f"  unless on (job) (\n"
            f"    {rate}{{{t.app_job_selector}}} > 0\n"
            f"    unless on (job, instance) up{{{t.app_job_selector}}}\n"
            "  )\n"
            ")\n",
            t.no_operations_for,
            "warning",
            "A service is up but makes no session storage calls",
            "{{ $labels.job }} {{ $labels.instance }} is scraped but reported no session "
            f"operations in the last {t.no_operations_window}, or exports none at all.",
            t,
        ),
        _alert(
            ALERT_NAMES[8],
            # A rate above zero, as a count (readable in the description). The series
            # exist at zero from the start, so the first eviction is seen; "for" keeps
            # a short burst (a load test) quiet.
            f"{LOG_EVICTIONS} > 0\n",
            t.log_evictions_for,
            "warning",
            "Session operation logs evict entries inside their window (exactly-once weakened)",
            "{{ $labels.job }}: {{ $labels.operation }} calls pushed about "
            "{{ $value | humanize }} operation-log entries out of their window in the last "
            f"5 minutes, and have kept at it for {t.log_evictions_for}. A late copy of an "
            "evicted write would be applied again; a replayed pop would find no item. A "
            "conversation is busier than its operation log holds.",
            t,
        ),
    ]
    return [{"name": "openai_agents_session.alerts", "rules": alerts}]


def _seconds(duration: str) -> str:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total = sum(
        int(amount) * units[unit]
        for amount, unit in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", duration)
    )
    return f"{total:g}"
