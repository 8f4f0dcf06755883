"""Socket timeouts and a storm of task cancellations at concurrency 64.

64 workers call ``add_items``/``get_items`` through the fault proxy, which holds
some replies back, while random calls are cancelled at random moments. Two runs:

* no socket timeout: cancellations land until 1,000 of them have;
* a socket timeout shorter than the held replies: redis-py times out and
  retries, and cancellations keep coming.

Afterwards: every acknowledged batch stored once and whole, no call saw another
call's reply, the pool hands out working connections, and closing the client
leaves no connection open.

On Python 3.11, redis-py sends with ``asyncio.wait_for`` when a socket timeout is
set, and that ``wait_for`` drops a cancellation arriving as the send completes
(CPython gh-86296, fixed in 3.12): the call then finishes normally. The second
run counts those as "cancellations not delivered".
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from support import ServerProcess
from support.proxy import Fault, FaultProxy

from .conftest import Telemetry
from .kit import SCALE, Ledger, Row, audit, batch, keys_without_ttl, sample, signal_text

CONCURRENCY = 64
SESSIONS = 16
CANCELLATIONS = 1000 * SCALE
MAX_OPERATIONS = 20_000 * SCALE
TIMEOUT_RUN_OPERATIONS = 3000 * SCALE
PARTS = 4
READ_BATCHES = 3


class Storm:
    def __init__(self, sessions: list[Any], rng: random.Random, max_operations: int) -> None:
        self.sessions = sessions
        self.rng = rng
        self.max_operations = max_operations
        self.ledger = Ledger(parts=PARTS)
        self.operations = 0
        self.cancel_requests = 0  # cancel() accepted while the call was running
        self.cancelled = 0  # calls that ended cancelled
        self.reads = 0
        self.bad_reads: list[Any] = []
        self.numbers = [0] * CONCURRENCY

    async def worker(self, worker: int, deadline: float) -> None:
        # A worker always writes to the same session, so its batches keep their order.
        session = self.sessions[worker % SESSIONS]
        while (
            self.cancelled < CANCELLATIONS
            and self.operations < self.max_operations
            and time.monotonic() < deadline
        ):
            self.operations += 1
            write = self.rng.random() < 0.6
            number = self.numbers[worker]
            if write:
                self.numbers[worker] += 1
                call = session.add_items(batch(worker, number, PARTS))
            else:
                # The newest few batches: a limited read must not cut one in half.
                call = session.get_items(READ_BATCHES * PARTS)
            task = asyncio.ensure_future(call)
            if self.rng.random() < 0.5:
                # Before the request is sent, while in flight, or while retrying.
                asyncio.get_running_loop().call_later(self.rng.random() * 0.004, self.cancel, task)
            await asyncio.wait({task})
            if task.cancelled():
                self.cancelled += 1
            elif task.exception() is not None:
                if write:
                    self.ledger.fail(worker, number, task.exception())
            elif write:
                self.ledger.ack(worker, number)
            else:
                self.check_read(worker % SESSIONS, task.result())

    def cancel(self, task: asyncio.Future[Any]) -> None:
        if task.cancel():
            self.cancel_requests += 1

    def check_read(self, session_index: int, items: list[dict[str, Any]]) -> None:
        """A read returns whole batches of its own session only."""
        self.reads += 1
        parts: dict[tuple[int, int], int] = {}
        for item in items:
            if item["w"] % SESSIONS != session_index:
                self.bad_reads.append(item)
            parts[(item["w"], item["b"])] = parts.get((item["w"], item["b"]), 0) + 1
        self.bad_reads.extend(key for key, count in parts.items() if count != PARTS)


@pytest.mark.parametrize("socket_timeout", [None, 0.25], ids=["no-timeout", "timeout"])
async def test_cancellations_and_timeouts_leave_pool_and_sessions_whole(
    socket_timeout: float | None,
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    # Held replies keep calls in flight long enough to be cancelled (or time out).
    stall = 0.05 if socket_timeout is None else socket_timeout + 0.05
    stalls = fault_proxy.add(Fault("stall_reply", commands=("EVALSHA",), every=50, seconds=stall))
    client = Redis(host=fault_proxy.host, port=fault_proxy.port, socket_timeout=socket_timeout)
    run = uuid.uuid4().hex[:8]
    sessions = [
        telemetry.wrap(RedisSession(f"storm-{run}-{n}", client, ttl=600)) for n in range(SESSIONS)
    ]
    budget = MAX_OPERATIONS if socket_timeout is None else TIMEOUT_RUN_OPERATIONS
    storm = Storm(sessions, random.Random(20240611), budget)
    deadline = time.monotonic() + 60 * SCALE
    try:
        await asyncio.gather(*(storm.worker(w, deadline) for w in range(CONCURRENCY)))
        pool = client.connection_pool
        in_use = len(pool._in_use_connections)  # pool health is the point here
        # The pool is not poisoned: later calls get their own replies.
        fault_proxy.clear_faults()
        check = RedisSession(f"storm-{run}-after", client, ttl=600)
        for n in range(50):
            await check.add_items([{"after": n}])
            assert await check.get_items(1) == [{"after": n}]
        assert await client.ping()
        await fault_proxy.wait_idle()
        pooled = sum(1 for c in pool._available_connections if c.is_connected)
        open_through_proxy = fault_proxy.open_connections
    finally:
        await client.aclose()
    # Every connection the client opened is closed once the client is.
    for _ in range(500):
        if fault_proxy.open_connections == 0:
            break
        await asyncio.sleep(0.01)

    admin = valkey_server.client()
    stored = [json.loads(raw) for session in sessions for raw in admin.lrange(session.key, 0, -1)]
    result = audit(storm.ledger, stored)
    no_ttl = keys_without_ttl(admin, f"*storm-{run}*")
    cancelled_metric = sum(
        sample(telemetry.registry, "errors_total", operation=op, error_type="cancelled")
        for op in ("add_items", "get_items")
    )
    timeout_text = (
        "no socket timeout" if socket_timeout is None else (f"socket timeout {socket_timeout}s")
    )
    record_row(
        Row(
            f"Task cancellations at concurrency 64, {timeout_text}",
            f"every 50th reply held {stall}s ({stalls.fired}x); half the calls cancelled "
            "0-4 ms after they start",
            storm.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(no_ttl),
            signal_text(telemetry.registry, telemetry.logs.entries)
            + f"; {storm.cancelled} cancelled, "
            f"{storm.cancel_requests - storm.cancelled} cancellations not delivered, "
            f"{result.partial} partial batches, connections in use after: {in_use}, "
            f"left open after close: {fault_proxy.open_connections}",
        )
    )
    if socket_timeout is None:
        assert storm.cancelled >= CANCELLATIONS
    else:
        assert sample(telemetry.registry, "duplicate_batches_total") > 0, "no timeout retried"
    assert stalls.fired > 0
    assert storm.bad_reads == [], "a read returned a partial batch or another session's items"
    assert result.clean, result
    assert in_use == 0, f"{in_use} connections never returned to the pool"
    assert open_through_proxy == pooled, "connections open beyond those in the pool"
    assert fault_proxy.open_connections == 0, "connections left open after aclose()"
    assert no_ttl == []
    assert cancelled_metric == storm.cancelled
