"""The OpenTelemetry dashboard and rules return data from the library's OTel metrics path.

The same driver as ``test_live_prometheus.py`` runs the same traffic with
``instrument(..., otel_metrics=True, prometheus=False)`` and a ``MeterProvider``
whose reader is the OTel SDK's Prometheus exporter (``PrometheusMetricReader``),
served on a free loopback port; Debian's Prometheus scrapes it every second with
every rule file loaded, as users load them. Every target of
``openai-agents-session-otel.json``, every OTel recording rule, the two series
derived from what they record, and every alert must return data.

Thresholds change as in the Prometheus-path test, plus the latency objective: the
OTel histogram's smallest bucket is 1 ms, which most loopback calls beat, so the
budget is made small enough for the slower calls (large items) to burn it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import kit
from .live_stack import SCRAPE_JOB
from .test_live_prometheus import (
    ALERTS_FILE,
    RECORDING_FILE,
    LiveCheck,
    check_dashboard_queries,
    check_dashboard_variables,
    check_idle_service_alert,
    check_rule_expressions,
    check_rules_healthy,
    live_overrides,
    live_stack,
)
from .traffic_driver import UNEXPECTED

OTEL_BOARD = "openai-agents-session-otel.json"
OTEL_RECORDING_FILE = "openai_agents_session.otel.recording.rules.yml"
# Recorded by the Prometheus-path file from what either path's rules record.
DERIVED = (
    "job_operation:openai_agents_session_operations_errors:ratio_rate5m",
    "job:openai_agents_session_session_items:p99_rate5m",
)


def otel_overrides(smallest_latency_bucket: float) -> dict[str, Any]:
    return {
        **live_overrides(0.25),
        "otel_latency_threshold_seconds": smallest_latency_bucket,
        "latency_objective": 0.99999,
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCheck]:
    directory = tmp_path_factory.mktemp("live-prometheus-otel")
    with live_stack(
        directory, "db_client_operation_duration_seconds", otel_overrides, otel=True
    ) as check:
        yield check


def test_the_driver_exports_only_otel_names(live: LiveCheck) -> None:
    scraped = live.stack.scrape_driver()
    assert "db_client_operation_duration_seconds_bucket{" in scraped
    assert 'otel_scope_name="openai_agents_session"' in scraped
    assert "openai_agents_session_operations_total" not in scraped


def test_every_otel_dashboard_query_returns_data(live: LiveCheck) -> None:
    check_dashboard_queries(live, OTEL_BOARD)


def test_every_otel_dashboard_variable_lists_values(live: LiveCheck) -> None:
    check_dashboard_variables(live, OTEL_BOARD)


def test_every_otel_rule_and_every_alert_returns_data(live: LiveCheck) -> None:
    otel = kit.all_rules_of(live.rule_dir / OTEL_RECORDING_FILE)
    derived = [
        rule
        for rule in kit.all_rules_of(live.rule_dir / RECORDING_FILE)
        if rule.get("record") in DERIVED
    ]
    assert len(derived) == len(DERIVED)
    check_rule_expressions(live, otel + derived + kit.all_rules_of(live.rule_dir / ALERTS_FILE))


def test_prometheus_evaluates_every_rule_without_error(live: LiveCheck) -> None:
    check_rules_healthy(live)


def test_idle_service_trips_the_no_operations_alert(live: LiveCheck) -> None:
    assert SCRAPE_JOB in kit.RULES.joinpath(ALERTS_FILE).read_text()
    check_idle_service_alert(live)


def test_traffic_ran_without_unexpected_errors(live: LiveCheck) -> None:
    assert UNEXPECTED not in live.stack.log("driver"), live.stack.log("driver")
