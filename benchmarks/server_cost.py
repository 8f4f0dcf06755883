"""Where the server's CPU goes in an agent turn: commands, the containers that run them, the rest.

A separate, untimed pass after the agent-turn rounds: ``conversations`` rounds, each
running one conversation of ``TURNS`` turns per store in a new random order, on a
client that records every command it sends (the test suite's ``counting_pool``),
between reads of the server's ``INFO commandstats`` and ``INFO cpu`` (main thread).
Per turn, summed over the rounds:

* commands sent by the client itself (``LRANGE``, ``WATCH``, ``TYPE``...);
* containers: ``EVALSHA``/``EVAL`` (scripts) and ``EXEC`` (transactions). The server
  counts a container's inner commands under their own names as well as inside the
  container's time, so the container's own overhead (the script engine; queuing and
  running a transaction) is its time less its inner commands'. A command both sent
  directly and run inside containers has its time split by calls;
* outside commands: the main thread's CPU less everything ``commandstats`` timed
  (reading requests, parsing, writing replies, the event loop).

Each conversation's server CPU per turn is also kept, for a paired ratio of ours
over the SDK's, conversation by conversation.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from agent_turn import TURNS, run_conversation
from agents.extensions.memory import RedisSession as SdkRedisSession
from redis.asyncio import Redis
from servers import RoundTripCounter, counting_pool
from sessions import PARSERS, FloorSession, main_thread_cpu_micros
from timing import paired_ratio, summary

from openai_agents_session import RedisSession

__all__ = ["measure_server_cost"]

TTL = 3600
SCRIPTS = ("evalsha", "eval")
TRANSACTIONS = ("exec",)
_IGNORED = ("info",)  # the measurement's own reads


SDK, OURS, FLOOR = "SDK RedisSession", "ours", "bare Redis commands"


def _stores(client: Redis) -> dict[str, Callable[[str], Any]]:
    return {
        SDK: lambda sid: SdkRedisSession(sid, redis_client=client, key_prefix="cost:sdk", ttl=TTL),
        OURS: lambda sid: RedisSession(sid, client, key_prefix="cost:ours", ttl=TTL),
        FLOOR: lambda sid: FloorSession(client, f"cost:floor:{sid}"),
    }


async def _commandstats(admin: Redis) -> dict[str, tuple[int, int]]:
    stats = await admin.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): (int(entry["calls"]), int(entry["usec"]))
        for name, entry in stats.items()
    }


def _sent(commands: list[list[str]]) -> tuple[Counter[str], Counter[str]]:
    """Commands the client sent on their own, and those it queued inside MULTI ... EXEC."""
    direct: Counter[str] = Counter()
    queued: Counter[str] = Counter()
    for round_trip in commands:
        in_transaction = False
        for name in (command.lower() for command in round_trip):
            if name == "multi":
                in_transaction = True
            elif name == "exec":
                in_transaction = False
            (queued if in_transaction and name != "multi" else direct)[name] += 1
    return direct, queued


def _split(
    calls: dict[str, tuple[int, int]], direct: Counter[str], queued: Counter[str], turns: int
) -> dict[str, Any]:
    """µs per turn: direct commands, containers (inner + own), per command."""
    sent_us = script_us = transaction_us = script_inner_us = transaction_inner_us = 0.0
    per_command = {}
    for name, (count, usec) in sorted(calls.items(), key=lambda kv: -kv[1][1]):
        if name in _IGNORED or count == 0:
            continue
        per_command[name] = {"calls": count / turns, "micros": usec / turns}
        if name in SCRIPTS:
            script_us += usec
            continue
        if name in TRANSACTIONS:
            transaction_us += usec
            continue
        own = min(direct[name], count)
        in_transaction = min(queued[name], count - own)
        sent_us += usec * own / count
        transaction_inner_us += usec * in_transaction / count
        script_inner_us += usec * (count - own - in_transaction) / count
    return {
        "direct_commands": sent_us / turns,
        "scripts": script_us / turns,
        "script_inner_commands": script_inner_us / turns,
        "script_engine": (script_us - script_inner_us) / turns,
        "transactions": transaction_us / turns,
        "transaction_inner_commands": transaction_inner_us / turns,
        "transaction_overhead": (transaction_us - transaction_inner_us) / turns,
        "timed": (sent_us + script_us + transaction_us) / turns,
        "per_command": per_command,
    }


async def _snapshot(admin: Redis, *, cpu_first: bool) -> tuple[float, dict[str, tuple[int, int]]]:
    # The CPU read is the one nearer the conversation, so little of the reads'
    # own work falls inside the measured window.
    if cpu_first:
        cpu = await main_thread_cpu_micros(admin)
        return cpu, await _commandstats(admin)
    stats = await _commandstats(admin)
    return await main_thread_cpu_micros(admin), stats


async def measure_server_cost(
    admin: Redis, port: int, conversations: int, rng: random.Random
) -> dict[str, Any]:
    """Per store: server main-thread CPU µs per turn and its breakdown (module docstring)."""
    counter = RoundTripCounter()
    pool = counting_pool("127.0.0.1", port, counter, parser_class=PARSERS["python"])
    client = Redis(connection_pool=pool)
    stores = _stores(client)
    per_conversation: dict[str, list[float]] = {name: [] for name in stores}
    calls: dict[str, dict[str, list[int]]] = {name: {} for name in stores}
    sent: dict[str, list[list[str]]] = {name: [] for name in stores}
    try:
        for name, make in stores.items():
            # Opens the connections and loads the scripts, outside the figures.
            await run_conversation(make(f"warm-{name}"))
        for index in range(conversations):
            order = list(stores)
            rng.shuffle(order)
            for name in order:
                session = stores[name](f"{name}-{index}")
                counter.reset()
                cpu_before, stats_before = await _snapshot(admin, cpu_first=False)
                await run_conversation(session)
                cpu_after, stats_after = await _snapshot(admin, cpu_first=True)
                per_conversation[name].append((cpu_after - cpu_before) / TURNS)
                sent[name] += [list(round_trip) for round_trip in counter.commands]
                for command, (count, usec) in stats_after.items():
                    count_before, usec_before = stats_before.get(command, (0, 0))
                    total = calls[name].setdefault(command, [0, 0])
                    total[0] += count - count_before
                    total[1] += usec - usec_before
    finally:
        await client.aclose()
        await pool.disconnect()
    turns = conversations * TURNS
    results: dict[str, Any] = {}
    for name in stores:
        direct, queued = _sent(sent[name])
        totals = {command: (c, u) for command, (c, u) in calls[name].items()}
        split = _split(totals, direct, queued, turns)
        total = sum(per_conversation[name]) / conversations
        results[name] = {
            "server_cpu_micros": total,
            "server_cpu_micros_per_conversation": summary(per_conversation[name]),
            **split,
            "outside_commands": total - split["timed"],
        }
    return {
        "conversations": conversations,
        "turns": turns,
        "stores": results,
        "ours_over_sdk": paired_ratio(per_conversation[OURS], per_conversation[SDK]),
    }
