"""The benchmarks' one entry point: every section, one Valkey of its own, one report.

    python benchmarks/run.py                 # full run: RESULTS.md and results.json here
    python benchmarks/run.py --quick         # short run, written to benchmarks/quick/
    python benchmarks/run.py --only budget   # some sections only (repeatable)

Sections: ``budget`` (instrumentation CPU per call), ``agent_turn`` (``Runner.run``
per store), ``per_operation`` (each store call against the floor and the SDK, both
reply parsers) and ``memory`` (bytes per item and per session). Progress goes to
stderr; the exit status is 0 whatever the targets say (evidence, not a test).
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
from items import conversation, mean_item_bytes
from machine import describe_machine, describe_versions
from memory import measure_memory
from per_operation import count_round_trips, measure_operations
from redis.utils import HIREDIS_AVAILABLE
from report import render_markdown
from sessions import client, protocol
from targets import evaluate_targets

from openai_agents_session.testing import ServerProcess

HERE = Path(__file__).resolve().parent
SECTIONS = ("budget", "agent_turn", "per_operation", "memory")


@dataclass(frozen=True)
class Plan:
    """How much each section measures."""

    mode: str
    budget_calls: int
    budget_rounds: int
    turn_rounds: int
    # Calls per worker and batch, per concurrency and operation (0: not measured).
    operation_calls: dict[int, dict[str, int]]
    operation_rounds: int
    # Fewer rounds where one batch is long: 64 reads of 1,000 items each.
    long_batch_rounds: int
    memory_sessions: int


FULL = Plan(
    mode="full",
    budget_calls=3000,
    budget_rounds=40,
    turn_rounds=80,
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
)

QUICK = Plan(
    mode="quick",
    budget_calls=1000,
    budget_rounds=8,
    turn_rounds=10,
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
        if "agent_turn" in sections:
            _say("agent turn ...")
            results["agent_turn"] = await measure_agent_turn(clients, plan.turn_rounds, rng)
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
