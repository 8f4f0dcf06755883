"""Side-by-side session-store benchmarks on a Valkey server of their own.

    python benchmarks/run.py            # full run (≈10 min): RESULTS.md, results.png, results.json
    python benchmarks/run.py --quick    # ≈1.5 min, written to benchmarks/quick/
    python benchmarks/run.py --json     # also print the JSON results on stdout

Progress goes to stderr. Targets are reported as met or not met; the exit status is
0 whatever they say (a benchmark is evidence, not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

from chart import draw_chart
from contenders import SessionConfig, build_contenders, instrumentation_available
from harness import Batch, SessionPool, measure_operation
from machine import describe_machine, describe_versions
from memory_usage import measure_memory
from operations import OPERATIONS, PREFILL
from plan import Plan, full_plan, quick_plan
from redis.asyncio import Redis
from results import operation_entry, scaling_entry
from round_trips import count_round_trips
from scaling import measure_scaling
from tables import render_markdown
from targets import evaluate_targets
from workload import conversation, mean_item_bytes

from openai_agents_session.testing import ServerProcess

HERE = Path(__file__).resolve().parent
TIMES = "\N{MULTIPLICATION SIGN}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _measure(port: int, plan: Plan, instrumented: bool) -> dict[str, Any]:
    config = SessionConfig()
    contenders = build_contenders(config, instrumented=instrumented)
    items = conversation(400)
    rng = random.Random(2024)
    results: dict[str, Any] = {
        "contenders": [{"name": c.name, "description": c.description} for c in contenders],
        "operations": [],
        "scaling": [],
    }
    # One client, one connection pool, shared by every contender and worker.
    client = Redis(host="127.0.0.1", port=port)
    try:
        results["server_info"] = await client.info("server")
        _say("round trips per call ...")
        results["round_trips"] = await count_round_trips(port, contenders, OPERATIONS, items)
        pool = SessionPool(client, contenders, items)
        # Everything imported and built so far is long-lived: keep it out of the
        # collector's way, so a collection costs the same in every batch.
        gc.collect()
        gc.freeze()
        for concurrency in plan.concurrencies:
            for operation in OPERATIONS:
                batch = plan.batch(operation.name, concurrency)
                started = time.perf_counter()
                rounds = plan.rounds_for(operation.name, concurrency)
                samples = await measure_operation(operation, pool, batch, rounds, rng)
                entry = operation_entry(operation.name, concurrency, batch.total, samples)
                results["operations"].append(entry)
                _say(_progress(entry, time.perf_counter() - started))
            await pool.drop()
        # The instrumented contenders store and read exactly as ours does.
        layouts = [c for c in contenders if c.setup is None]
        _say("get_items(limit=20) by session length ...")
        scaling = await measure_scaling(
            client,
            layouts,
            items,
            plan.scaling_lengths,
            Batch(1, plan.scaling_calls),
            plan.scaling_rounds,
            rng,
        )
        for length, samples in scaling.items():
            results["scaling"].append(scaling_entry(length, plan.scaling_calls, samples))
        _say("memory per session ...")
        results["memory"] = await measure_memory(client, layouts, items, plan.memory_items_written)
    finally:
        await client.aclose()
        for contender in contenders:
            if contender.setup is not None:
                contender.setup.shutdown()
    # Evidence that spans really were sampled and went through the batch processor.
    results["spans_exported"] = {
        c.name: c.setup.exporter.exported for c in contenders if c.setup and c.setup.exporter
    }
    results["item_mean_bytes"] = mean_item_bytes(items)
    results["session_config"] = {"ttl": config.ttl, "max_items": config.max_items}
    return results


def _progress(entry: dict[str, Any], seconds: float) -> str:
    parts = []
    for name, data in entry["contenders"].items():
        micro = data["seconds_per_call"]["median"] * 1e6
        ratio = data.get("vs_floor", {}).get("median", 1.0)
        parts.append(f"{name} {micro:.0f}µs ({ratio:.2f}{TIMES})")
    head = f"{entry['operation']} c={entry['concurrency']} [{seconds:.0f}s]"
    return f"{head}: " + ", ".join(parts)


def _run(plan: Plan, command: str) -> dict[str, Any]:
    instrumented = instrumentation_available()
    if not instrumented:
        _say("openai_agents_session.instrument is not importable: instrumented contenders skipped")
    started = time.perf_counter()
    machine_at_start = describe_machine()
    machine_at_start["load_average_at_start"] = machine_at_start.pop("load_average_now")
    with ServerProcess() as server:
        _say(f"valkey on 127.0.0.1:{server.port}; {plan.mode} run")
        measured = asyncio.run(_measure(server.port, plan, instrumented))
    server_info = measured.pop("server_info")
    machine = describe_machine()
    machine["load_average_at_end"] = machine.pop("load_average_now")
    results: dict[str, Any] = {
        "meta": {
            "command": command,
            "mode": plan.mode,
            "machine": {**machine, **machine_at_start},
            "versions": describe_versions(server_info),
            "rounds": plan.rounds,
            "concurrencies": list(plan.concurrencies),
            "prefill": PREFILL,
            "item_mean_bytes": measured.pop("item_mean_bytes"),
            "spans_exported": measured.pop("spans_exported"),
            "session_config": measured.pop("session_config"),
            "wall_seconds": time.perf_counter() - started,
            "chart": "results.png",
        },
        **measured,
    }
    results["targets"] = evaluate_targets(results)
    return results


def _stop_on_sigterm() -> None:
    # Turn SIGTERM into an exception so the server is stopped by the context manager.
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and lengths (<2 min)")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the JSON results to PATH, or to stdout when no PATH is given",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="directory for RESULTS.md, results.png and results.json "
        "(default: benchmarks/, or benchmarks/quick/ with --quick)",
    )
    args = parser.parse_args(argv)
    plan = quick_plan() if args.quick else full_plan()
    output = args.output or (HERE / "quick" if args.quick else HERE)
    output.mkdir(parents=True, exist_ok=True)
    command = "make bench-quick" if args.quick else "make bench"
    _stop_on_sigterm()
    try:
        results = _run(plan, command)
    except KeyboardInterrupt:
        _say("interrupted; the server was stopped, nothing was written")
        return 130
    results["meta"]["readme"] = os.path.relpath(HERE / "README.md", output.resolve())
    text = json.dumps(results, indent=1, sort_keys=False)
    (output / "results.json").write_text(text + "\n")
    (output / "RESULTS.md").write_text(render_markdown(results))
    draw_chart(results, output / results["meta"]["chart"])
    if args.json == "-":
        print(text)
    elif args.json:
        Path(args.json).write_text(text + "\n")
    for target in results["targets"]:
        verdict = "met" if target["met"] else ("NOT MET" if target["measured"] else "not measured")
        _say(f"target {target['target']} {target['limit']}: {verdict}")
    _say(f"wrote {output / 'RESULTS.md'} and {output / results['meta']['chart']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
