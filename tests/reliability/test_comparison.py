"""The same connection fault against other stores, measured for RELIABILITY.md.

A naive ``MULTI``/``EXEC`` writer (the pattern that duplicates on retry) and the Agents SDK's
own ``RedisSession``, behind the same proxy and the same default client. Only the
naive writer's duplicates are asserted, to prove the fault is real.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from agents.extensions.memory import RedisSession as SDKRedisSession
from redis.asyncio import Redis

from support import ServerProcess
from support.proxy import Fault, FaultProxy

from .faults import HOW, HOW_POP, PARTS, proxied_client, write_batches
from .kit import SCALE, Ledger, Row, audit, keys_without_ttl


async def _naive_multi_exec(client: Redis, key: str, items: list[dict[str, Any]]) -> None:
    pipe = client.pipeline(transaction=True)
    pipe.rpush(key, *(json.dumps(item) for item in items))
    pipe.expire(key, 600)
    await pipe.execute()


@pytest.mark.parametrize("store", ["naive MULTI/EXEC", "Agents SDK RedisSession"])
async def test_same_fault_against_other_stores(
    store: str,
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
) -> None:
    """Measured for RELIABILITY.md; only the naive writer's duplicates are asserted."""
    fault = fault_proxy.add(Fault("cut_reply", commands=("EXEC",), every=4))
    client = proxied_client(fault_proxy)
    session_id = f"other-{uuid.uuid4().hex[:8]}"
    ledger = Ledger(parts=PARTS)
    if store.startswith("naive"):
        key = f"naive:{session_id}"

        async def add(items: list[dict[str, Any]]) -> None:
            await _naive_multi_exec(client, key, items)

    else:
        sdk = SDKRedisSession(session_id, redis_client=client, ttl=600)
        key = sdk._messages_key
        add = sdk.add_items  # type: ignore[assignment]
    try:
        await write_batches(add, ledger)
    finally:
        await client.aclose()
    admin = valkey_server.client()
    result = audit(ledger, [json.loads(raw) for raw in admin.lrange(key, 0, -1)])
    record_row(
        Row(
            f"Comparison: {store}, cut reply",
            HOW["cut_reply"].replace("write", "EXEC"),
            ledger.operations,
            result.acknowledged,
            result.lost,
            result.duplicated,
            result.false_failures,
            len(keys_without_ttl(admin, f"*{session_id}*")),
            f"raised: {dict(ledger.errors) or 'none'}",
        )
    )
    assert fault.fired > 0
    if store.startswith("naive"):
        # Proves the fault is real: the client library's retry applies it twice.
        assert result.duplicated > 0


async def test_sdk_pop_under_the_same_fault(
    valkey_server: ServerProcess, fault_proxy: FaultProxy, record_row: Callable[[Row], None]
) -> None:
    """Measured for RELIABILITY.md: the SDK pops with a bare RPOP."""
    pops = 30 * SCALE
    items = [{"n": n} for n in range(pops)]
    session_id = f"sdk-pop-{uuid.uuid4().hex[:8]}"
    seeder = Redis(host=valkey_server.host, port=valkey_server.port)
    await SDKRedisSession(session_id, redis_client=seeder, ttl=600).add_items(items)
    await seeder.aclose()
    fault = fault_proxy.add(Fault("cut_reply", commands=("RPOP",), every=3))
    client = proxied_client(fault_proxy)
    sdk = SDKRedisSession(session_id, redis_client=client, ttl=600)
    popped: list[Any] = []
    errors: list[str] = []
    try:
        for _ in range(pops):
            try:
                popped.append(await sdk.pop_item())
            except Exception as error:
                errors.append(type(error).__name__)
    finally:
        await client.aclose()
    received = [item for item in popped if item is not None]
    remaining = valkey_server.client().llen(sdk._messages_key)
    record_row(
        Row(
            "Comparison: Agents SDK RedisSession pop_item, cut reply",
            HOW_POP["cut_reply"].replace("pop ", "RPOP "),
            pops,
            len(received),
            sum(1 for item in items if item not in received) - remaining,
            len(received) - len({json.dumps(item) for item in received}),
            len(errors),
            len(keys_without_ttl(valkey_server.client(), f"*{session_id}*")),
            f"raised: {dict(Counter(errors)) or 'none'}",
        )
    )
    assert fault.fired > 0
