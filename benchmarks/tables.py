"""``RESULTS.md``: the run's results as Markdown tables, with machine, versions and date."""

from __future__ import annotations

from typing import Any

from contenders import FLOOR, OURS, OURS_BARE_SPAN, OURS_METRICS_LOGS, OURS_SPANS, SDK
from targets import instrumentation_overhead

__all__ = ["render_markdown"]

TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


def _us(seconds: float) -> str:
    micro = seconds * 1e6
    return f"{micro:,.0f}" if micro >= 100 else f"{micro:.1f}"


def _ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}{TIMES}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _header(cells: list[str], align_first_left: bool = True) -> list[str]:
    rule = [":--" if align_first_left and i == 0 else "--:" for i in range(len(cells))]
    return [_row(cells), _row(rule)]


def _names(results: dict[str, Any]) -> list[str]:
    return [c["name"] for c in results["contenders"]]


def _time_table(results: dict[str, Any], concurrency: int) -> list[str]:
    names = _names(results)
    lines = _header(["operation", *names])
    for entry in results["operations"]:
        if entry["concurrency"] != concurrency:
            continue
        cells = [entry["operation"]]
        for name in names:
            s = entry["contenders"][name]["seconds_per_call"]
            cells.append(f"{_us(s['median'])} [{_us(s['p25'])}{DASH}{_us(s['p75'])}]")
        lines.append(_row(cells))
    return lines


def _ratio_table(results: dict[str, Any], reference: str, key: str, invert: bool) -> list[str]:
    names = [n for n in _names(results) if n != reference]
    lines = _header(["operation", "c", *names])
    for entry in results["operations"]:
        cells = [entry["operation"], str(entry["concurrency"])]
        for name in names:
            ratio = entry["contenders"][name][key]
            if invert:
                text = f"{1 / ratio['median']:.2f}{TIMES}"
            else:
                text = f"{ratio['median']:.2f}{TIMES} [{ratio['p25']:.2f}{DASH}{ratio['p75']:.2f}]"
            cells.append(f"**{text}**" if name == OURS else text)
        lines.append(_row(cells))
    return lines


def _overhead_table(results: dict[str, Any]) -> list[str]:
    lines = _header(
        [
            "operation",
            "c",
            "(a) metrics + logs",
            "(b) sampled spans",
            "bare SDK span (floor of b)",
        ]
    )
    for row in instrumentation_overhead(results):
        cells = [row["operation"], str(row["concurrency"])]
        for name in (OURS_METRICS_LOGS, OURS_SPANS, OURS_BARE_SPAN):
            value = row.get(name)
            cells.append(DASH if value is None else f"{value:+.1%}")
        lines.append(_row(cells))
    return lines


def _round_trip_table(results: dict[str, Any]) -> list[str]:
    names = _names(results)
    trips = results["round_trips"]
    lines = _header(["operation", *names])
    for operation in next(iter(trips.values())):
        lines.append(_row([operation, *(str(trips[n][operation]["round_trips"]) for n in names)]))
    return lines


def _commands(results: dict[str, Any], operation: str) -> list[str]:
    lines = []
    for name, operations in results["round_trips"].items():
        trips = operations[operation]["commands"]
        shown = " → ".join(" ".join(trip) for trip in trips)
        lines.append(f"- {name}: `{shown}`")
    return lines


def _scaling_table(results: dict[str, Any]) -> list[str]:
    names = list(results["scaling"][0]["contenders"])
    lines = _header(["session length", *names])
    for entry in results["scaling"]:
        cells = [f"{entry['session_length']:,}"]
        for name in names:
            s = entry["contenders"][name]["seconds_per_call"]
            cells.append(f"{_us(s['median'])} [{_us(s['p25'])}{DASH}{_us(s['p75'])}]")
        lines.append(_row(cells))
    return lines


def _memory_table(results: dict[str, Any]) -> list[str]:
    lines = _header(
        ["contender", "items written", "items kept", "bytes", "bytes per kept item", "keys"]
    )
    for name, data in results["memory"].items():
        per_item = data["bytes_per_item"]
        lines.append(
            _row(
                [
                    name,
                    f"{data['items_written']:,}",
                    f"{data['items_kept']:,}",
                    f"{data['bytes']:,}",
                    DASH if per_item is None else f"{per_item:,.0f}",
                    str(len(data["keys"])),
                ]
            )
        )
    return lines


def _target_table(results: dict[str, Any]) -> list[str]:
    lines = _header(["target", "limit", "measured (worst first)", "met"])
    for target in results["targets"]:
        values = [c for c in target["cells"] if c["value"] is not None]
        failing = [c for c in values if not c["met"]]
        shown = (failing or values)[:3]
        text = "; ".join(f"{c['where']}: {_format_value(target, c['value'])}" for c in shown)
        if len(failing) > 3:
            text += f"; … {len(failing) - 3} more not met"
        verdict = (
            "not measured"
            if not target["measured"]
            else ("met" if target["met"] else "**not met**")
        )
        lines.append(_row([target["target"], target["limit"], text or DASH, verdict]))
    return lines


def _format_value(target: dict[str, Any], value: float) -> str:
    if "overhead" in target["target"]:
        return f"{value:+.1%}"
    if "round trip" in target["target"]:
        return str(value)
    return f"{value:.2f}{TIMES}"


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    machine, versions = meta["machine"], meta["versions"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {machine['date_utc']} by `{meta['command']}` ({meta['mode']} run, "
        f"{meta['wall_seconds']:.0f} s). How to read and reproduce these numbers: "
        f"[README.md]({meta.get('readme', 'README.md')}).",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}; load average (1, 5, 15 min) {machine['load_average_at_start']} at "
        f"start, {machine['load_average_at_end']} at the end (the machine is shared).",
        f"- Server: {versions['server']} on loopback, started by the benchmark; client "
        f"redis-py {versions['redis']} (hiredis: {versions['hiredis'] or 'not installed'}), "
        f"Python {versions['python']}.",
        f"- Libraries: openai-agents-session {versions['openai-agents-session']}, openai-agents "
        f"{versions['openai-agents']}, opentelemetry-sdk {versions['opentelemetry-sdk']}, "
        f"prometheus-client {versions['prometheus-client']}, structlog {versions['structlog']}.",
        f"- Items: SDK-shaped message dicts (user, tool call, tool output, assistant), "
        f"{meta['item_mean_bytes']:.0f} bytes of JSON on average; every session holds "
        f"{meta['prefill']:,} items before a read, write or pop.",
        f"- {meta['rounds']} rounds; each round times one batch per contender, in a new random "
        "order. Times are per call (at concurrency 64: batch wall time ÷ calls), median "
        "[interquartile range] over rounds; ratios are per-round paired ratios, median.",
        "",
        "Contenders:",
        "",
    ]
    lines += [f"- **{c['name']}**: {c['description']}" for c in results["contenders"]]
    for name, count in meta.get("spans_exported", {}).items():
        lines += ["", f"Spans exported by {name} during the run: {count:,}."]
    lines += ["", "## Targets", "", *_target_table(results)]
    for concurrency in meta["concurrencies"]:
        lines += ["", f"## Time per call at concurrency {concurrency} (µs)", ""]
        lines += _time_table(results, concurrency)
    lines += ["", "## Time relative to the floor (lower is better)", ""]
    lines += _ratio_table(results, FLOOR, "vs_floor", invert=False)
    lines += ["", "## Throughput relative to the SDK's RedisSession (higher is better)", ""]
    lines += _ratio_table(results, SDK, "vs_sdk", invert=True)
    lines += ["", "## Instrumentation overhead over uninstrumented ours", ""]
    lines += _overhead_table(results)
    lines += ["", "## Round trips per call", ""]
    lines += _round_trip_table(results)
    for operation in ("add_items(1)", "clear_session"):
        lines += ["", f"Commands of {operation}, one round trip per arrow-separated group:", ""]
        lines += _commands(results, operation)
    lines += ["", "## get_items(limit=20) by session length, concurrency 1 (µs)", ""]
    lines += ["A 10-item session holds less than the page of 20, so that row reads less.", ""]
    lines += _scaling_table(results)
    lines += ["", "## Memory per session (`MEMORY USAGE`, all keys of the session)", ""]
    lines += _memory_table(results)
    lines += ["", f"![ratios and scaling]({meta['chart']})", ""]
    return "\n".join(lines)
