"""The targets, judged on the run's results: each one met or not, with its measurements.

Every comparison is a paired median (see ``timing``); the per-operation targets are
judged with redis-py's pure-Python parser (what a plain ``pip install`` gives) at
concurrency 1 and 64, and each lists its failing cells first.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

__all__ = ["evaluate_targets"]

TIMES = "\N{MULTIPLICATION SIGN}"


def _target(
    name: str, limit: str, cells: list[tuple[str, float]], ok: Callable[[float], bool], fmt: str
) -> dict[str, Any]:
    # Failing cells first, each group in the run's order.
    ordered = sorted(cells, key=lambda cell: ok(cell[1]))
    return {
        "target": name,
        "limit": limit,
        "met": bool(cells) and all(ok(value) for _, value in cells),
        "measured": [f"{label}: {fmt.format(value)}" for label, value in ordered],
    }


def _budget(budget: dict[str, Any]) -> list[dict[str, Any]]:
    ops = budget["operations"]
    over = [(op["operation"], op["metrics_logs_over_bare"]["median"]) for op in ops]
    spans = [(op["operation"], op["spans_over_bare_span_attrs"]["median"]) for op in ops]
    return [
        _target(
            "CPU per call, metrics + logs, over the bare call",
            "≤ 5 µs",
            over,
            lambda v: v <= 5.0,
            "+{:.2f} µs",
        ),
        _target(
            "CPU per call, spans + metrics + logs, vs a bare span with the same attributes",
            f"≤ 1.15{TIMES}",
            spans,
            lambda v: v <= 1.15,
            "{:.3f}" + TIMES,
        ),
    ]


def _metrics(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    ops = metrics["operations"]
    same = [(op["operation"], op["otel_path_over_same_updates"]["median"]) for op in ops]
    both = [(op["operation"], op["both_paths_over_floors"]["median"]) for op in ops]
    return [
        _target(
            "CPU per call, OTel metrics path, vs the OTel SDK's own calls for the same updates",
            f"≤ 1.15{TIMES}",
            same,
            lambda v: v <= 1.15,
            "{:.2f}" + TIMES,
        ),
        _target(
            "CPU per call, both metrics paths, vs the two floors added (three prometheus_client "
            "updates + one OTel histogram record)",
            f"≤ 1.0{TIMES}",
            both,
            lambda v: v <= 1.0,
            "{:.2f}" + TIMES,
        ),
    ]


def _agent_turn(turn: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if turn.get("sdk_over_ours"):
        found.append(
            _target(
                "agent turn: ours faster than the SDK's RedisSession",
                f"≥ 1.5{TIMES}",
                [("SDK time / ours", turn["sdk_over_ours"]["median"])],
                lambda v: v >= 1.5,
                "{:.2f}" + TIMES,
            )
        )
    if turn.get("server_cpu_ours_over_sdk"):
        found.append(
            _target(
                "server CPU per agent turn: ours vs the SDK's RedisSession",
                f"≤ 0.4{TIMES}",
                [("ours / SDK", turn["server_cpu_ours_over_sdk"]["median"])],
                lambda v: v <= 0.4,
                "{:.2f}" + TIMES,
            )
        )
    for key, name, percent in (
        ("metrics_logs_over_ours", "agent turn: metrics + logs over ours", 3.0),
        ("spans_over_ours", "agent turn: spans over ours", 10.0),
    ):
        if turn.get(key):
            overhead = (turn[key]["median"] - 1) * 100
            found.append(
                _target(
                    name,
                    f"≤ +{percent:.0f} %",
                    [("per turn", overhead)],
                    functools.partial(operator.ge, percent),  # percent >= v
                    "{:+.1f} %",
                )
            )
    return found


def _cells(
    operations: list[dict[str, Any]], names: tuple[str, ...], ratio: str
) -> list[tuple[str, float]]:
    return [
        (
            f"{entry['operation']} c={entry['concurrency']}",
            entry["ratios"]["python"][ratio]["median"],
        )
        for entry in operations
        if entry["operation"] in names
    ]


def _per_operation(operations: list[dict[str, Any]], trips: dict[str, Any]) -> list[dict[str, Any]]:
    reads = ("get_items(limit=20)", "get_items() of 1000")
    cheap = ("add_items(1)", "add_items(10)", "clear_session")
    ratio = "{:.2f}" + TIMES
    found = [
        _target(
            "every operation of ours is 1 round trip",
            "= 1",
            [(op, float(len(groups))) for op, groups in trips.get("ours", {}).items()],
            lambda v: v == 1,
            "{:.0f}",
        ),
        _target(
            "reads: ours' time vs the SDK's",
            f"≤ 1.0{TIMES}",
            _cells(operations, reads, "ours_over_sdk"),
            lambda v: v <= 1.0,
            ratio,
        ),
        _target(
            "pop_item: ours' time vs the SDK's",
            f"≤ 1.15{TIMES}",
            _cells(operations, ("pop_item",), "ours_over_sdk"),
            lambda v: v <= 1.15,
            ratio,
        ),
        _target(
            "add_items, clear_session: SDK's time vs ours",
            f"≥ 4{TIMES}",
            [(label, 1 / v) for label, v in _cells(operations, cheap, "ours_over_sdk")],
            lambda v: v >= 4.0,
            ratio,
        ),
        _target(
            "add_items vs the floor (encode + RPUSH)",
            f"≤ 1.3{TIMES}",
            _cells(operations, ("add_items(1)", "add_items(10)"), "ours_over_floor"),
            lambda v: v <= 1.3,
            ratio,
        ),
        _target(
            "get_items(limit=20) vs the floor (LRANGE + decode)",
            f"≤ 1.1{TIMES}",
            _cells(operations, ("get_items(limit=20)",), "ours_over_floor"),
            lambda v: v <= 1.1,
            ratio,
        ),
    ]
    return found


def _memory(memory: dict[str, Any]) -> list[dict[str, Any]]:
    ratios = memory["ours_over_sdk"]
    return [
        _target(
            "memory per session, ours vs the SDK's, within the operation log's window",
            f"≤ 1.1{TIMES}",
            [("used_memory ours / SDK", ratios["within_window"])],
            lambda v: v <= 1.1,
            "{:.3f}" + TIMES,
        ),
        _target(
            "memory per session, ours vs the SDK's, after the operation logs expire",
            f"≤ 1.0{TIMES}",
            [("used_memory ours / SDK", ratios["after_logs_expire"])],
            lambda v: v <= 1.0,
            "{:.3f}" + TIMES,
        ),
    ]


def _busy_session(busy: dict[str, Any]) -> list[dict[str, Any]]:
    ours = {name: lane for name, lane in busy["lanes"].items() if name.startswith("ours")}
    return [
        _target(
            "one busy session: ours' writes per second vs the SDK's",
            f"≥ 5{TIMES}",
            [(sharing, ratio["median"]) for sharing, ratio in busy["ours_over_sdk"].items()],
            lambda v: v >= 5.0,
            "{:.1f}" + TIMES,
        ),
        _target(
            "one busy session: ours' writes refused or lost",
            "= 0",
            [(name, float(lane["refused"] + lane["missing"])) for name, lane in ours.items()],
            lambda v: v == 0,
            "{:.0f}",
        ),
    ]


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target whose section ran."""
    found: list[dict[str, Any]] = []
    if "budget" in results:
        found += _budget(results["budget"])
    if "metrics" in results:
        found += _metrics(results["metrics"])
    if "agent_turn" in results:
        found += _agent_turn(results["agent_turn"])
    if "per_operation" in results:
        found += _per_operation(results["per_operation"], results.get("round_trips", {}))
    if "memory" in results:
        found += _memory(results["memory"])
    if "busy_session" in results:
        found += _busy_session(results["busy_session"])
    return found
