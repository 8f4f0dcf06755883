"""Connection faults between client and server: every write stored exactly once.

A :class:`FaultProxy` sits between a ``redis.asyncio.Redis`` client with its
*default* retry policy (10 retries on ConnectionError/TimeoutError) and Valkey,
and breaks every 4th write at one point of its life: before the server sees it,
mid-command, late delivery, after the server applied it, or a late reply. The
client library re-sends; the store must recognise a re-sent write.
``test_comparison.py`` runs the same fault against other stores.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from openai_agents_session import Durability, RedisSession
from support import ServerProcess
from support.proxy import Fault, FaultAction, FaultProxy

from .conftest import Telemetry
from .faults import (
    BATCHES,
    HOW,
    HOW_POP,
    PARTS,
    STALL,
    is_add_items,
    is_pop_item,
    proxied_client,
    write_batches,
)
from .kit import SCALE, Ledger, Row, audit, batch, keys_without_ttl, sample, signal_text


@pytest.mark.parametrize("action", list(HOW))
async def test_every_acknowledged_write_is_stored_exactly_once(
    action: FaultAction,
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    fault = fault_proxy.add(Fault(action, when=is_add_items, every=4, seconds=STALL))
    client = proxied_client(fault_proxy)
    session_id = f"conn-{action}-{uuid.uuid4().hex[:8]}"
    session = telemetry.wrap(RedisSession(session_id, client, ttl=600))
    ledger = Ledger(parts=PARTS)
    try:
        await write_batches(session.add_items, ledger)
    finally:
        await client.aclose()
    # Late copies of stalled writes reach the server now; they must change nothing.
    await fault_proxy.wait_idle()
    admin = valkey_server.client()
    stored = [json.loads(raw) for raw in admin.lrange(session.key, 0, -1)]
    result = audit(ledger, stored)
    no_ttl = keys_without_ttl(admin, f"*{session_id}*")
    replays = sample(telemetry.registry, "duplicate_batches_total")
    record_row(
        Row(
            f"Connection: {action.replace('_', ' ')}",
            HOW[action],
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(no_ttl),
            signal_text(telemetry.registry, telemetry.logs.entries),
        )
    )
    assert fault.fired >= BATCHES // 4
    assert result.raised == 0, f"a transient fault reached the caller: {ledger.errors}"
    assert result.clean, result
    assert result.false_failures == 0
    assert no_ttl == []
    # A re-sent write whose first copy was applied is recognised, and counted.
    # (At least: a slow reply on a loaded machine can time out and be re-sent too.)
    if action in ("cut_reply", "stall_reply"):
        assert replays >= fault.fired


async def test_durable_writes_survive_a_cut_reply_exactly_once(
    aof_server: ServerProcess, telemetry: Telemetry, record_row: Callable[[Row], None]
) -> None:
    """The durability pipeline (script + WAITAOF, one round trip) re-sent as a whole."""
    async with FaultProxy(aof_server.port) as proxy:
        # Cut after the server ran both the write and the WAITAOF that follows it.
        fault = proxy.add(Fault("cut_reply", commands=("WAITAOF",), every=4))
        client = proxied_client(proxy)
        durability = Durability(replicas=0, aof=True, timeout_ms=1000)
        store = RedisSession(
            f"durable-{uuid.uuid4().hex[:8]}", client, ttl=600, durability=durability
        )
        session = telemetry.wrap(store)
        ledger = Ledger(parts=PARTS)
        try:
            await write_batches(session.add_items, ledger)
        finally:
            await client.aclose()
    admin = aof_server.client()
    result = audit(ledger, [json.loads(raw) for raw in admin.lrange(store.key, 0, -1)])
    record_row(
        Row(
            "Connection: cut reply, durable write (script + WAITAOF pipeline)",
            "every 4th write pipeline applied and fsynced, reply discarded, connection reset",
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(keys_without_ttl(admin, f"*{store.session_id}*")),
            signal_text(telemetry.registry, telemetry.logs.entries),
        )
    )
    assert fault.fired >= BATCHES // 4
    assert (result.raised, result.false_failures) == (0, 0), ledger.errors
    assert result.clean, result
    assert sample(telemetry.registry, "duplicate_batches_total") >= fault.fired


@pytest.mark.parametrize(
    "action",
    ["cut_reply", "stall_reply", "stall_request"],
)
async def test_a_retried_pop_removes_one_item(
    action: FaultAction,
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    pops = 30 * SCALE
    session_id = f"pop-{action}-{uuid.uuid4().hex[:8]}"
    items = [{"n": n} for n in range(pops)]
    seeder = Redis(host=valkey_server.host, port=valkey_server.port)
    await RedisSession(session_id, seeder, ttl=600).add_items(items)
    await seeder.aclose()
    fault = fault_proxy.add(Fault(action, when=is_pop_item, every=3, seconds=STALL))
    client = proxied_client(fault_proxy)
    session = telemetry.wrap(RedisSession(session_id, client, ttl=600))
    try:
        popped = [await session.pop_item() for _ in range(pops)]
    finally:
        await client.aclose()
    await fault_proxy.wait_idle()
    remaining = valkey_server.client().llen(session.key)
    received = [item for item in popped if item is not None]
    record_row(
        Row(
            f"Connection: pop_item, {action.replace('_', ' ')}",
            HOW_POP[action],
            pops,
            len(received),
            # Removed from the session, yet returned to no caller.
            sum(1 for item in items if item not in received) - remaining,
            len(received) - len({json.dumps(item) for item in received}),
            0,
            len(keys_without_ttl(valkey_server.client(), f"*{session_id}*")),
            "none (silent)"
            if remaining or received != items[::-1]
            else signal_text(telemetry.registry, telemetry.logs.entries),
        )
    )
    assert fault.fired >= pops // 3
    assert popped == items[::-1], "a pop was applied twice (an item skipped) or lost"
    assert remaining == 0


async def test_a_write_that_keeps_failing_raises_and_is_counted(
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    fault_proxy.add(Fault("drop", when=is_add_items))
    # Fewer, faster retries than the default only to keep the test short.
    client = Redis(
        host=fault_proxy.host,
        port=fault_proxy.port,
        retry=Retry(ExponentialWithJitterBackoff(cap=0.02, base=0.005), 3),
    )
    session = telemetry.wrap(RedisSession(f"down-{uuid.uuid4().hex[:8]}", client, ttl=600))
    try:
        with pytest.raises(RedisConnectionError):
            await session.add_items(batch("w", 0, PARTS))
        assert await session.get_items() == []
    finally:
        await client.aclose()
    assert valkey_server.client().exists(session.key) == 0
    assert sample(
        telemetry.registry, "errors_total", operation="add_items", error_type="connection"
    )
    assert "session.operation_failed" in {entry["event"] for entry in telemetry.logs.entries}
    record_row(
        Row(
            "Connection: server unreachable for writes",
            "every add_items request dropped, 3 client retries",
            1,
            0,
            0,
            0,
            0,
            0,
            signal_text(telemetry.registry, telemetry.logs.entries)
            + " (raised `ConnectionError`; nothing written)",
        )
    )
