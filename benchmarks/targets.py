"""The performance targets, judged on a run's results: reported as met or not, never asserted.

A target that spans several measurements (both concurrencies, several operations)
is met only when every one of them is. Each measurement is a "cell": where it was
taken, its value and whether it meets the limit.
"""

from __future__ import annotations

from typing import Any

from contenders import OURS, OURS_BARE_SPAN, OURS_METRICS_LOGS, OURS_SPANS
from stats import paired_ratio

__all__ = ["FLAT_SCALING_LIMIT", "evaluate_targets", "instrumentation_overhead"]

TIMES = "\N{MULTIPLICATION SIGN}"
# get_items(limit=20) counts as flat when, at the longest session, it takes at most
# this factor of its time at the shortest session that holds a full page.
FLAT_SCALING_LIMIT = 1.2
PAGE = 20
OVERHEAD_LIMITS = {OURS_METRICS_LOGS: 0.05, OURS_SPANS: 0.15}


def instrumentation_overhead(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Per operation and concurrency: extra time of each instrumented set-up over ours."""
    rows = []
    for entry in results["operations"]:
        contenders = entry["contenders"]
        if OURS not in contenders:
            continue
        row: dict[str, Any] = {"operation": entry["operation"], "concurrency": entry["concurrency"]}
        base = contenders[OURS]["seconds_per_call"]["samples"]
        for name in (*OVERHEAD_LIMITS, OURS_BARE_SPAN):
            if name in contenders:
                samples = contenders[name]["seconds_per_call"]["samples"]
                row[name] = paired_ratio(samples, base)["median"] - 1.0
        rows.append(row)
    return rows


def _target(name: str, limit: str, cells: list[dict[str, Any]]) -> dict[str, Any]:
    measured = [cell for cell in cells if cell["value"] is not None]
    return {
        "target": name,
        "limit": limit,
        "cells": cells,
        "measured": bool(measured),
        "met": bool(measured) and all(cell["met"] for cell in measured),
    }


def _round_trips(results: dict[str, Any]) -> dict[str, Any]:
    cells = []
    for contender in (OURS, *OVERHEAD_LIMITS):
        for operation, counted in results["round_trips"].get(contender, {}).items():
            value = counted["round_trips"]
            cells.append({"where": f"{contender} {operation}", "value": value, "met": value == 1})
    return _target("every operation is 1 round trip", "= 1", cells)


def _ratio_target(
    results: dict[str, Any], name: str, prefix: str, reference: str, limit: float, faster: bool
) -> dict[str, Any]:
    """Ours against ``reference`` on operations named ``prefix...``.

    ``faster``: the limit is a minimum speed-up (reference time ÷ ours), otherwise a
    maximum slow-down (ours ÷ reference time).
    """
    cells = []
    for entry in results["operations"]:
        ours = entry["contenders"].get(OURS, {})
        if not entry["operation"].startswith(prefix) or reference not in ours:
            continue
        ratio = float(ours[reference]["median"])
        value = 1.0 / ratio if faster else ratio
        met = value >= limit if faster else value <= limit
        where = f"{entry['operation']} c={entry['concurrency']}"
        cells.append({"where": where, "value": value, "met": met})
    return _target(name, f"{'≥' if faster else '≤'} {limit:g}{TIMES}", cells)


def _overhead(results: dict[str, Any], contender: str, label: str) -> dict[str, Any]:
    limit = OVERHEAD_LIMITS[contender]
    cells = []
    for row in instrumentation_overhead(results):
        value = row.get(contender)
        where = f"{row['operation']} c={row['concurrency']}"
        cells.append({"where": where, "value": value, "met": value is not None and value <= limit})
    return _target(f"instrumentation overhead, {label}", f"≤ {limit:.0%}", cells)


def _flat_scaling(results: dict[str, Any]) -> dict[str, Any]:
    cells = []
    scaling = results.get("scaling", [])
    full_pages = [entry for entry in scaling if entry["session_length"] >= PAGE]
    if len(full_pages) >= 2:
        first, last = full_pages[0], full_pages[-1]
        low = first["contenders"][OURS]["seconds_per_call"]["samples"]
        high = last["contenders"][OURS]["seconds_per_call"]["samples"]
        value = paired_ratio(high, low)["median"]
        where = f"{last['session_length']:,} vs {first['session_length']:,} items"
        cells.append({"where": where, "value": value, "met": value <= FLAT_SCALING_LIMIT})
    name = "get_items(limit=20) flat in session length"
    return _target(name, f"≤ {FLAT_SCALING_LIMIT:g}{TIMES}", cells)


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target with the measurements it was judged on."""
    return [
        _round_trips(results),
        _ratio_target(results, "add_items time vs floor", "add_items", "vs_floor", 1.3, False),
        _ratio_target(
            results, "get_items(limit) time vs floor", "get_items(limit", "vs_floor", 1.1, False
        ),
        _ratio_target(results, "add_items throughput vs SDK", "add_items", "vs_sdk", 4.0, True),
        _overhead(results, OURS_METRICS_LOGS, "metrics + logs"),
        _overhead(results, OURS_SPANS, "sampled spans"),
        _flat_scaling(results),
    ]
