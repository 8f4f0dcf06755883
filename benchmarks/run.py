"""The benchmarks' one entry point: every section, one Valkey of its own, one report.

    python benchmarks/run.py                 # full run: RESULTS.md and results.json here
    python benchmarks/run.py --quick         # short run, written to benchmarks/quick/
    python benchmarks/run.py --only budget   # some sections only (repeatable)

Sections: ``budget`` (instrumentation CPU per call), ``metrics`` (each metrics path's
CPU per call: prometheus_client, OpenTelemetry, both, next to their floors),
``agent_turn`` (``Runner.run`` per store, and where the server's CPU goes in a turn),
``per_operation`` (each store call against the floor and the SDK, both reply parsers),
``memory`` (bytes per item and per session), ``oplog`` (the operation log's bytes per
operation, at its cap, per pop), ``busy_session`` (writes per second to one
conversation) and ``eviction`` (what each ``maxmemory-policy`` keeps, on throwaway
servers of their own). Progress
goes to stderr; the exit status is 0 whatever the targets say (evidence, not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_turn import measure_agent_turn
from budget import measure_budget
from busy_session import measure_busy_session
from eviction import Cell, measure_eviction
from items import conversation, mean_item_bytes
from lifecycle import measure_lifecycle
from machine import describe_machine, describe_versions
from memory import measure_memory
from metrics_budget import measure_metrics_budget
from operation_log import measure_operation_log
from per_operation import count_round_trips, measure_operations
from redis.utils import HIREDIS_AVAILABLE
from report import render_markdown
from server_cost import measure_server_cost
from servers import ServerProcess
from sessions import client, protocol
from targets import evaluate_targets

HERE = Path(__file__).resolve().parent
SECTIONS = (
    "budget",
    "metrics",
    "agent_turn",
    "per_operation",
    "memory",
    "oplog",
    "lifecycle",
    "busy_session",
    "eviction",
)
MIB = 1024 * 1024
_POLICIES = ("noeviction", "volatile-lru", "allkeys-lru", "volatile-ttl")


@dataclass(frozen=True)
class Plan:
    """How much each section measures."""

    mode: str
    budget_calls: int
    budget_rounds: int
    turn_rounds: int
    # Conversations per store in the server-CPU breakdown of a turn.
    turn_cost_conversations: int
    # Calls per worker and batch, per concurrency and operation (0: not measured).
    operation_calls: dict[int, dict[str, int]]
    operation_rounds: int
    # Fewer rounds where one batch is long: 64 reads of 1,000 items each.
    long_batch_rounds: int
    memory_sessions: int
    # One busy session: writes per batch (or seconds, whichever ends it first), rounds.
    busy_writes: int
    busy_seconds: float
    busy_rounds: int
    # maxmemory per throwaway server, sessions written over what it holds, cells.
    eviction_maxmemory: int
    eviction_overfill: float
    eviction_cells: tuple[Cell, ...]


FULL = Plan(
    mode="full",
    budget_calls=3000,
    budget_rounds=40,
    turn_rounds=80,
    turn_cost_conversations=30,
    operation_calls={
        1: {
            "add_items(1)": 100,
            "add_items(10)": 80,
            "get_items(limit=20)": 100,
            "get_items() of 1000": 5,
            "pop_item": 100,
            "clear_session": 40,
        },
        64: {
            "add_items(1)": 3,
            "add_items(10)": 2,
            "get_items(limit=20)": 3,
            "get_items() of 1000": 1,
            "pop_item": 3,
            "clear_session": 1,
        },
    },
    operation_rounds=30,
    long_batch_rounds=10,
    memory_sessions=10_000,
    busy_writes=3000,
    busy_seconds=2.0,
    busy_rounds=5,
    eviction_maxmemory=8 * MIB,
    eviction_overfill=3.0,
    eviction_cells=(
        *(Cell(policy, None) for policy in _POLICIES),
        Cell("volatile-lru", 3600),
        Cell("volatile-ttl", 3600),
    ),
)

QUICK = Plan(
    mode="quick",
    budget_calls=1000,
    budget_rounds=8,
    turn_rounds=10,
    turn_cost_conversations=5,
    operation_calls={
        1: {
            "add_items(1)": 30,
            "add_items(10)": 20,
            "get_items(limit=20)": 30,
            "get_items() of 1000": 2,
            "pop_item": 30,
            "clear_session": 20,
        },
        64: {**{name: 1 for name in FULL.operation_calls[64]}, "get_items() of 1000": 0},
    },
    operation_rounds=5,
    long_batch_rounds=0,
    memory_sessions=2_000,
    busy_writes=1000,
    busy_seconds=1.0,
    busy_rounds=2,
    eviction_maxmemory=4 * MIB,
    eviction_overfill=2.0,
    eviction_cells=(*(Cell(policy, None) for policy in _POLICIES[:3]), Cell("volatile-lru", 3600)),
)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _measure(port: int, plan: Plan, sections: list[str]) -> dict[str, Any]:
    rng = random.Random(2024)
    items = conversation(400)
    parsers = ["python", "hiredis"] if HIREDIS_AVAILABLE else ["python"]
    clients = {parser: client(port, parser) for parser in parsers}
    results: dict[str, Any] = {"item_mean_bytes": mean_item_bytes(items)}
    try:
        results["server_info"] = await clients["python"].info("server")
        results["resp"] = protocol(clients["python"])
        if "budget" in sections:
            _say("instrumentation CPU per call ...")
            results["budget"] = await measure_budget(plan.budget_calls, plan.budget_rounds, rng)
        if "metrics" in sections:
            _say("metrics paths: CPU per call next to the floors ...")
            results["metrics"] = await measure_metrics_budget(
                plan.budget_calls, plan.budget_rounds, rng
            )
        if "agent_turn" in sections:
            _say("agent turn ...")
            results["agent_turn"] = await measure_agent_turn(clients, plan.turn_rounds, rng)
            _say("server CPU per agent turn, broken down ...")
            results["agent_turn"]["server_cost"] = await measure_server_cost(
                clients["python"], port, plan.turn_cost_conversations, rng
            )
        if "per_operation" in sections:
            _say("round trips per call ...")
            results["round_trips"] = await count_round_trips(port, items)
            _say("per operation ...")
            results["per_operation"] = await measure_operations(
                clients,
                items,
                plan.operation_calls,
                plan.operation_rounds,
                plan.long_batch_rounds,
                rng,
            )
        if "memory" in sections:
            _say(f"memory: {plan.memory_sessions:,} sessions per layout ...")
            results["memory"] = await measure_memory(
                clients["python"], plan.memory_sessions, conversation(20)
            )
        if "oplog" in sections:
            _say("operation log: bytes per logged operation ...")
            results["oplog"] = await measure_operation_log(clients["python"], items)
        if "lifecycle" in sections:
            _say("data lifecycle: memory, round trips, server CPU, erase ...")
            results["lifecycle"] = await measure_lifecycle(port, quick=plan.mode == "quick")
        if "busy_session" in sections:
            _say("one busy session: writes per second ...")
            results["busy_session"] = await measure_busy_session(
                clients["python"],
                items,
                plan.busy_writes,
                plan.busy_seconds,
                plan.busy_rounds,
                rng,
            )
        if "eviction" in sections:
            _say(f"maxmemory policies: {len(plan.eviction_cells)} throwaway servers ...")
            results["eviction"] = await measure_eviction(
                conversation(20),
                list(plan.eviction_cells),
                plan.eviction_maxmemory,
                plan.eviction_overfill,
            )
    finally:
        for redis_client in clients.values():
            await redis_client.aclose()
    return results


def _run(plan: Plan, sections: list[str], command: str) -> dict[str, Any]:
    started = time.perf_counter()
    machine = describe_machine()
    load_at_start = machine.pop("load_average_now")
    with ServerProcess() as server:
        _say(f"valkey on 127.0.0.1:{server.port}; {plan.mode} run of {', '.join(sections)}")
        measured = asyncio.run(_measure(server.port, plan, sections))
    server_info = measured.pop("server_info")
    results: dict[str, Any] = {
        "meta": {
            "command": command,
            "mode": plan.mode,
            "sections": sections,
            "machine": {
                **machine,
                "load_average_at_start": load_at_start,
                "load_average_at_end": describe_machine()["load_average_now"],
            },
            "versions": describe_versions(server_info),
            "item_mean_bytes": measured.pop("item_mean_bytes"),
            "resp": measured.pop("resp"),
            "wall_seconds": time.perf_counter() - started,
        },
        **measured,
    }
    results["targets"] = evaluate_targets(results)
    return results


def _stop_on_sigterm() -> None:
    # SIGTERM becomes an exception, so the server is stopped by its context manager.
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run this section")
    parser.add_argument(
        "--output",
        type=Path,
        help="directory for RESULTS.md and results.json "
        "(default: benchmarks/, or benchmarks/quick/ with --quick)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    sections = [name for name in SECTIONS if not args.only or name in args.only]
    output = args.output or (HERE / "quick" if args.quick else HERE)
    output.mkdir(parents=True, exist_ok=True)
    command = "make bench-quick" if args.quick else "make bench"
    if args.only or args.output:
        command = "python benchmarks/run.py " + " ".join(argv or sys.argv[1:])
    _stop_on_sigterm()
    try:
        results = _run(plan, sections, command)
    except KeyboardInterrupt:
        _say("interrupted; the server was stopped, nothing was written")
        return 130
    results["meta"]["readme"] = os.path.relpath(HERE / "README.md", output.resolve())
    (output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (output / "RESULTS.md").write_text(render_markdown(results))
    for target in results["targets"]:
        _say(
            f"target {target['target']} {target['limit']}: {'met' if target['met'] else 'NOT MET'}"
        )
    _say(f"wrote {output / 'RESULTS.md'} in {results['meta']['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
