"""The PNG chart: ratios to the floor per operation, limited-read scaling, overhead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from contenders import FLOOR, OURS_METRICS_LOGS, OURS_SPANS
from matplotlib import ticker
from targets import instrumentation_overhead

__all__ = ["draw_chart"]

TIMES = "\N{MULTIPLICATION SIGN}"

_COLOURS = {
    "floor": "#7f7f7f",
    "ours": "#1f77b4",
    "ours+metrics+logs": "#6baed6",
    "ours+spans": "#9ecae1",
    "sdk": "#d62728",
    "seed pattern": "#ff7f0e",
}


def _ratio_panel(axis: Any, results: dict[str, Any], concurrency: int) -> None:
    entries = [e for e in results["operations"] if e["concurrency"] == concurrency]
    names = [c["name"] for c in results["contenders"] if c["name"] != FLOOR]
    width = 0.8 / len(names)
    for index, name in enumerate(names):
        values = [e["contenders"][name]["vs_floor"]["median"] for e in entries]
        positions = [x + (index - (len(names) - 1) / 2) * width for x in range(len(entries))]
        axis.bar(positions, values, width, label=name, color=_COLOURS.get(name))
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.set_yscale("log")
    times = ticker.FuncFormatter(lambda value, _: f"{value:g}{TIMES}")
    axis.yaxis.set_major_formatter(times)
    axis.yaxis.set_minor_formatter(times)
    axis.tick_params(axis="y", which="minor", labelsize=7)
    axis.set_xticks(range(len(entries)))
    axis.set_xticklabels([e["operation"] for e in entries], rotation=20, ha="right", fontsize=8)
    axis.set_ylabel("time ÷ floor (log)")
    axis.set_title(f"Time per call relative to the floor, concurrency {concurrency}")
    axis.grid(axis="y", which="both", alpha=0.3)


def _scaling_panel(axis: Any, results: dict[str, Any]) -> None:
    lengths = [e["session_length"] for e in results["scaling"]]
    for name in results["scaling"][0]["contenders"]:
        values = [
            e["contenders"][name]["seconds_per_call"]["median"] * 1e6 for e in results["scaling"]
        ]
        axis.plot(lengths, values, marker="o", label=name, color=_COLOURS.get(name))
    axis.set_xscale("log")
    axis.set_ylim(bottom=0)
    axis.set_xlabel("session length (items)")
    axis.set_ylabel("µs per call")
    axis.set_title("get_items(limit=20) by session length, concurrency 1")
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(alpha=0.3)


def _overhead_panel(axis: Any, results: dict[str, Any]) -> None:
    rows = instrumentation_overhead(results)
    labels = [f"{r['operation']} c={r['concurrency']}" for r in rows]
    for index, (name, limit) in enumerate(((OURS_METRICS_LOGS, 0.05), (OURS_SPANS, 0.15))):
        values = [100 * r.get(name, 0.0) for r in rows]
        positions = [x + (index - 0.5) * 0.4 for x in range(len(rows))]
        axis.bar(positions, values, 0.4, label=name, color=_COLOURS.get(name))
        axis.axhline(100 * limit, color=_COLOURS.get(name), linestyle="--", linewidth=1)
    axis.axhline(0, color="black", linewidth=0.8)
    axis.set_xticks(range(len(rows)))
    axis.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    axis.set_ylabel("% over uninstrumented")
    axis.set_title("Instrumentation overhead (dashed: targets 5 % and 15 %)")
    axis.grid(axis="y", alpha=0.3)


def draw_chart(results: dict[str, Any], path: Path) -> None:
    figure, axes = plt.subplots(2, 2, figsize=(15, 10))
    concurrencies = results["meta"]["concurrencies"]
    _ratio_panel(axes[0][0], results, concurrencies[0])
    _ratio_panel(axes[0][1], results, concurrencies[-1])
    _scaling_panel(axes[1][0], results)
    if any(len(r) > 2 for r in instrumentation_overhead(results)):
        _overhead_panel(axes[1][1], results)
    else:
        axes[1][1].set_axis_off()
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965), ncol=len(labels)
    )
    machine = results["meta"]["machine"]
    figure.suptitle(
        f"Session stores on {results['meta']['versions']['server']}, "
        f"{machine['date_utc']}, {machine['cores']} cores ({results['meta']['mode']} run)",
        y=0.995,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    figure.savefig(path, dpi=110)
    plt.close(figure)
