"""The "OpenAI Agents session storage" Grafana dashboard, as code, for each export path.

Heavy queries (quantiles, per-operation rates) read the series recorded by
``deploy/prometheus/rules/*.recording.rules.yml``; load those rules in the Prometheus
this dashboard reads. The rules of both paths record the same series, so those
queries are the same on both dashboards. Cheap counter rates query raw metrics, named
as ``path`` names them: prometheus_client's (``openai_agents_session_items_total``
by ``operation``) or the OpenTelemetry exporter's (by ``db_operation_name``).

Two dashboards rather than one with a variable: the paths differ in metric names,
label names and how an outcome is read, so one query cannot serve both without
regex-built names that Grafana users could no longer read or copy; and a service
uses one path, so its team opens one dashboard.
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
from metric_paths import PROMETHEUS as PROMETHEUS_CLIENT
from metric_paths import MetricPath
from panel_kit import (
    DURATION_BUCKET_RATE,
    LENGTH_BUCKET_RATE,
    LENGTH_P99,
    OP_SELECTOR,
    OPERATIONS_RATE,
    PROMETHEUS,
    SLO_VIOLATIONS,
    error_ratio,
    quantile,
    quantiles,
    query,
    rate,
    raw_selector,
    stat_panel,
    timeseries_panel,
    trace_link,
)

__all__ = ["UID", "build_dashboard", "uid"]

UID = "openai-agents-session"


def uid(path: MetricPath) -> str:
    """The dashboard's uid (and file name) for ``path``."""
    return UID if path is PROMETHEUS_CLIENT else f"{UID}-{path.key}"


def _legend(*labels: str) -> str:
    return " ".join(f"{{{{{label}}}}}" for label in labels)


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


def _traffic(path: MetricPath) -> list[Builder[Panel]]:
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
                    rate(
                        path.metric("errors_total"),
                        f"{path.operation}, {path.error_type}",
                        raw_selector(path),
                    ),
                    _legend(path.operation, path.error_type),
                )
            ],
        ),
    ]


def _latency(path: MetricPath) -> list[Builder[Panel]]:
    series = f"{DURATION_BUCKET_RATE}{{{OP_SELECTOR}}}"
    latency_levels = {f"{{{{operation}}}} p{round(q * 100)}": q for q in (0.5, 0.95, 0.99)}
    exemplar_query = quantile(
        0.99,
        rate(
            path.metric("operation_duration_seconds", "_bucket"),
            f"{path.operation}, le",
            raw_selector(path),
        ),
        by_operation=True,
    )
    legend = _legend(path.operation) + " p99"
    exemplars = (
        timeseries_panel("Latency p99 with trace exemplars", "s", [], width=12)
        .with_target(query(exemplar_query, legend, "A", exemplar=True))
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
            [(_by_operation(path, "slow_operations_total"), _legend(path.operation))],
            width=12,
        ),
    ]


def _sessions(path: MetricPath) -> list[Builder[Panel]]:
    length = f"{LENGTH_BUCKET_RATE}{{{OP_SELECTOR}}}"
    plain = raw_selector(path, operation=False)
    sizes = f"rate({path.metric('item_size_bytes', '_bucket')}{{{plain}}}[$__rate_interval])"
    return [
        timeseries_panel(
            "Items written / read / popped per second",
            "ops",
            [(_by_operation(path, "items_total"), _legend(path.operation))],
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
            [(_by_operation(path, "ttl_refreshes_total"), _legend(path.operation))],
        ),
        timeseries_panel(
            "Trimmed and corrupt items per second",
            "ops",
            [
                (
                    f"sum (rate({path.metric('trimmed_items_total')}{{{plain}}}"
                    "[$__rate_interval]))",
                    "trimmed (max_items)",
                ),
                (
                    _by_operation(path, "corrupt_items_total"),
                    f"corrupt ({_legend(path.operation)})",
                ),
            ],
        ),
        timeseries_panel(
            "Sessions ended by max_age per second",
            "ops",
            [
                (
                    rate(
                        path.metric("sessions_expired_total"),
                        path.expiry_reason,
                        plain + f', {path.expiry_reason}!=""',
                    ),
                    _legend(path.expiry_reason),
                )
            ],
        ),
    ]


def _telemetry(path: MetricPath) -> list[Builder[Panel]]:
    plain = raw_selector(path, operation=False)
    return [
        timeseries_panel(
            "Telemetry errors per second",
            "ops",
            [
                (
                    rate(
                        path.metric("telemetry_errors_total"),
                        path.signal,
                        raw_selector(path, operation=False) + f', {path.signal}!=""',
                    ),
                    _legend(path.signal),
                )
            ],
        ),
        timeseries_panel(
            "Retried writes and pops recognised per second",
            "ops",
            [
                (
                    f"sum (rate({path.metric('duplicate_batches_total')}{{{plain}}}"
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
                    _by_operation(path, "operation_log_evictions_total"),
                    _legend(path.operation),
                )
            ],
        ),
    ]


def _by_operation(path: MetricPath, family: str) -> str:
    """Per-second rate of one of ``path``'s counters, by operation."""
    return rate(path.metric(family), path.operation, raw_selector(path))


def _variables(path: MetricPath) -> list[Builder[VariableModel]]:
    # The series every call adds to, on each path; its operation label is the path's.
    calls = path.metric("operations_total")

    def label_values(name: str, label: str, selector: str) -> dashboard.QueryVariable:
        source = path.operation if name == "operation" else name
        matchers = ", ".join(part for part in (path.scope, selector) if part)
        return (
            dashboard.QueryVariable(name)
            .label(label)
            .datasource(PROMETHEUS)
            .query(f"label_values({calls}{{{matchers}}}, {source})".replace("{}", ""))
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
        label_values("instance", "Instance", 'job=~"$job"'),
        label_values("operation", "Operation", 'job=~"$job", instance=~"$instance"'),
    ]


def build_dashboard(path: MetricPath = PROMETHEUS_CLIENT) -> dashboard.Dashboard:
    """The dashboard of ``path``; ``build.py`` serialises it to ``<uid>.json``."""
    title = "OpenAI Agents session storage"
    description = (
        "Storage calls of openai-agents-session: traffic, errors, latency, session "
        "length, TTL refreshes, trims, corrupt items, telemetry health, recognised "
        "retries and operation-log evictions (exactly-once)."
    )
    if path is not PROMETHEUS_CLIENT:
        title += " (OpenTelemetry metrics)"
        description += (
            " For services exporting through OpenTelemetry (instrument(..., "
            "otel_metrics=True)): db.client.operation.duration and "
            "openai_agents_session.* as the OTel SDK's Prometheus exporter or an "
            "OpenTelemetry Collector writes them."
        )
    board = (
        dashboard.Dashboard(title)
        .uid(uid(path))
        .description(description)
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
    for variable in _variables(path):
        board = board.with_variable(variable)
    sections = {
        "Overview": _overview(),
        "Traffic and errors": _traffic(path),
        "Latency": _latency(path),
        "Session contents": _sessions(path),
        "Telemetry and retries": _telemetry(path),
    }
    panel_id = 1
    for title, panels in sections.items():
        board = board.with_row(dashboard.Row(title).id(panel_id))
        panel_id += 1
        for panel in panels:
            board = board.with_panel(panel.id(panel_id))  # type: ignore[attr-defined]
            panel_id += 1
    return board
