"""Where ours spends the time the floor does not: server script, client library, our code.

    python benchmarks/breakdown.py [--rounds N]

Times, interleaved round by round at concurrency 1, a ladder of variants from the
floor up to ``RedisSession``:

* the floor (``json.dumps`` + ``RPUSH``, ``LRANGE`` + ``json.loads``, ``RPOP``),
* the same effect with TTL and trimming as a minimal Lua script, and as a ``MULTI``
  pipeline (the two designs the design notes compare),
* ``RedisSession`` without idempotent writes, and as configured in the benchmark,
* that session wrapped by ``instrument()`` as in the benchmark (metrics + logs, then
  with sampled spans).

Three numbers per variant: wall time per call; the server's CPU time per call
(``INFO commandstats``); the client process's CPU time per call (less sensitive to
other processes on a shared machine than wall time). A ``cProfile`` pass over
``RedisSession`` then shows how much of the client's CPU time is spent in this
package's own functions rather than in redis-py and asyncio, function by function.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from baselines import FloorSession
from contenders import instrumentation_available
from redis.asyncio import Redis
from telemetry_setups import TelemetrySetup, metrics_and_logs, sampled_spans
from workload import conversation

from openai_agents_session import RedisSession
from openai_agents_session.testing import ServerProcess

CALLS = 100
TTL_MS = 3_600_000
MAX_ITEMS = 1000
PACKAGE_DIR = f"{os.sep}openai_agents_session{os.sep}"

_SCRIPT_ADD = """
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
if n > tonumber(ARGV[2]) then redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
"""
_SCRIPT_GET = """
local items = redis.call('LRANGE', KEYS[1], ARGV[2], -1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return items
"""
_SCRIPT_POP = """
local item = redis.call('RPOP', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return item
"""

Variant = Callable[[int], Awaitable[Any]]


def _compact(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def _session(client: Redis, prefix: str, **options: Any) -> RedisSession:
    return RedisSession("b", client, key_prefix=prefix, ttl=3600, max_items=MAX_ITEMS, **options)


def _instrumented(client: Redis, setups: list[TelemetrySetup]) -> dict[str, Any]:
    """The two instrumented set-ups of the benchmark, when instrumentation is available."""
    if not instrumentation_available():
        return {}
    from openai_agents_session import instrument

    built = {}
    for label, prefix, setup in (
        ("instrumented: metrics + logs", "bd:ml", metrics_and_logs()),
        ("instrumented: + sampled spans", "bd:sp", sampled_spans()),
    ):
        setups.append(setup)
        built[label] = instrument(_session(client, prefix), **setup.instrument_kwargs())
    return built


def _ladders(
    client: Redis, shas: dict[str, str], items: list[Any], setups: list[TelemetrySetup]
) -> dict[str, dict[str, Variant]]:
    floor = FloorSession(client, "bd:floor")
    ours = _session(client, "bd:ours")
    plain = _session(client, "bd:plain", idempotent_writes=False)
    wrapped = _instrumented(client, setups)

    def item(i: int) -> Any:
        return items[i % len(items)]

    def ten(i: int) -> list[Any]:
        start = (i * 10) % (len(items) - 10)
        return items[start : start + 10]

    async def script_add(i: int) -> None:
        await client.evalsha(shas["add"], 1, "bd:min", TTL_MS, MAX_ITEMS, _compact(item(i)))

    async def script_add_ten(i: int) -> None:
        encoded = [_compact(one) for one in ten(i)]
        await client.evalsha(shas["add"], 1, "bd:min", TTL_MS, MAX_ITEMS, *encoded)

    async def multi_add(i: int) -> None:
        async with client.pipeline(transaction=True) as pipe:
            pipe.rpush("bd:multi", _compact(item(i)))
            pipe.ltrim("bd:multi", -MAX_ITEMS, -1)
            pipe.pexpire("bd:multi", TTL_MS)
            await pipe.execute()

    async def script_get(i: int) -> list[Any]:
        raw_items = await client.evalsha(shas["get"], 1, "bd:min", TTL_MS, -20)
        return [json.loads(raw.decode()) for raw in raw_items]

    async def script_pop(i: int) -> Any:
        raw = await client.evalsha(shas["pop"], 1, "bd:min", TTL_MS)
        return None if raw is None else json.loads(raw.decode())

    return {
        "add_items(1)": {
            "floor: json.dumps + RPUSH": lambda i: floor.add_items([item(i)]),
            "script RPUSH+LTRIM+PEXPIRE": script_add,
            "MULTI RPUSH+LTRIM+PEXPIRE": multi_add,
            "RedisSession, idempotent_writes=False": lambda i: plain.add_items([item(i)]),
            "RedisSession": lambda i: ours.add_items([item(i)]),
            **{label: _bind(s.add_items, lambda i: [item(i)]) for label, s in wrapped.items()},
        },
        "add_items(10)": {
            "floor: json.dumps + RPUSH": lambda i: floor.add_items(ten(i)),
            "script RPUSH+LTRIM+PEXPIRE": script_add_ten,
            "RedisSession, idempotent_writes=False": lambda i: plain.add_items(ten(i)),
            "RedisSession": lambda i: ours.add_items(ten(i)),
        },
        "get_items(limit=20)": {
            "floor: LRANGE + json.loads": lambda i: floor.get_items(limit=20),
            "script LRANGE+PEXPIRE": script_get,
            "RedisSession": lambda i: ours.get_items(limit=20),
            **{label: _bind(s.get_items, lambda i: 20) for label, s in wrapped.items()},
        },
        "pop_item": {
            "floor: RPOP + json.loads": lambda i: floor.pop_item(),
            "script RPOP+PEXPIRE": script_pop,
            "RedisSession, idempotent_writes=False": lambda i: plain.pop_item(),
            "RedisSession": lambda i: ours.pop_item(),
            **{label: _bind(s.pop_item) for label, s in wrapped.items()},
        },
    }


def _bind(method: Callable[..., Awaitable[Any]], argument: Any = None) -> Variant:
    if argument is None:
        return lambda i: method()
    return lambda i: method(argument(i))


async def _server_usec(client: Redis) -> float:
    stats = await client.info("commandstats")
    return sum(float(v["usec"]) for name, v in stats.items() if not name.endswith("info"))


async def _refill(client: Redis, encoded: list[bytes]) -> None:
    for key in ("bd:floor", "bd:min", "bd:multi", "bd:ours:b", "bd:plain:b", "bd:ml:b", "bd:sp:b"):
        await client.ltrim(key, -MAX_ITEMS, -1)
        missing = MAX_ITEMS - int(await client.llen(key))
        if missing > 0:
            await client.rpush(key, *encoded[:missing])


async def _measure(port: int, rounds: int) -> dict[str, dict[str, dict[str, float]]]:
    client = Redis(host="127.0.0.1", port=port)
    items = (conversation(400) * 3)[:MAX_ITEMS]
    encoded = [_compact(item) for item in items]
    shas = {
        "add": await client.script_load(_SCRIPT_ADD),
        "get": await client.script_load(_SCRIPT_GET),
        "pop": await client.script_load(_SCRIPT_POP),
    }
    rng = random.Random(3)
    results: dict[str, dict[str, dict[str, float]]] = {}
    setups: list[TelemetrySetup] = []
    try:
        for operation, ladder in _ladders(client, shas, items, setups).items():
            samples: dict[str, dict[str, list[float]]] = {
                name: {"wall_us": [], "client_cpu_us": [], "server_us": []} for name in ladder
            }
            for round_index in range(-1, rounds):
                order = list(ladder)
                rng.shuffle(order)
                for name in order:
                    await _refill(client, encoded)
                    await client.config_resetstat()
                    wall, cpu = time.perf_counter(), time.process_time()
                    for call in range(CALLS):
                        await ladder[name](call)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    for setup in setups:
                        setup.settle()
                    server = await _server_usec(client)
                    if round_index >= 0:
                        samples[name]["wall_us"].append(wall / CALLS * 1e6)
                        samples[name]["client_cpu_us"].append(cpu / CALLS * 1e6)
                        samples[name]["server_us"].append(server / CALLS)
            results[operation] = {
                name: {metric: statistics.median(values) for metric, values in data.items()}
                for name, data in samples.items()
            }
    finally:
        await client.aclose()
        for setup in setups:
            setup.shutdown()
    return results


async def _package_profile(port: int, calls: int = 3000) -> dict[str, dict[str, Any]]:
    """Per RedisSession operation: profiled client time and this package's functions in it."""
    client = Redis(host="127.0.0.1", port=port)
    session = RedisSession("p", client, key_prefix="bd:prof", ttl=3600, max_items=MAX_ITEMS)
    items: list[Any] = conversation(400)
    operations: dict[str, Variant] = {
        "add_items(1)": lambda i: session.add_items([items[i % len(items)]]),
        "get_items(limit=20)": lambda i: session.get_items(limit=20),
        "pop_item": lambda i: session.pop_item(),
    }
    profiles: dict[str, dict[str, Any]] = {}
    try:
        for name, operation in operations.items():
            await session.add_items(items * 8)
            for call in range(100):
                await operation(call)
            profiler = cProfile.Profile()
            profiler.enable()
            for call in range(calls):
                await operation(call)
            profiler.disable()
            rows = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            total = sum(row[2] for row in rows.values())
            ours = {
                f"{os.path.basename(file)}:{function}": row[2] / calls * 1e6
                for (file, _, function), row in rows.items()
                if PACKAGE_DIR in file
            }
            profiles[name] = {"profiled_us": total / calls * 1e6, "package_functions_us": ours}
    finally:
        await client.aclose()
    return profiles


def _print(results: dict[str, Any], profiles: dict[str, Any], rounds: int) -> None:
    for operation, ladder in results.items():
        print(f"\n{operation}, concurrency 1, median of {rounds} interleaved rounds")
        print(
            f"{'variant':40} {'wall µs':>8} {'/floor':>7} {'client CPU µs':>14} {'server µs':>10}"
        )
        first = next(iter(ladder.values()))["wall_us"]
        for name, data in ladder.items():
            print(
                f"{name:40} {data['wall_us']:8.1f} {data['wall_us'] / first:6.2f}x "
                f"{data['client_cpu_us']:14.1f} {data['server_us']:10.1f}"
            )
    print("\nClient time under cProfile (inflated by the profiler), own time of this package:")
    for operation, data in profiles.items():
        functions = data["package_functions_us"]
        own = sum(functions.values())
        print(
            f"\n{operation}: {data['profiled_us']:.1f} µs profiled, {own:.1f} µs "
            f"({own / data['profiled_us']:.0%}) in openai_agents_session"
        )
        for function, micro in sorted(functions.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {micro:6.1f} µs  {function}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with ServerProcess() as server:
        results = asyncio.run(_measure(server.port, args.rounds))
        profiles = asyncio.run(_package_profile(server.port))
    _print(results, profiles, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
