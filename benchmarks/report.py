"""``RESULTS.md``: every section's results as Markdown tables, with machine and versions."""

from __future__ import annotations

from typing import Any

from lifecycle import render_lifecycle
from machine import describe_run
from markdown import DASH, TIMES, num, percent, ratio, spread, table
from report_metrics import render_metrics
from report_store import render_busy_session, render_eviction, render_oplog, render_server_cost

__all__ = ["render_markdown"]


def _targets(results: dict[str, Any]) -> list[str]:
    rows = []
    for target in results["targets"]:
        shown = target["measured"][:4]
        more = len(target["measured"]) - len(shown)
        measured = "; ".join(shown) + (f"; … {more} more" if more > 0 else "")
        verdict = "met" if target["met"] else "**not met**"
        rows.append([target["target"], target["limit"], measured, verdict])
    return ["## Targets", "", *table(["target", "limit", "measured", "met"], rows)]


def _budget(budget: dict[str, Any]) -> list[str]:
    rows = []
    for op in budget["operations"]:
        micros = op["micros_per_call"]
        rows.append(
            [
                op["operation"],
                spread(micros["bare call"]),
                spread(micros["metrics + logs"]),
                f"+{op['metrics_logs_over_bare']['median']:.2f}",
                spread(micros["bare span"]),
                spread(micros["bare span + same attributes"]),
                spread(micros["spans + metrics + logs"]),
                ratio(op["spans_over_bare_span_attrs"]),
                spread(micros["prometheus_client floor"]),
            ]
        )
    header = [
        "operation",
        "bare call",
        "metrics + logs",
        "over bare (≤ 5)",
        "bare span",
        "bare span + same attributes",
        "spans + metrics + logs",
        f"vs bare span + attributes (≤ 1.15{TIMES})",
        "prometheus_client floor",
    ]
    attributes = {
        op["operation"]: ", ".join(op["span"]["attributes"]) for op in budget["operations"]
    }
    return [
        "## Instrumentation CPU per call (µs, calling thread)",
        "",
        f"Around a canned in-process session; {budget['calls_per_batch']:,} calls per batch, "
        f"{budget['rounds']} rounds. The prometheus_client floor is three updates of bound "
        "children (Counter, Histogram, Counter) and no call. Spans exported during the "
        f"section: {budget['spans_exported']:,}.",
        "",
        *table(header, rows),
        "Attributes our spans carried (the bare span got the same):",
        "",
        *(f"- {name}: {attrs}" for name, attrs in attributes.items()),
        "",
    ]


def _agent_turn(turn: dict[str, Any]) -> list[str]:
    calls = ", ".join(
        f"{name} {TIMES}{count:g}" for name, count in turn["storage_calls_per_turn"].items()
    )
    rows = []
    for name, ms in turn["ms_per_turn"].items():
        share = turn["storage_share"].get(name)
        cpu = turn["client_cpu_ms_per_turn"][name]
        server = turn["server_cpu_ms_per_turn"][name]["median"]
        share_text = DASH if share is None else f"{share['median'] * 100:.0f} %"
        rows.append([name, spread(ms), spread(cpu), f"{server:.3f}", share_text])
    hiredis = turn["python_over_hiredis"]
    return [
        "## Agent turn (`Runner.run`, scripted model, zero model latency)",
        "",
        f"{turn['turns_per_conversation']} turns per conversation on a new session, one "
        f"conversation per lane and round, {turn['rounds']} rounds; storage calls per turn: "
        f"{calls}. Storage share: the part of a turn's wall time a store adds over the "
        "in-process list. Client CPU: the benchmark thread's CPU time; server CPU: the "
        "server main thread's (`INFO cpu`; about 0.01 ms of it is the two `INFO` reads "
        "themselves, as the in-process row shows). Redis stores use redis-py's Python "
        "parser unless marked.",
        "",
        *table(
            ["store", "ms per turn", "client CPU ms per turn", "server CPU ms", "storage share"],
            rows,
        ),
        "- Server CPU a turn adds (less the in-process row's, round by round), ours / the "
        f"SDK's RedisSession: **{ratio(turn.get('server_cpu_ours_over_sdk'))}**.",
        f"- SDK's RedisSession time / ours: **{ratio(turn['sdk_over_ours'])}** "
        f"(SDK / bare commands: {ratio(turn['sdk_over_floor'])}; ours / bare commands: "
        f"{ratio(turn['ours_over_floor'])}).",
        "- Instrumentation over ours, wall time: metrics + logs "
        f"**{percent(turn['metrics_logs_over_ours'])}**, spans "
        f"**{percent(turn['spans_over_ours'])}**; client CPU: metrics + logs "
        f"{percent(turn['cpu_metrics_logs_over_ours'])}, spans "
        f"{percent(turn['cpu_spans_over_ours'])} (spans exported: {turn['spans_exported']:,}).",
        "- Python parser time / hiredis: "
        + ", ".join(f"{name} {ratio(value)}" for name, value in hiredis.items() if value)
        + ".",
        "",
        *(render_server_cost(turn["server_cost"]) if "server_cost" in turn else []),
    ]


def _per_operation(results: dict[str, Any]) -> list[str]:
    operations = results["per_operation"]
    lines = ["## Per operation (µs per call, redis-py's Python parser)", ""]
    for concurrency in sorted({entry["concurrency"] for entry in operations}):
        rows = []
        for entry in operations:
            if entry["concurrency"] != concurrency:
                continue
            micros, ratios = entry["micros_per_call"], entry["ratios"]["python"]
            rows.append(
                [
                    entry["operation"],
                    spread(micros["floor (python)"]),
                    spread(micros["ours (python)"]),
                    spread(micros["sdk (python)"]),
                    ratio(ratios["ours_over_floor"]),
                    ratio(ratios["ours_over_sdk"]),
                ]
            )
        header = ["operation", "floor", "ours", "sdk", "ours / floor", "ours / sdk"]
        lines += [f"Concurrency {concurrency}:", "", *table(header, rows)]
    rows = []
    for entry in operations:
        if entry["concurrency"] != 1:
            continue
        cells = [entry["operation"]]
        for contender in ("floor", "ours", "sdk"):
            cost = entry["cpu_micros_per_call"][f"{contender} (python)"]
            cells.append(
                " / ".join(
                    num(cost[kind]["median"]) for kind in ("client", "server", "in_commands")
                )
            )
        rows.append(cells)
    if rows:
        lines += [
            "Where the time goes at concurrency 1, CPU µs per call: client thread / server "
            "main thread (`INFO cpu`) / of which in commands (`INFO commandstats`). The rest "
            "of the wall time is the loopback's wake-ups and waiting for a core.",
            "",
            *table(["operation", "floor", "ours", "sdk"], rows),
        ]
    trips = results.get("round_trips", {})
    if trips:
        rows = [
            [name, *(" → ".join(" ".join(g) for g in trips[c][name]) for c in trips)]
            for name in next(iter(trips.values()))
        ]
        lines += ["Commands per call, one round trip per arrow:", ""]
        lines += table(["operation", *trips], rows)
    return lines


def _hiredis(results: dict[str, Any]) -> list[str]:
    rows = []
    for entry in results["per_operation"]:
        gains = entry["python_over_hiredis"]
        if not gains:
            continue
        micros = entry["micros_per_call"]
        cells = [entry["operation"], str(entry["concurrency"])]
        for contender in ("floor", "ours", "sdk"):
            cells.append(
                f"{num(micros[f'{contender} (hiredis)']['median'])} ({ratio(gains[contender])})"
            )
        rows.append(cells)
    if not rows:
        return []
    return [
        "## hiredis (µs per call with hiredis, and Python-parser time / hiredis time)",
        "",
        *table(["operation", "c", "floor", "ours", "sdk"], rows),
    ]


def _memory(memory: dict[str, Any]) -> list[str]:
    ratios = memory["ours_over_sdk"]
    rows = []
    for name, layout in memory["layouts"].items():
        rows.append(
            [
                name,
                f"{layout['used_memory_per_session']:,.0f}",
                f"{layout['used_memory_per_session_after_logs_expire']:,.0f}",
                f"{layout['memory_usage_per_session']:,.0f}",
                f"{layout['companion_bytes_per_session']:,.0f}",
                f"{layout['keys_per_session']:.1f}",
                f"{layout['bytes_per_item']:,.0f}",
                f"{layout['overhead_per_session']:,.0f}",
                f"{layout['sessions_per_gb']:,.0f}",
            ]
        )
    header = [
        "layout",
        "used_memory / session",
        "after the logs expire",
        "MEMORY USAGE / session",
        "of which companion keys",
        "keys / session",
        "bytes / item",
        "overhead / session",
        "sessions per GB",
    ]
    return [
        "## Memory and capacity",
        "",
        f"{memory['sessions']:,} sessions {TIMES} {memory['items_per_session']} items, written "
        "through each store's `add_items` (2 items a call); `INFO memory` `used_memory` delta "
        "and `MEMORY USAGE … SAMPLES 0` of every key in the database. Item payload: "
        f"{memory['payload_bytes_per_session']:,} bytes of compact JSON per session; overhead = "
        "used_memory per session minus payload. Sessions per GB from used_memory. After the "
        "logs expire: used_memory again once our operation logs (which expire two minutes "
        "after a session's last write or pop) have expired, their expiry brought forward.",
        "",
        *table(header, rows),
        f"- Ours / the SDK's, used_memory per session: **{ratios['within_window']:.3f}"
        f"{TIMES}** within the operation log's window, **{ratios['after_logs_expire']:.3f}"
        f"{TIMES}** after the logs expire.",
        "",
    ]


def _capacity(results: dict[str, Any]) -> list[str]:
    """Capacity figures derived from this run's measurements (memory and server CPU)."""
    memory = results["memory"]["layouts"]
    server = results.get("agent_turn", {}).get("server_cpu_ms_per_turn", {})
    lines = ["### Capacity, from the figures above", ""]
    for layout, turn_lane in (("ours", "ours"), ("sdk", "SDK RedisSession")):
        per_gb = memory[layout]["sessions_per_gb"]
        items = results["memory"]["items_per_session"]
        text = f"- {layout}: {per_gb:,.0f} sessions of {items} items per GB"
        if turn_lane in server:
            # Less the INFO reads' own cost, which the in-process row shows alone.
            per_turn = server[turn_lane]["median"] - server["in-process list"]["median"]
            text += f"; {1e3 / per_turn:,.0f} agent turns per second per server core"
        lines.append(text + ".")
    busiest = max((e["concurrency"] for e in results.get("per_operation", [])), default=0)
    for layout in ("ours", "sdk"):
        rates = [
            f"{entry['operation']} "
            f"{1e6 / entry['cpu_micros_per_call'][f'{layout} (python)']['server']['median']:,.0f}"
            for entry in results.get("per_operation", [])
            if entry["concurrency"] == busiest
        ]
        if rates:
            lines.append(
                f"- {layout}, operations per second per server core at concurrency {busiest} "
                f"(server main-thread CPU per call): {', '.join(rates)}."
            )
    lines += [
        "- Turns per second per core: 1 / (server CPU per turn, less the in-process row's, "
        "which is the cost of reading `INFO` itself).",
        "- Primaries for N conversations at M turns per second: max(N / sessions per GB / "
        "usable GB per primary, M / turns per second per core), one core per primary "
        "(the server runs commands on one thread).",
        "",
    ]
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    lines = describe_run(results) + _targets(results)
    if "budget" in results:
        lines += _budget(results["budget"])
    if "metrics" in results:
        lines += render_metrics(results["metrics"])
    if "agent_turn" in results:
        lines += _agent_turn(results["agent_turn"])
    if "per_operation" in results:
        lines += _per_operation(results) + _hiredis(results)
    if "memory" in results:
        lines += _memory(results["memory"]) + _capacity(results)
    if "oplog" in results:
        lines += render_oplog(results["oplog"])
    if "lifecycle" in results:
        lines += [
            "## Data lifecycle",
            "",
            "`max_age` and `owner` next to the same agent turns without them, on one server "
            "(median of the rounds; server CPU is the time `INFO commandstats` gives the "
            "commands the client sent):",
            "",
            render_lifecycle(results["lifecycle"]),
            "",
        ]
    if "busy_session" in results:
        lines += render_busy_session(results["busy_session"])
    if "eviction" in results:
        lines += render_eviction(results["eviction"])
    return "\n".join(lines).rstrip() + "\n"
