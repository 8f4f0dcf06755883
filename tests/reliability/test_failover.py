"""Sentinel failover during writes: what is lost without durability, and nothing with it.

A primary and one replica under Sentinel; writers use the Sentinel-managed client
(``redis+sentinel://``). ``SENTINEL FAILOVER`` promotes the replica while the old
primary is still up: until Sentinel demotes it, the client keeps writing to the
old primary, which acknowledges writes that the demotion then discards (Redis
replication is asynchronous). With ``durability=Durability(replicas=1)`` each
write also waits for a replica in the same round trip; writes the old primary
cannot replicate raise ``DurabilityError`` instead of being acknowledged.

Sentinel's default timings make that window ~10 s (the old primary is demoted
after 4 publish periods); the suite shortens them with ``SENTINEL DEBUG`` to keep
within its time budget. ``make soak`` runs with the defaults.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from openai_agents_session import Durability, RedisSession
from support import SentinelGroup

from .conftest import Telemetry
from .kit import SCALE, Ledger, Row, audit, batch, keys_without_ttl, signal_text

WRITERS = 4
PARTS = 2
WAIT_TIMEOUT_MS = 300


@pytest.fixture
def sentinel_group() -> Iterator[SentinelGroup]:
    # No 5 s wait before a replica's full sync: the demoted primary catches up fast.
    config = {"repl-diskless-sync-delay": "0"}
    with SentinelGroup(replicas=1, primary_config=config) as group:
        yield group


def _command(client: redis.Redis, *args: object) -> object:
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def _fail_over(group: SentinelGroup, timeout: float) -> None:
    sentinel = group.sentinel.client()
    if SCALE == 1:
        # Refresh replica info every 200 ms and demote the old primary ~0.4 s after
        # the promotion, instead of Sentinel's 10 s and 8 s.
        _command(sentinel, "SENTINEL DEBUG", "info-period", 200, "publish-period", 100)
    deadline = time.monotonic() + timeout
    while True:
        try:
            _command(sentinel, "SENTINEL FAILOVER", group.service)
            return
        except redis.ResponseError as error:
            # NOGOODSLAVE until Sentinel has fresh INFO from the replica.
            if time.monotonic() > deadline:
                raise AssertionError(f"Sentinel refused to fail over: {error}") from error
            time.sleep(0.1)


def _demoted(group: SentinelGroup) -> bool:
    role = group.primary.client().info("replication")
    return bool(role["role"] == "slave")


def _current_primary(group: SentinelGroup) -> redis.Redis:
    address = _command(group.sentinel.client(), "SENTINEL GET-MASTER-ADDR-BY-NAME", group.service)
    host, port = address  # type: ignore[misc]
    return redis.Redis(host=host.decode(), port=int(port), socket_timeout=5)


async def _writer(session: RedisSession, writer: str, ledger: Ledger, stop: asyncio.Event) -> None:
    number = 0
    while not stop.is_set():
        try:
            await session.add_items(batch(writer, number, PARTS))
        except Exception as error:
            ledger.fail(writer, number, error)
            await asyncio.sleep(0.01)
        else:
            ledger.ack(writer, number)
        number += 1


@pytest.mark.parametrize("durable", [False, True], ids=["async-replication", "durability"])
async def test_failover_during_writes(
    durable: bool,
    sentinel_group: SentinelGroup,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    run = uuid.uuid4().hex[:8]
    durability = Durability(replicas=1, timeout_ms=WAIT_TIMEOUT_MS) if durable else None
    sessions = {
        f"w{n}": RedisSession.from_url(
            f"failover-{run}-{n}", sentinel_group.url, ttl=600, durability=durability
        )
        for n in range(WRITERS)
    }
    ledger = Ledger(parts=PARTS)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_writer(telemetry.wrap(session), writer, ledger, stop))
        for writer, session in sessions.items()
    ]
    demotion_budget = 10.0 if SCALE == 1 else 60.0
    try:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(_fail_over, sentinel_group, 20.0)
        started = time.monotonic()
        while not await asyncio.to_thread(_demoted, sentinel_group):
            assert time.monotonic() - started < demotion_budget, "old primary never demoted"
            await asyncio.sleep(0.05)
        window = time.monotonic() - started
        acked_at_demotion = ledger.acked
        # Durable writes resume once the demoted primary replicates from the new one.
        while ledger.acked < acked_at_demotion + 10 * WRITERS:
            assert time.monotonic() - started < 2 * demotion_budget, "writes did not resume"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for session in sessions.values():
            await session.close()

    primary = _current_primary(sentinel_group)
    assert primary.connection_pool.connection_kwargs["port"] != sentinel_group.primary.port
    stored = [
        json.loads(raw)
        for session in sessions.values()
        for raw in primary.lrange(session.key, 0, -1)
    ]
    result = audit(ledger, stored)
    no_ttl = keys_without_ttl(primary, f"*failover-{run}*")
    mode = (
        f"durability=Durability(replicas=1, timeout_ms={WAIT_TIMEOUT_MS})"
        if durable
        else ("no durability (async replication)")
    )
    record_row(
        Row(
            f"Sentinel failover, {mode}",
            f"SENTINEL FAILOVER during writes ({WRITERS} writers); old primary demoted "
            f"{window:.1f}s later{' (Sentinel default timings)' if SCALE > 1 else ''}",
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(no_ttl),
            signal_text(
                telemetry.registry,
                telemetry.logs.entries,
                extra="" if durable else "the loss itself shows in no signal",
            ),
        )
    )
    assert result.duplicated == 0
    assert result.partial == 0
    assert no_ttl == []
    if durable:
        assert result.lost == 0, "a write acknowledged with durability was lost"
