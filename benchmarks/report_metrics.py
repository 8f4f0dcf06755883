"""The metrics section of ``RESULTS.md``: each metrics path next to its library's floor."""

from __future__ import annotations

from typing import Any

from markdown import TIMES, ratio, spread, table

__all__ = ["render_metrics"]


def render_metrics(metrics: dict[str, Any]) -> list[str]:
    rows = []
    for op in metrics["operations"]:
        micros = op["micros_per_call"]
        rows.append(
            [
                op["operation"],
                spread(micros["metrics off"]),
                f"+{op['prometheus_path']['median']:.2f}",
                f"+{op['otel_path']['median']:.2f}",
                f"+{op['both_paths']['median']:.2f}",
                spread(micros["prometheus_client floor"]),
                spread(micros["OTel SDK floor"]),
                f"{spread(micros['OTel SDK, same updates'])} ({op['otel_updates']})",
                ratio(op["otel_path_over_otel_floor"]),
                ratio(op["otel_path_over_same_updates"]),
                ratio(op["both_paths_over_floors"]),
            ]
        )
    header = [
        "operation",
        "metrics off",
        "prometheus_client path",
        "OTel path",
        "both paths",
        "prometheus_client floor",
        "OTel floor",
        "OTel SDK, same updates (updates)",
        "OTel path / OTel floor",
        f"OTel path / same updates (≤ 1.15{TIMES})",
        "both / floors added",
    ]
    attributes = ", ".join(metrics["operations"][0]["duration_attributes"])
    return [
        "## Metrics paths: CPU per call (µs, calling thread)",
        "",
        f"`instrument()` around the canned session with the production logger and no tracing "
        f"SDK; only the metrics differ. {metrics['calls_per_batch']:,} calls per batch, "
        f"{metrics['rounds']} rounds. A path's cost is its contender less *metrics off*, round "
        "by round. OTel floor: one `Histogram.record` with the duration's attributes "
        f"({attributes}); *same updates*: the SDK's own calls for every instrument our path "
        "updated, same values and attributes; the prometheus_client floor is three updates "
        "of bound children.",
        "",
        *table(header, rows),
    ]
