"""kill -9 and restart during writes: acknowledged items survive exactly once, in order.

Valkey runs with ``appendonly yes`` and ``appendfsync always``, so a write is on
disk before its reply is sent. Sixteen writers (eight on their own sessions,
eight sharing one) write numbered batches while the server is killed with
SIGKILL and restarted on the same port and directory. The client keeps its
default retry policy; after a restart the script cache is empty, so the store's
EVAL fallback is exercised too.

The shared session's writers run at two rates: paced (each writer every 100 ms,
80 batches/s on the session, busier than any conversation) and flat out
(thousands of batches/s on one session, so a retry held back by backoff across a
restart comes after many other writes). Either way every acknowledged batch must
be stored exactly once: a session remembers its operation ids for two minutes,
however many writes come in between.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from support import ServerProcess

from .conftest import Telemetry
from .kit import SCALE, Ledger, Row, audit, batch, keys_without_ttl, signal_text

KILLS = 3 * SCALE
PARTS = 2
TTL = 600


async def _writer(
    session: RedisSession, writer: str, ledger: Ledger, stop: asyncio.Event, pace: float
) -> None:
    number = 0
    while not stop.is_set():
        if pace:
            await asyncio.sleep(pace)
        try:
            await session.add_items(batch(writer, number, PARTS))
        except Exception as error:
            # The caller knows; the batch must be whole or absent. Move on.
            ledger.fail(writer, number, error)
            await asyncio.sleep(0.01)
        else:
            ledger.ack(writer, number)
        number += 1


@pytest.mark.parametrize("shared_pace", [0.1, 0.0], ids=["shared-paced", "shared-flat-out"])
async def test_acknowledged_writes_survive_kill_and_restart(
    shared_pace: float,
    aof_server: ServerProcess,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    client = Redis(host=aof_server.host, port=aof_server.port)
    run = uuid.uuid4().hex[:8]
    own = {f"own-{n}": f"restart-{run}-{n}" for n in range(8)}
    shared = {f"shared-{n}": f"restart-{run}-shared" for n in range(8)}
    sessions = {
        writer: telemetry.wrap(RedisSession(session_id, client, ttl=TTL))
        for writer, session_id in {**own, **shared}.items()
    }
    ledger = Ledger(parts=PARTS)
    stop = asyncio.Event()
    writers = [
        asyncio.create_task(
            _writer(session, writer, ledger, stop, shared_pace if writer in shared else 0.0)
        )
        for writer, session in sessions.items()
    ]
    try:
        for _ in range(KILLS):
            await asyncio.sleep(0.3)
            # In threads: the writers keep running (and retrying) meanwhile.
            await asyncio.to_thread(aof_server.kill)
            await asyncio.to_thread(aof_server.restart)
        acked_before_end = ledger.acked
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*writers)
        await client.aclose()

    admin = aof_server.client()
    # Each writer writes to one list, so per-writer order survives concatenation.
    everything = [
        json.loads(raw)
        for key in {session.key for session in sessions.values()}
        for raw in admin.lrange(key, 0, -1)
    ]
    overall = audit(ledger, everything)
    no_ttl = keys_without_ttl(admin, f"*restart-{run}*")
    record_row(
        Row(
            "Server kill -9 + restart (AOF always), shared session "
            + ("paced" if shared_pace else "flat out"),
            f"SIGKILL and restart {KILLS} times during writes; 8 writers on own sessions "
            "+ 8 on one shared session"
            + (f" (one batch per {shared_pace}s each)" if shared_pace else " (no pause)"),
            ledger.operations,
            overall.acknowledged,
            overall.lost,
            overall.duplicated,
            overall.false_failures,
            len(no_ttl),
            signal_text(telemetry.registry, telemetry.logs.entries),
        )
    )
    assert ledger.acked > acked_before_end > 0, "writes did not resume after the restarts"
    assert overall.lost == 0
    assert overall.duplicated == 0
    assert overall.partial == 0
    assert overall.out_of_order == 0, "a writer's acknowledged batches are out of order"
    assert no_ttl == []
