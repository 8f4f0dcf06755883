"""One busy session: writes per second to ONE conversation from many concurrent tasks.

``TASKS`` tasks share one client and append single SDK-shaped items to the same
session until the batch's ``writes`` are done or ``seconds`` have passed (whichever
comes first; the calls in flight then finish). Contenders: ours
(``RedisSession(ttl=3600)``) and the SDK's ``RedisSession(ttl=3600)``, each used two
ways:

* shared: one session object for all tasks (a process serving the conversation);
* per task: each task its own session object for the same session id, new every
  batch (a web app building one per request, or several workers).

Each lane writes to one long-lived session for the whole run, as users run a busy
conversation: the list and our operation log keep growing across batches (the log
reaches its cap of ``MAX_IDS`` ids and evicts its oldest). Reported per lane:
acknowledged writes per second, the server main thread's and the client thread's
CPU per write, calls that raised, and at the end the list's length against the
writes acknowledged (an acknowledged write that is missing would be lost).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

from agents.extensions.memory import RedisSession as SdkRedisSession
from redis.asyncio import Redis
from sessions import server_cpu_micros
from timing import Lane, interleave, paired_ratio, summary

from openai_agents_session import RedisSession
from openai_agents_session.events import StoreEvent
from openai_agents_session.store.oplog import MAX_IDS

__all__ = ["TASKS", "measure_busy_session"]

TASKS = 36
TTL = 3600
OURS, SDK = "ours", "sdk"
SHARED, PER_TASK = "shared", "per task"


class _LaneState:
    """One lane's session, what it was told, and what it cost."""

    def __init__(self, contender: str, sharing: str, client: Redis) -> None:
        self.contender = contender
        self.sharing = sharing
        self.client = client
        self.session_id = f"{contender}-{sharing.replace(' ', '-')}"
        self.acknowledged = 0
        self.errors: Counter[str] = Counter()
        self.log_evictions = 0
        self.server: list[float] = []
        self.client_cpu: list[float] = []
        self._shared = self._make()

    def on_store_event(self, event: StoreEvent) -> None:
        self.log_evictions += event.log_evictions

    def _make(self) -> Any:
        if self.contender == OURS:
            return RedisSession(
                self.session_id, self.client, key_prefix="busy:ours", ttl=TTL, observer=self
            )
        return SdkRedisSession(
            self.session_id, redis_client=self.client, key_prefix="busy:sdk", ttl=TTL
        )

    @property
    def list_key(self) -> str:
        if self.contender == OURS:
            return f"busy:ours:{self.session_id}"
        return f"busy:sdk:{self.session_id}:messages"

    def sessions(self) -> list[Any]:
        if self.sharing == SHARED:
            return [self._shared] * TASKS
        return [self._make() for _ in range(TASKS)]


def _lane(state: _LaneState, items: list[Any], writes: int, seconds: float) -> Lane:
    """Acknowledged writes per second of one batch."""

    async def lane() -> float:
        sessions = state.sessions()
        claimed = acknowledged = 0
        deadline = time.perf_counter() + seconds

        async def task(session: Any, offset: int) -> None:
            nonlocal claimed, acknowledged
            index = offset
            while claimed < writes and time.perf_counter() < deadline:
                claimed += 1
                try:
                    await session.add_items([items[index % len(items)]])
                except Exception as exc:  # counted: a busy session must never be refused
                    state.errors[type(exc).__name__] += 1
                else:
                    acknowledged += 1
                index += TASKS

        server_before = await server_cpu_micros(state.client)
        cpu_started = time.thread_time()
        started = time.perf_counter()
        await asyncio.gather(*(task(s, offset) for offset, s in enumerate(sessions)))
        wall = time.perf_counter() - started
        cpu = time.thread_time() - cpu_started
        server_after = await server_cpu_micros(state.client)
        state.acknowledged += acknowledged
        state.server.append((server_after[0] - server_before[0]) / max(acknowledged, 1))
        state.client_cpu.append(cpu / max(acknowledged, 1) * 1e6)
        return acknowledged / wall

    return lane


async def measure_busy_session(
    client: Redis,
    items: list[Any],
    writes: int,
    seconds: float,
    rounds: int,
    rng: random.Random,
) -> dict[str, Any]:
    """Writes per second per lane, ours over the SDK's per way of sharing, and losses."""
    states = {
        f"{contender}, {sharing}": _LaneState(contender, sharing, client)
        for contender in (OURS, SDK)
        for sharing in (SHARED, PER_TASK)
    }
    lanes = {name: _lane(state, items, writes, seconds) for name, state in states.items()}
    samples = await interleave(lanes, rounds, rng)
    lanes_out: dict[str, Any] = {}
    for name, state in states.items():
        length = int(await client.llen(state.list_key))
        lanes_out[name] = {
            "writes_per_second": summary(samples[name]),
            # The warm-up round's costs were recorded too: keep the measured rounds'.
            "server_cpu_micros_per_write": summary(state.server[-rounds:]),
            "client_cpu_micros_per_write": summary(state.client_cpu[-rounds:]),
            "acknowledged": state.acknowledged,
            "refused": sum(state.errors.values()),
            "errors": dict(state.errors),
            "list_length": length,
            "missing": state.acknowledged - length,
            "log_evictions": state.log_evictions if state.contender == OURS else None,
        }
    ours_rate = lanes_out[f"{OURS}, {SHARED}"]["writes_per_second"]["median"]
    await client.execute_command("FLUSHDB", "SYNC")  # type: ignore[no-untyped-call]
    return {
        "tasks": TASKS,
        "writes_per_batch": writes,
        "seconds_per_batch": seconds,
        "rounds": rounds,
        "lanes": lanes_out,
        "ours_over_sdk": {
            sharing: paired_ratio(samples[f"{OURS}, {sharing}"], samples[f"{SDK}, {sharing}"])
            for sharing in (SHARED, PER_TASK)
        },
        "max_ids": MAX_IDS,
        "log_seconds_covered": MAX_IDS / ours_rate if ours_rate else None,
    }
