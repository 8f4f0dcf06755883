"""Re-sent and late copies of writes at the edges: after many other writes, after a
clear, and through clients built from a URL. Each was once a gap (RELIABILITY.md
tells how each is closed); the rows they record show what happens now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from redis.asyncio import Redis

from openai_agents_session import RedisSession
from support import ServerProcess
from support.proxy import Fault, FaultProxy

from .conftest import Telemetry
from .faults import HOW, PARTS, STALL, is_add_items, proxied_client, write_batches
from .kit import Ledger, Row, audit, batch, keys_without_ttl, signal_text


async def test_sessions_built_from_url_retry_like_a_default_client(
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    fault_proxy.add(Fault("cut_reply", when=is_add_items, every=4))
    store = RedisSession.from_url(f"from-url-{uuid.uuid4().hex[:8]}", fault_proxy.url, ttl=600)
    session = telemetry.wrap(store)
    ledger = Ledger(parts=PARTS)
    try:
        await write_batches(session.add_items, ledger)
    finally:
        await store.close()
    admin = valkey_server.client()
    result = audit(ledger, [json.loads(raw) for raw in admin.lrange(store.key, 0, -1)])
    record_row(
        Row(
            "Connection: cut reply, session from `RedisSession.from_url`",
            HOW["cut_reply"],
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(keys_without_ttl(admin, f"*{store.session_id}*")),
            signal_text(telemetry.registry, telemetry.logs.entries),
        )
    )
    assert result.clean
    assert (result.raised, result.false_failures) == (0, 0)


async def test_a_late_copy_of_a_write_does_not_resurrect_a_cleared_session(
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    telemetry: Telemetry,
    record_row: Callable[[Row], None],
) -> None:
    fault_proxy.add(Fault("stall_request", when=is_add_items, times=1, seconds=STALL))
    client = proxied_client(fault_proxy)
    session = telemetry.wrap(RedisSession(f"late-{uuid.uuid4().hex[:8]}", client, ttl=600))
    try:
        await session.add_items(batch("w", 0, PARTS))  # acknowledged through its retry
        await session.clear_session()
    finally:
        await client.aclose()
    await fault_proxy.wait_idle()
    resurrected = valkey_server.client().llen(session.key)
    record_row(
        Row(
            "Connection: late write after clear_session",
            f"a write held {STALL}s, acknowledged via its retry, session cleared, "
            "then the held copy delivered",
            2,
            2,
            0,
            f"{resurrected} items reappeared",
            0,
            len(keys_without_ttl(valkey_server.client(), f"*{session.session_id}*")),
            "none (silent)",
        )
    )
    assert resurrected == 0


async def test_a_late_write_after_many_other_writes_is_not_applied_twice(
    valkey_server: ServerProcess,
    valkey_client: Redis,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
) -> None:
    others = 100
    session_id = f"window-{uuid.uuid4().hex[:8]}"
    fault_proxy.add(Fault("stall_request", when=is_add_items, times=1, seconds=2 * STALL))
    client = proxied_client(fault_proxy)
    late_writer = RedisSession(session_id, client, ttl=600)
    other_writer = RedisSession(session_id, valkey_client, ttl=600)
    ledger = Ledger(parts=PARTS)
    try:
        await late_writer.add_items(batch("late", 0, PARTS))  # acknowledged via its retry
        ledger.ack("late", 0)
        for number in range(others):  # while its first copy is still held
            await other_writer.add_items(batch("other", number, PARTS))
            ledger.ack("other", number)
    finally:
        await client.aclose()
    await fault_proxy.wait_idle()
    admin = valkey_server.client()
    result = audit(ledger, [json.loads(raw) for raw in admin.lrange(other_writer.key, 0, -1)])
    record_row(
        Row(
            "Connection: late write after 100 other writes to its session",
            f"a write held {2 * STALL}s, acknowledged via its retry; another writer adds "
            f"{others} batches to the session; then the held copy delivered",
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(keys_without_ttl(admin, f"*{session_id}*")),
            "none (silent)",
        )
    )
    assert result.duplicated == 0
