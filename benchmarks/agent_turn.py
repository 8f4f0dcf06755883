"""What storage and its telemetry cost per agent turn, next to the SDK's stores.

A turn is one ``Runner.run`` of an agent on the SDK's ``ScriptedModel`` (zero model
latency: it answers from a script) with a session: the Runner reads the history
(``get_items()``), stores the user's message and then the answer (two
``add_items``): three storage calls a turn, checked at the start of the run. A
conversation is 10 turns on a new session; a lane's batch is one conversation and
reports wall milliseconds per turn, and the client thread's CPU milliseconds per turn
(which a busy machine does not inflate, and which is where telemetry's cost lands).
The server main thread's CPU per turn is read around each conversation (``INFO cpu``);
the CPU a store adds to a turn is that less the in-process lane's in the same round
(the ``INFO`` reads themselves). The SDK's tracing is off for the whole run, so nothing
is exported and no API key is asked for.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents import Agent, RunConfig, Runner, SQLiteSession, set_tracing_disabled
from agents.extensions.memory import RedisSession as SdkRedisSession
from agents.testing import ScriptedModel, assistant_message
from redis.asyncio import Redis
from sessions import FloorSession, InProcessSession, server_cpu_micros
from telemetry import Telemetry, metrics_and_logs, sampled_spans
from timing import Lane, interleave, paired_ratio, summary

from openai_agents_session import RedisSession

__all__ = ["TURNS", "measure_agent_turn", "run_conversation"]

TURNS = 10
TTL = 3600
IN_PROCESS = "in-process list"
SQLITE = "SDK SQLiteSession (in memory)"
SDK = "SDK RedisSession"
OURS = "ours"
OURS_METRICS_LOGS = "ours+metrics+logs"
OURS_SPANS = "ours+spans"
FLOOR = "bare Redis commands"
HIREDIS = " (hiredis)"

_CONFIG = RunConfig(tracing_disabled=True)


@dataclass(frozen=True)
class _Store:
    """How a lane makes a session for a new conversation, and what to do after one."""

    make: Callable[[str], Any]
    after: Callable[[], None] = lambda: None


def _agent() -> Agent[Any]:
    script = [[assistant_message(f"Answer number {turn}: it is sunny.")] for turn in range(TURNS)]
    return Agent(
        name="assistant", instructions="Answer in one sentence.", model=ScriptedModel(script)
    )


async def run_conversation(session: Any) -> tuple[float, float]:
    """Wall seconds and this thread's CPU seconds for the ``TURNS`` turns on ``session``."""
    agent = _agent()
    cpu_started = time.thread_time()
    started = time.perf_counter()
    for turn in range(TURNS):
        await Runner.run(
            agent, f"Question {turn}: what is the weather?", session=session, run_config=_CONFIG
        )
    return time.perf_counter() - started, time.thread_time() - cpu_started


async def _dispose(session: Any) -> None:
    await session.clear_session()
    if isinstance(session, SQLiteSession):
        session.close()  # its own connection; the Redis clients are shared by all


def _lane(store: _Store, name: str, admin: Redis, costs: dict[str, list[float]]) -> Lane:
    """Wall ms per turn of one conversation; its client and server CPU go to ``costs``."""
    counter = iter(range(10**9))

    async def lane() -> float:
        session = store.make(f"{name}-{next(counter)}")
        server_before = await server_cpu_micros(admin)
        wall, thread = await run_conversation(session)
        server_after = await server_cpu_micros(admin)
        store.after()
        await _dispose(session)
        costs["client"].append(thread / TURNS * 1e3)
        costs["server"].append((server_after[0] - server_before[0]) / TURNS / 1e3)
        return wall / TURNS * 1e3

    return lane


def _stores(clients: dict[str, Redis], logs: Telemetry, spans: Telemetry) -> dict[str, _Store]:
    def ours(parser: str) -> Callable[[str], Any]:
        return lambda sid: RedisSession(sid, clients[parser], key_prefix="turn:ours", ttl=TTL)

    def sdk(parser: str) -> Callable[[str], Any]:
        return lambda sid: SdkRedisSession(
            sid, redis_client=clients[parser], key_prefix="turn:sdk", ttl=TTL
        )

    def floor(parser: str) -> Callable[[str], Any]:
        return lambda sid: FloorSession(clients[parser], f"turn:floor:{sid}")

    stores = {
        IN_PROCESS: _Store(InProcessSession),
        SQLITE: _Store(SQLiteSession),
        SDK: _Store(sdk("python")),
        OURS: _Store(ours("python")),
        OURS_METRICS_LOGS: _Store(lambda sid: logs.instrument(ours("python")(sid))),
        OURS_SPANS: _Store(lambda sid: spans.instrument(ours("python")(sid)), spans.flush),
        FLOOR: _Store(floor("python")),
    }
    if "hiredis" in clients:
        stores[SDK + HIREDIS] = _Store(sdk("hiredis"))
        stores[OURS + HIREDIS] = _Store(ours("hiredis"))
        stores[FLOOR + HIREDIS] = _Store(floor("hiredis"))
    return stores


class _CountingSession(InProcessSession):
    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.calls: Counter[str] = Counter()

    async def get_items(self, limit: int | None = None) -> list[Any]:
        self.calls["get_items"] += 1
        return await super().get_items(limit)

    async def add_items(self, items: list[Any]) -> None:
        self.calls["add_items"] += 1
        await super().add_items(items)


async def _storage_calls_per_turn() -> dict[str, float]:
    session = _CountingSession("count-calls")
    await run_conversation(session)
    return {name: count / TURNS for name, count in sorted(session.calls.items())}


def _paired(samples: dict[str, list[float]], over: str, under: str) -> dict[str, Any] | None:
    if over not in samples or under not in samples:
        return None
    return paired_ratio(samples[over], samples[under])


async def measure_agent_turn(
    clients: dict[str, Redis], rounds: int, rng: random.Random
) -> dict[str, Any]:
    """ms per turn for every store, the ratios the targets need, and storage shares."""
    set_tracing_disabled(True)
    calls = await _storage_calls_per_turn()
    logs = metrics_and_logs()
    spans = sampled_spans()
    try:
        stores = _stores(clients, logs, spans)
        costs: dict[str, dict[str, list[float]]] = {
            name: {"client": [], "server": []} for name in stores
        }
        admin = clients["python"]
        lanes = {name: _lane(store, name, admin, costs[name]) for name, store in stores.items()}
        samples = await interleave(lanes, rounds, rng)
    finally:
        spans.shutdown()
    # The warm-up round's CPU figures were recorded too: drop them.
    cpu = {name: split["client"][-rounds:] for name, split in costs.items()}
    server = {name: split["server"][-rounds:] for name, split in costs.items()}
    # The server's CPU a store adds to a turn: less the in-process lane's, in the same
    # round, which is the cost of the two INFO reads themselves.
    added = {
        name: [value - base for value, base in zip(values, server[IN_PROCESS], strict=True)]
        for name, values in server.items()
    }
    # Storage share: the part of a turn that a store adds over a Python list.
    shares = {
        name: summary(
            [1 - base / value for value, base in zip(values, samples[IN_PROCESS], strict=True)]
        )
        for name, values in samples.items()
        if name != IN_PROCESS
    }
    return {
        "turns_per_conversation": TURNS,
        "rounds": rounds,
        "storage_calls_per_turn": calls,
        "ms_per_turn": {name: summary(values) for name, values in samples.items()},
        "client_cpu_ms_per_turn": {name: summary(values) for name, values in cpu.items()},
        "server_cpu_ms_per_turn": {name: summary(values) for name, values in server.items()},
        "storage_share": shares,
        "server_cpu_ms_added_per_turn": {name: summary(v) for name, v in added.items()},
        "server_cpu_ours_over_sdk": _paired(added, OURS, SDK),
        "sdk_over_ours": _paired(samples, SDK, OURS),
        "sdk_over_floor": _paired(samples, SDK, FLOOR),
        "ours_over_floor": _paired(samples, OURS, FLOOR),
        "metrics_logs_over_ours": _paired(samples, OURS_METRICS_LOGS, OURS),
        "spans_over_ours": _paired(samples, OURS_SPANS, OURS),
        "cpu_metrics_logs_over_ours": _paired(cpu, OURS_METRICS_LOGS, OURS),
        "cpu_spans_over_ours": _paired(cpu, OURS_SPANS, OURS),
        "python_over_hiredis": {
            name: _paired(samples, name, name + HIREDIS) for name in (SDK, OURS, FLOOR)
        },
        "spans_exported": spans.exporter.exported if spans.exporter else 0,
    }
