"""``RESULTS.md`` sections about the store's server-side costs: CPU per turn, the
operation log, one busy session, and what each ``maxmemory-policy`` keeps."""

from __future__ import annotations

from typing import Any

from markdown import DASH, TIMES, num, spread, table

__all__ = ["render_busy_session", "render_eviction", "render_oplog", "render_server_cost"]


def render_server_cost(cost: dict[str, Any]) -> list[str]:
    rows = []
    for name, store in cost["stores"].items():
        rows.append(
            [
                name,
                num(store["server_cpu_micros"]),
                num(store["direct_commands"]),
                num(store["script_inner_commands"]),
                num(store["script_engine"]),
                num(store["transaction_inner_commands"]),
                num(store["transaction_overhead"]),
                num(store["outside_commands"]),
            ]
        )
    header = [
        "store",
        "server CPU µs / turn",
        "commands sent directly",
        "commands inside scripts",
        "script engine",
        "commands inside MULTI/EXEC",
        "MULTI/EXEC itself",
        "outside commands",
    ]
    commands = [
        f"- {name}: "
        + ", ".join(
            f"{command} {TIMES}{entry['calls']:.2g} {num(entry['micros'])} µs"
            for command, entry in list(store["per_command"].items())[:10]
        )
        for name, store in cost["stores"].items()
    ]
    return [
        "### Where the server's CPU goes in a turn",
        "",
        f"An untimed pass after the rounds: {cost['conversations']} rounds of one "
        "conversation per store in a new random order "
        f"({cost['turns']} turns per store), commands sent counted on the client's socket, "
        "the server main thread's CPU (`INFO cpu`) and `INFO commandstats` read around each "
        "conversation; µs per turn. A script's or transaction's own cost is its time less "
        "its inner commands' (the server times those under their own names too); outside "
        "commands: reading requests, parsing, writing replies, the event loop.",
        "",
        *table(header, rows),
        "Server CPU per turn in this pass, ours / the SDK's, conversation by conversation: "
        f"**{cost['ours_over_sdk']['median']:.2f}{TIMES}** "
        f"[{cost['ours_over_sdk']['p25']:.2f}{DASH}{cost['ours_over_sdk']['p75']:.2f}].",
        "",
        "Per command, calls and µs per turn (`INFO commandstats`; containers include their "
        "inner commands):",
        "",
        *commands,
        "",
    ]


def render_oplog(oplog: dict[str, Any]) -> list[str]:
    growth = oplog["growth"]
    rows = [
        [
            f"{point['writes']:,}",
            f"{point['ids']:,}",
            point["encoding"],
            f"{point['bytes']:,}",
            f"{point['bytes_per_id']:.1f}",
            DASH,
        ]
        for point in growth["checkpoints"]
    ]
    cap = growth["at_cap"]
    rows.append(
        [
            f"{cap['writes']:,}",
            f"{cap['ids']:,}",
            cap["encoding"],
            f"{cap['bytes']:,}",
            f"{cap['bytes_per_id']:.1f}",
            f"{cap['evictions_reported']:,}",
        ]
    )
    popped = [
        [
            f"{stage['pops']:,}",
            f"{stage['kept_items']:,}",
            f"{stage['fields']:,}",
            f"{stage['bytes']:,}",
            f"{stage['kept_payload_bytes']:,}",
            DASH if stage["bytes_per_kept_item"] is None else f"{stage['bytes_per_kept_item']:.0f}",
            DASH
            if stage["overhead_per_kept_item"] is None
            else f"{stage['overhead_per_kept_item']:.0f}",
        ]
        for stage in oplog["popped"]["stages"]
    ]
    rates = [
        [
            f"{row['operations_per_second']:,}",
            f"{row['ids']:,}",
            f"{row['seconds_covered']:.0f}",
            f"{row['bytes'] / 1024:,.0f} KiB",
        ]
        for row in oplog["at_rates"]
    ]
    return [
        "## Operation log memory",
        "",
        f"One session, single-item `add_items` from {oplog['tasks']} concurrent tasks "
        f"({growth['seconds']:.1f} s in all, inside the {oplog['window_seconds']:.0f} s "
        f"window); the log key sized with `MEMORY USAGE … SAMPLES 0` (key name and "
        f"expiry included). Its bounds: {oplog['window_seconds']:.0f} s, "
        f"{oplog['max_ids']:,} ids.",
        "",
        *table(
            ["writes", "ids in the log", "encoding", "bytes", "bytes per id", "ids evicted"],
            rows,
        ),
        f"Popped items kept for replayed pops (at most {oplog['max_popped_items']:,} items "
        f"and {oplog['max_popped_bytes'] // 1024:,} KiB): a session of SDK-shaped items "
        "popped again and again, sized after each row's pops (the last row: the hash must "
        "not grow past its bounds).",
        "",
        *table(
            [
                "pops",
                "items kept",
                "hash fields",
                "bytes",
                "payload of the kept items",
                "bytes per kept item",
                "overhead per kept item",
            ],
            popped,
        ),
        "The log of one session written at a sustained rate (ids held = min(rate "
        f"{TIMES} window, {oplog['max_ids']:,}); size from the measured bytes per id of "
        "the nearest row above):",
        "",
        *table(["operations / s", "ids held", "seconds of operations covered", "log"], rates),
    ]


def render_busy_session(busy: dict[str, Any]) -> list[str]:
    rows = []
    for name, lane in busy["lanes"].items():
        evictions = lane["log_evictions"]
        server = lane["server_cpu_micros_per_write"]["median"]
        rows.append(
            [
                name,
                spread(lane["writes_per_second"]),
                num(server),
                f"{1e6 / server:,.0f}" if server > 0 else DASH,
                num(lane["client_cpu_micros_per_write"]["median"]),
                f"{lane['acknowledged']:,}",
                f"{lane['refused']:,}",
                f"{lane['missing']:,}",
                DASH if evictions is None else f"{evictions:,}",
            ]
        )
    header = [
        "lane",
        "writes / s",
        "server CPU µs / write",
        "server-bound writes / s",
        "client CPU µs / write",
        "acknowledged",
        "refused",
        "missing",
        "log ids evicted",
    ]
    ratios = ", ".join(
        f"{sharing} **{ratio['median']:.1f}{TIMES}**"
        for sharing, ratio in busy["ours_over_sdk"].items()
    )
    covered = busy["log_seconds_covered"]
    return [
        "## One busy session",
        "",
        f"{busy['tasks']} tasks on one client append single items to ONE session until "
        f"{busy['writes_per_batch']:,} writes or {busy['seconds_per_batch']:g} s (whichever "
        f"first), {busy['rounds']} rounds; each lane's session lives for the whole run. "
        "Shared: one session object for all tasks; per task: one object per task and batch, "
        "same session id. Missing: acknowledged writes not in the list at the end. "
        "Server-bound writes / s: one server core's ceiling, 10⁶ / server CPU per write.",
        "",
        *table(header, rows),
        f"- Ours' writes per second / the SDK's: {ratios}.",
        (
            f"- At ours' shared rate the operation log's {busy['max_ids']:,} ids cover the last "
            f"{covered:.1f} s of writes."
            if covered
            else ""
        ),
        "",
    ]


def render_eviction(eviction: dict[str, Any]) -> list[str]:
    rows = []
    for cell in eviction["cells"]:
        errors = sum(cell["other_errors"].values())
        rows.append(
            [
                cell["policy"],
                "none" if cell["ttl"] is None else f"{cell['ttl']} s",
                f"{cell['sessions_written']:,} ({cell['sessions_the_limit_holds']:,})",
                f"{cell['writes_refused_oom']:,} of {cell['writes']:,}"
                + (f" (+{errors} other errors)" if errors else ""),
                f"{cell['items_lost']:,} of {cell['items_acknowledged']:,}",
                f"{cell['sessions_vanished']:,} / {cell['sessions_shrunk']:,}",
                f"{cell['logs_vanished']:,}"
                + (f" (+{cell['logs_short']:,} missing ids)" if cell["logs_short"] else ""),
                f"{cell['ids_lost']:,}",
                f"{cell['evicted_keys']:,}",
            ]
        )
    header = [
        "maxmemory-policy",
        "session ttl",
        "sessions written (the limit holds)",
        "writes refused (OOM)",
        "acknowledged items lost",
        "sessions vanished / shrunk",
        "operation logs vanished, list kept",
        "write ids gone",
        "keys evicted",
    ]
    return [
        "## maxmemory policies, measured",
        "",
        f"A throwaway Valkey per row with `maxmemory {eviction['maxmemory'] // (1024 * 1024)}mb` "
        f"and the row's policy; sessions of {eviction['items_per_session']} SDK-shaped items "
        f"written through ours' `add_items` ({eviction['items_per_write']} items a call, 64 "
        f"sessions at a time) until {eviction['overfill']:g}{TIMES} the sessions the limit "
        f"holds (a session takes {eviction['bytes_per_session']:,.0f} bytes), then read back. "
        "Operation logs vanished: sessions whose list survived but whose log did not (in "
        "parentheses, logs that survived with ids missing); write ids gone: acknowledged "
        "writes whose id is no longer in its session's log (a late copy of such a write "
        "would be applied again).",
        "",
        *table(header, rows),
    ]
