"""The "OpenAI Agents session storage" Grafana dashboard, as code.

Heavy queries (quantiles, per-operation rates) read the series recorded by
``deploy/prometheus/rules/openai_agents_session.recording.rules.yml``; load those
rules in the Prometheus this dashboard reads. Cheap counter rates query raw metrics.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Panel,
    VariableModel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from panel_kit import (
    DURATION_BUCKET_RATE,
    LENGTH_BUCKET_RATE,
    LENGTH_P99,
    OP_SELECTOR,
    OPERATIONS_RATE,
    PROMETHEUS,
    SELECTOR,
    SLO_VIOLATIONS,
    error_ratio,
    quantile,
    quantiles,
    query,
    rate,
    stat_panel,
    timeseries_panel,
    trace_link,
)

__all__ = ["UID", "build_dashboard"]

UID = "openai-agents-session"


def _overview() -> list[Builder[Panel]]:
    p99 = f"histogram_quantile(0.99, sum by (le) ({DURATION_BUCKET_RATE}{{{OP_SELECTOR}}}))"
    length = f"histogram_quantile(0.99, sum by (le) ({LENGTH_BUCKET_RATE}{{{OP_SELECTOR}}}))"
    return [
        stat_panel(
            "Operations per second", "ops", f"sum ({OPERATIONS_RATE}{{{OP_SELECTOR}}})", None
        ),
        stat_panel("Error ratio", "percentunit", error_ratio("", OP_SELECTOR), 0.05),
        stat_panel("Latency p99", "s", p99, 0.25),
        stat_panel("Session length p99", "none", length, 1000),
    ]


def _traffic() -> list[Builder[Panel]]:
    return [
        timeseries_panel(
            "Operations per second by operation and outcome",
            "ops",
            [
                (
                    f"sum by (operation, outcome) ({OPERATIONS_RATE}{{{OP_SELECTOR}}})",
                    "{{operation}} {{outcome}}",
                )
            ],
        ),
        timeseries_panel(
            "Error ratio by operation",
            "percentunit",
            [(error_ratio("operation", OP_SELECTOR), "{{operation}}")],
        ),
        timeseries_panel(
            "Errors per second by type",
            "ops",
            [
                (
                    rate("openai_agents_session_errors_total", "operation, error_type"),
                    "{{operation}} {{error_type}}",
                )
            ],
        ),
    ]


def _latency() -> list[Builder[Panel]]:
    series = f"{DURATION_BUCKET_RATE}{{{OP_SELECTOR}}}"
    latency_levels = {f"{{{{operation}}}} p{round(q * 100)}": q for q in (0.5, 0.95, 0.99)}
    exemplar_query = quantile(
        0.99,
        rate("openai_agents_session_operation_duration_seconds_bucket", "operation, le"),
        by_operation=True,
    )
    exemplars = (
        timeseries_panel("Latency p99 with trace exemplars", "s", [], width=12)
        .with_target(query(exemplar_query, "{{operation}} p99", "A", exemplar=True))
        .override_by_name("trace_id", trace_link())
    )
    slo = [
        (SLO_VIOLATIONS.format(window=window) + '{job=~"$job"}', "{{job}} " + window)
        for window in ("5m", "1h", "6h")
    ]
    return [
        timeseries_panel(
            "Latency p50 / p95 / p99 by operation",
            "s",
            quantiles(series, "operation", latency_levels),
            width=12,
        ),
        exemplars,
        timeseries_panel(
            "Share of operations slower than the SLO threshold", "percentunit", slo, width=12
        ),
        timeseries_panel(
            "Slow operations per second",
            "ops",
            [(rate("openai_agents_session_slow_operations_total", "operation"), "{{operation}}")],
            width=12,
        ),
    ]


def _sessions() -> list[Builder[Panel]]:
    length = f"{LENGTH_BUCKET_RATE}{{{OP_SELECTOR}}}"
    sizes = f"rate(openai_agents_session_item_size_bytes_bucket{{{SELECTOR}}}[$__rate_interval])"
    return [
        timeseries_panel(
            "Items written / read / popped per second",
            "ops",
            [(rate("openai_agents_session_items_total", "operation"), "{{operation}}")],
        ),
        timeseries_panel(
            "Session length p50 / p99 / max",
            "none",
            quantiles(length, "", {"p50": 0.5, "p99": 0.99, "max (bucket bound)": 1.0}),
        ),
        timeseries_panel(
            "Session length growth (p99 change over 1h)",
            "none",
            [(f'delta({LENGTH_P99}{{job=~"$job"}}[1h])', "{{job}}")],
        ),
        timeseries_panel(
            "Item size p50 / p99",
            "bytes",
            [
                (f"histogram_quantile({q}, sum by (le) ({sizes}))", name)
                for name, q in {"p50": 0.5, "p99": 0.99}.items()
            ],
        ),
        timeseries_panel(
            "TTL refreshes per second",
            "ops",
            [(rate("openai_agents_session_ttl_refreshes_total", "operation"), "{{operation}}")],
        ),
        timeseries_panel(
            "Trimmed and corrupt items per second",
            "ops",
            [
                (
                    f"sum (rate(openai_agents_session_trimmed_items_total{{{SELECTOR}}}"
                    "[$__rate_interval]))",
                    "trimmed (max_items)",
                ),
                (
                    rate("openai_agents_session_corrupt_items_total", "operation"),
                    "corrupt ({{operation}})",
                ),
            ],
        ),
    ]


def _telemetry() -> list[Builder[Panel]]:
    return [
        timeseries_panel(
            "Telemetry errors per second",
            "ops",
            [
                (
                    rate("openai_agents_session_telemetry_errors_total", "signal", SELECTOR),
                    "{{signal}}",
                )
            ],
        ),
        timeseries_panel(
            "Retried writes and pops recognised per second",
            "ops",
            [
                (
                    f"sum (rate(openai_agents_session_duplicate_batches_total{{{SELECTOR}}}"
                    "[$__rate_interval]))",
                    "replayed writes and pops",
                )
            ],
        ),
        timeseries_panel(
            "Operation-log evictions per second",
            "ops",
            [
                (
                    rate("openai_agents_session_operation_log_evictions_total", "operation"),
                    "{{operation}}",
                )
            ],
        ),
    ]


def _variables() -> list[Builder[VariableModel]]:
    def label_values(name: str, label: str, selector: str) -> dashboard.QueryVariable:
        return (
            dashboard.QueryVariable(name)
            .label(label)
            .datasource(PROMETHEUS)
            .query(f"label_values(openai_agents_session_operations_total{selector}, {name})")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(VariableOption(selected=True, text="All", value="$__all"))
        )

    return [
        dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus"),
        dashboard.DatasourceVariable("tempo").label("Tempo (traces)").type("tempo"),
        label_values("job", "Job", ""),
        label_values("instance", "Instance", '{job=~"$job"}'),
        label_values("operation", "Operation", '{job=~"$job", instance=~"$instance"}'),
    ]


def build_dashboard() -> dashboard.Dashboard:
    """The main dashboard; ``build.py`` serialises it to ``openai-agents-session.json``."""
    board = (
        dashboard.Dashboard("OpenAI Agents session storage")
        .uid(UID)
        .description(
            "Storage calls of openai-agents-session: traffic, errors, latency, session "
            "length, TTL refreshes, trims, corrupt items, telemetry health, recognised "
            "retries and operation-log evictions (exactly-once)."
        )
        .tags(["openai-agents-session", "redis", "agents"])
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time("now-1h", "now")
        .refresh("30s")
        .timezone("browser")
        .annotation(
            dashboard.AnnotationQuery()
            .name("Annotations & Alerts")
            .datasource(DataSourceRef(type_val="grafana", uid="-- Grafana --"))
            .enable(True)
            .hide(True)
            .icon_color("rgba(0, 211, 255, 1)")
            .type("dashboard")
            .built_in(1)
        )
    )
    for variable in _variables():
        board = board.with_variable(variable)
    sections = {
        "Overview": _overview(),
        "Traffic and errors": _traffic(),
        "Latency": _latency(),
        "Session contents": _sessions(),
        "Telemetry and retries": _telemetry(),
    }
    panel_id = 1
    for title, panels in sections.items():
        board = board.with_row(dashboard.Row(title).id(panel_id))
        panel_id += 1
        for panel in panels:
            board = board.with_panel(panel.id(panel_id))  # type: ignore[attr-defined]
            panel_id += 1
    return board
