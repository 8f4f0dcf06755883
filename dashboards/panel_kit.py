"""Building blocks of the dashboards: query selectors, recorded series, panel helpers.

Recorded series are those of ``deploy/prometheus/rules/*.recording.rules.yml``, which
the rules of either export path record alike (a test checks that every one read here
is recorded there). Raw series differ per path: :func:`raw_selector` and
``metric_paths.MetricPath`` name them.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
)
from metric_paths import MetricPath
from panels_text import DESCRIPTIONS

__all__ = [
    "PROMETHEUS",
    "SELECTOR",
    "OP_SELECTOR",
    "OPERATIONS_RATE",
    "DURATION_BUCKET_RATE",
    "LENGTH_BUCKET_RATE",
    "LENGTH_P99",
    "SLO_VIOLATIONS",
    "error_ratio",
    "query",
    "quantiles",
    "rate",
    "raw_selector",
    "stat_panel",
    "timeseries_panel",
    "trace_link",
]

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="${datasource}")
SELECTOR = 'job=~"$job", instance=~"$instance"'
OP_SELECTOR = f'{SELECTOR}, operation=~"$operation"'

OPERATIONS_RATE = "job_instance_operation_outcome:openai_agents_session_operations:rate5m"
DURATION_BUCKET_RATE = (
    "job_instance_operation_le:openai_agents_session_operation_duration_seconds_bucket:rate5m"
)
LENGTH_BUCKET_RATE = "job_instance_operation_le:openai_agents_session_session_items_bucket:rate5m"
LENGTH_P99 = "job:openai_agents_session_session_items:p99_rate5m"
SLO_VIOLATIONS = "job:openai_agents_session_latency_slo_violations:ratio_rate{window}"


def raw_selector(path: MetricPath, *, operation: bool = True) -> str:
    """The variables' filter on ``path``'s own series (operation label included or not)."""
    matchers = [SELECTOR, path.scope]
    if operation:
        matchers.append(f'{path.operation}=~"$operation"')
    return ", ".join(part for part in matchers if part)


def query(expr: str, legend: str, ref_id: str, *, exemplar: bool = False) -> prometheus.Dataquery:
    """A Prometheus target on the dashboard's ``$datasource``."""
    target = (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref_id)
        .datasource(PROMETHEUS)
    )
    return target.exemplar(True) if exemplar else target


def rate(metric: str, by: str, selector: str = OP_SELECTOR) -> str:
    """Per-second rate of a raw counter over Grafana's ``$__rate_interval``."""
    return f"sum by ({by}) (rate({metric}{{{selector}}}[$__rate_interval]))"


def error_ratio(by: str, selector: str) -> str:
    # "or 0 * total" shows 0 for operations that never failed instead of no data;
    # "total > 0" leaves out operations without calls in the window (their series
    # exist at zero from the start), which would otherwise be 0/0 = NaN.
    prefix = f"sum by ({by}) " if by else "sum "
    errors = f'{prefix}({OPERATIONS_RATE}{{{selector}, outcome="error"}})'
    total = f"{prefix}({OPERATIONS_RATE}{{{selector}}})"
    return f"({errors} or 0 * {total}) / ({total} > 0)"


def quantile(q: float, grouped_buckets: str, *, by_operation: bool) -> str:
    """``histogram_quantile``; per operation, those without calls in the window are left out.

    An operation that was not called has all-zero bucket rates and a NaN quantile; ">= 0"
    (false for NaN) drops that line instead of drawing a NaN one.
    """
    expr = f"histogram_quantile({q}, {grouped_buckets})"
    return f"{expr} >= 0" if by_operation else expr


def quantiles(series: str, by: str, levels: dict[str, float]) -> list[tuple[str, str]]:
    """One ``histogram_quantile`` query per legend -> quantile of ``levels``."""
    group = f"{by}, le" if by else "le"
    return [
        (quantile(q, f"sum by ({group}) ({series})", by_operation="operation" in by), name)
        for name, q in levels.items()
    ]


def timeseries_panel(
    title: str, unit: str, queries: list[tuple[str, str]], *, width: int = 8
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(DESCRIPTIONS[title])
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(width)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI))
    )
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def stat_panel(title: str, unit: str, expr: str, red_from: float | None) -> stat.Panel:
    steps = [Threshold(value=None, color="green")]
    if red_from is not None:
        steps.append(Threshold(value=red_from, color="red"))
    return (
        stat.Panel()
        .title(title)
        .description(DESCRIPTIONS[title])
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(4)
        .span(6)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .thresholds(dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
        .with_target(query(expr, "", "A"))
    )


def trace_link() -> list[DynamicConfigValue]:
    """A data link on exemplars' ``trace_id`` that opens the trace in the chosen Tempo."""
    pane = {
        "trace": {
            "datasource": "${tempo}",
            "queries": [
                {
                    "refId": "A",
                    "datasource": {"type": "tempo", "uid": "${tempo}"},
                    "queryType": "traceql",
                    "query": "${__value.raw}",
                }
            ],
            "range": {"from": "now-1h", "to": "now"},
        }
    }
    panes = quote(json.dumps(pane, separators=(",", ":")), safe="${}._")
    link = {"title": "Open trace in Tempo", "url": f"/explore?schemaVersion=1&panes={panes}"}
    return [DynamicConfigValue(id_val="links", value=[link])]
