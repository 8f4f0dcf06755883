"""What the data lifecycle costs: memory, round trips, server CPU and erase speed.

Side by side in one run on one server, the same agent-turn writes through
``RedisSession`` three ways: no lifecycle option, ``max_age``, and ``max_age`` plus
``owner``. Reported:

* memory: the owner index per entry (``MEMORY USAGE`` of an index of N entries,
  divided by N, for session ids shaped like UUIDs) and the life hash per session;
* round trips: of the first write of a session (creation), of later writes, of reads;
* server CPU per agent turn (``INFO commandstats``: microseconds the server spent in
  ``EVALSHA`` and ``LRANGE``), as a ratio to the same turns without lifecycle options;
* erase: sessions erased per second by ``OwnerIndex.erase`` on loopback.

Run alone: ``python benchmarks/lifecycle.py [--quick]`` prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

from redis.asyncio import Redis
from servers import RoundTripCounter, ServerProcess, counting_pool

from openai_agents_session import OwnerIndex, RedisSession
from openai_agents_session.store.keys import owner_index_key

__all__ = ["measure_lifecycle", "render_lifecycle"]

PREFIX = "bench:life"
TURN = [
    {"role": "user", "content": "What is the weather in Paris tomorrow?"},
    {"role": "assistant", "content": "Sunny, 21 °C, light wind from the west."},
]
VARIANTS = {
    "plain": {},
    "max_age": {"max_age": 30 * 24 * 3600},
    "max_age+owner": {"max_age": 30 * 24 * 3600, "owner": "owner"},
}


# Commands a client sends; the commands a script runs are also counted on their own
# lines (and inside the script's time), so only these are summed.
_TOP_LEVEL = ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_lrange")


async def _server_usec(client: Redis) -> float:
    stats = await client.info("commandstats")
    return float(sum(stats[name]["usec"] for name in _TOP_LEVEL if name in stats))


async def _turns(client: Redis, variant: str, sessions: int, turns: int) -> float:
    """Server µs per agent turn (a read, then a 2-item write) for ``variant``."""
    options = dict(VARIANTS[variant])
    if "owner" in options:
        options["owner"] = f"owner-{uuid.uuid4().hex[:6]}"
    objects = [
        RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, ttl=3600, **options)
        for _ in range(sessions)
    ]
    for session in objects:  # creation is measured separately
        await session.add_items(TURN)
    before = await _server_usec(client)
    for _ in range(turns):
        for session in objects:
            await session.get_items()
            await session.add_items(TURN)
    return (await _server_usec(client) - before) / (turns * sessions)


async def _round_trips(port: int) -> dict[str, int]:
    counter = RoundTripCounter()
    client = Redis(connection_pool=counting_pool("127.0.0.1", port, counter))
    try:
        # Connection set-up and each script's first load (EVAL once per server) are
        # not what a session costs in steady state: a first cycle pays them.
        warm = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, owner="owner-warm")
        await warm.add_items(TURN)
        await warm.pop_item()
        session = RedisSession(
            str(uuid.uuid4()), client, key_prefix=PREFIX, max_age=3600, owner="owner-rt"
        )
        found = {}
        for name, call in (
            ("creating write (owner)", lambda: session.add_items(TURN)),
            ("later write", lambda: session.add_items(TURN)),
            ("read", lambda: session.get_items()),
            ("pop", lambda: session.pop_item()),
        ):
            counter.reset()
            await call()
            found[name] = counter.round_trips
        turn = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, owner="owner-rt")
        await turn.get_items()
        counter.reset()
        await turn.add_items(TURN)
        found["creating write after the turn's read (owner)"] = counter.round_trips
        plain = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, max_age=3600)
        counter.reset()
        await plain.add_items(TURN)
        found["creating write (max_age only)"] = counter.round_trips
        return found
    finally:
        await client.aclose()


async def _index_memory(client: Redis, entries: int) -> float:
    owner = f"mem-{uuid.uuid4().hex[:6]}"
    for _ in range(entries):
        session = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, owner=owner)
        await session.add_items(TURN[:1])
    usage = await client.memory_usage(owner_index_key(PREFIX, owner), samples=0)
    return float(usage) / entries


async def _life_memory(client: Redis) -> float:
    sizes = []
    for _ in range(50):
        session = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, max_age=3600)
        await session.add_items(TURN)
        sizes.append(await client.memory_usage(session.life_key, samples=0))
    return float(statistics.median(sizes))


async def _erase_rate(client: Redis, sessions: int) -> float:
    owner = f"erase-{uuid.uuid4().hex[:6]}"
    for _ in range(sessions):
        session = RedisSession(str(uuid.uuid4()), client, key_prefix=PREFIX, owner=owner)
        await session.add_items(TURN)
    start = time.perf_counter()
    erased = await OwnerIndex(client, key_prefix=PREFIX).erase(owner)
    elapsed = time.perf_counter() - start
    assert erased == sessions, (erased, sessions)
    return sessions / elapsed


async def measure_lifecycle(port: int, *, quick: bool = False) -> dict[str, Any]:
    repeats = 3 if quick else 7
    sessions, turns = (20, 5) if quick else (50, 10)
    client = Redis(host="127.0.0.1", port=port)
    try:
        per_turn: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(repeats):
            # Interleaved, so a burst of load elsewhere hits every variant alike.
            for name in VARIANTS:
                per_turn[name].append(await _turns(client, name, sessions, turns))
        medians = {name: statistics.median(values) for name, values in per_turn.items()}
        return {
            "server_usec_per_turn": medians,
            "server_cpu_ratio": {name: medians[name] / medians["plain"] for name in VARIANTS},
            "round_trips": await _round_trips(port),
            "index_bytes_per_entry": {
                str(n): await _index_memory(client, n) for n in ((10, 100) if quick else (10, 1000))
            },
            "life_hash_bytes": await _life_memory(client),
            "erase_sessions_per_second": statistics.median(
                [await _erase_rate(client, 200 if quick else 1000) for _ in range(3)]
            ),
            "repeats": repeats,
        }
    finally:
        await client.aclose()


def render_lifecycle(result: dict[str, Any]) -> str:
    cpu = result["server_cpu_ratio"]
    usec = result["server_usec_per_turn"]
    lines = [
        "| measure | value |",
        "|---|---|",
        *(
            f"| server CPU per agent turn, {name} | {usec[name]:.1f} µs ({cpu[name]:.2f}x) |"
            for name in VARIANTS
        ),
        *(f"| round trips, {name} | {count} |" for name, count in result["round_trips"].items()),
        *(
            f"| owner index, bytes per entry ({n} entries) | {size:.0f} |"
            for n, size in result["index_bytes_per_entry"].items()
        ),
        f"| life hash (max_age), bytes per session | {result['life_hash_bytes']:.0f} |",
        f"| erase, sessions per second | {result['erase_sessions_per_second']:.0f} |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    with ServerProcess() as server:
        result = asyncio.run(measure_lifecycle(server.port, quick=args.quick))
    print(render_lifecycle(result))


if __name__ == "__main__":
    main()
