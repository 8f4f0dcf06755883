"""Pops and durable writes exactly once under lost and late replies, the id window
as a time, and ``sessions rm`` against a late copy: each once a gap, each a row of
RELIABILITY.md."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from openai_agents_session import Durability, DurabilityError, RedisSession
from openai_agents_session.cli import main
from openai_agents_session.events import StoreEvent
from openai_agents_session.store.codec import encode_items
from openai_agents_session.store.oplog import MAX_IDS
from openai_agents_session.store.scripts import ADD
from support import ServerProcess
from support.proxy import Fault, FaultProxy

from .faults import PARTS, STALL, is_add_items, is_pop_item, proxied_client
from .kit import SCALE, Row, batch, keys_without_ttl

TRIALS = 5 * SCALE


def stored(server: ServerProcess, key: str) -> list[dict[str, object]]:
    return [json.loads(raw) for raw in server.client().lrange(key, 0, -1)]


async def test_a_late_copy_of_a_pop_on_an_empty_session_removes_nothing(
    valkey_server: ServerProcess,
    valkey_client: Redis,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
) -> None:
    client = proxied_client(fault_proxy)
    removed = 0
    try:
        for trial in range(TRIALS):
            fault_proxy.add(Fault("stall_request", when=is_pop_item, times=1, seconds=STALL))
            session_id = f"late-pop-{uuid.uuid4().hex[:8]}"
            popper = RedisSession(session_id, client, ttl=600)
            writer = RedisSession(session_id, valkey_client, ttl=600)
            assert await popper.pop_item() is None  # answered by its retry
            await writer.add_items([{"trial": trial}])  # acknowledged after the pop
            await fault_proxy.wait_idle()  # the held copy of the pop arrives now
            removed += 1 - len(stored(valkey_server, writer.key))
    finally:
        await client.aclose()
    record_row(
        Row(
            "Pops: late copy of a pop on an empty session",
            f"a pop on an empty session held {STALL}s (answered by its retry), an add_items "
            "acknowledged, then the held pop delivered",
            2 * TRIALS,
            2 * TRIALS,
            removed,
            0,
            0,
            0,
            "none (silent)",
        )
    )
    assert removed == 0


async def test_concurrent_pops_with_a_lost_reply_return_each_item_once(
    valkey_server: ServerProcess,
    valkey_client: Redis,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
) -> None:
    client = proxied_client(fault_proxy)
    lost = duplicated = 0
    try:
        for _ in range(TRIALS):
            fault_proxy.add(Fault("stall_reply", when=is_pop_item, times=1, seconds=STALL))
            session_id = f"pops-{uuid.uuid4().hex[:8]}"
            slow = RedisSession(session_id, client, ttl=600)
            fast = RedisSession(session_id, valkey_client, ttl=600)
            await fast.add_items([{"n": n} for n in range(4)])
            first = asyncio.create_task(slow.pop_item())  # applied; its reply held
            await asyncio.sleep(STALL / 5)
            second = await fast.pop_item()  # in between the slow pop and its retry
            returned = [await first, second]
            left = stored(valkey_server, fast.key)
            everything = [item for item in returned if item is not None] + left
            lost += 4 - len({json.dumps(i) for i in everything})
            duplicated += len(everything) - len({json.dumps(i) for i in everything})
    finally:
        await client.aclose()
    record_row(
        Row(
            "Pops: two concurrent pops, one reply lost",
            f"a pop's reply held {STALL}s (client timeout 0.2s, so it is re-sent); another "
            "client pops in between",
            2 * TRIALS,
            2 * TRIALS,
            lost,
            duplicated,
            0,
            0,
            "`duplicate_batch` on the re-sent pop's event",
        )
    )
    assert (lost, duplicated) == (0, 0)


async def test_an_unconfirmed_durable_pop_hands_its_item_over(
    valkey_client: Redis, session_id: str, record_row: Callable[[Row], None]
) -> None:
    # No replica at all: WAIT 1 always times out, as with the replica down.
    session = RedisSession(session_id, valkey_client, ttl=600)
    await session.add_items([{"n": n} for n in range(TRIALS)])
    durable = RedisSession(
        session_id, valkey_client, ttl=600, durability=Durability(replicas=1, timeout_ms=50)
    )
    handed = []
    for _ in range(TRIALS):
        with pytest.raises(DurabilityError) as raised:
            await durable.pop_item()
        handed.append(raised.value.item)
    left = await session.get_items()
    lost = TRIALS - len([item for item in handed if item is not None]) - len(left)
    record_row(
        Row(
            "Pops: durable pop, replica down",
            "Durability(replicas=1, timeout_ms=50) with no replica confirming; each pop "
            "raises DurabilityError",
            TRIALS,
            0,
            lost,
            0,
            "n/a (raised DurabilityError, item in .item)",
            0,
            f"`DurabilityError` x{TRIALS}, each carrying its popped item",
        )
    )
    assert handed == [{"n": n} for n in reversed(range(TRIALS))]
    assert lost == 0


async def test_a_refused_wait_raises_durability_error_and_is_stored_once(
    valkey_server: ServerProcess, session_id: str, record_row: Callable[[Row], None]
) -> None:
    from conftest import create_acl_user

    user, password = create_acl_user(valkey_server.client(), "sessions-app")  # no +wait
    client = Redis(
        host=valkey_server.host, port=valkey_server.port, username=user, password=password
    )
    session = RedisSession(session_id, client, ttl=600, durability=Durability(replicas=1))
    raised = 0
    try:
        for number in range(TRIALS):
            try:
                await session.add_items(batch("w", number, PARTS))
            except DurabilityError as error:
                assert error.applied and error.cause is not None
                raised += 1  # applied: a caller that understands this does not resend
    finally:
        await client.aclose()
    items = stored(valkey_server, session.key)
    duplicated = len(items) // PARTS - TRIALS
    record_row(
        Row(
            "Durable writes: WAIT refused (NOPERM)",
            "Durability(replicas=1) for a user without +wait: the script runs, WAIT is refused",
            TRIALS,
            0,
            TRIALS - len(items) // PARTS,
            duplicated,
            "0 (DurabilityError: applied, not confirmed)",
            0,
            f"`DurabilityError` x{raised} (cause: NoPermissionError)",
        )
    )
    assert raised == TRIALS and len(items) == TRIALS * PARTS


async def test_aof_durability_is_refused_before_writing_without_waitaof(
    redis7_server: ServerProcess, session_id: str, record_row: Callable[[Row], None]
) -> None:
    client = Redis(host=redis7_server.host, port=redis7_server.port)
    session = RedisSession(session_id, client, durability=Durability(replicas=0, aof=True))
    try:
        for number in range(TRIALS):
            with pytest.raises(ValueError, match="needs WAITAOF"):
                await session.add_items(batch("w", number, PARTS))
    finally:
        await client.aclose()
    written = redis7_server.client().llen(session.key)
    record_row(
        Row(
            "Durable writes: aof=True on Redis 7.0 (no WAITAOF)",
            "Durability(aof=True) against Redis 7.0",
            TRIALS,
            0,
            0,
            0,
            0,
            0,
            f"`ValueError` x{TRIALS} before anything is sent; {written} items written",
        )
    )
    assert written == 0


class _Events:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)


LATE_AFTER = 10_000


async def test_a_late_copy_after_ten_thousand_writes_is_still_applied_once(
    valkey_server: ServerProcess,
    valkey_client: Redis,
    session_id: str,
    record_row: Callable[[Row], None],
) -> None:
    observed = _Events()
    session = RedisSession(session_id, valkey_client, ttl=600, observer=observed)
    call = ("0123456789abcdef", 600_000, 0, *encode_items(batch("late", 0, PARTS)))
    await session._execute(ADD, *call)  # the original

    async def writer(task: int) -> None:
        for n in range(1000):
            await session.add_items(batch("other", task * 1000 + n, 1))

    await asyncio.gather(*(writer(task) for task in range(LATE_AFTER // 1000)))
    late, _ = await session._execute(ADD, *call)  # its late copy, still inside the window
    late_parts = sum(1 for item in stored(valkey_server, session.key) if item["w"] == "late")
    evicted = sum(event.log_evictions for event in observed.events)
    record_row(
        Row(
            "Operation window: late copy after 10,000 other writes",
            f"a write, then {LATE_AFTER} other writes to its session from 10 tasks, then its "
            "byte-identical copy",
            LATE_AFTER + 2,
            LATE_AFTER + 2,
            0,
            late_parts // PARTS - 1,
            0,
            len(keys_without_ttl(valkey_server.client(), f"*{session_id}*")),
            "`replayed` on the copy's reply",
        )
    )
    assert late.replayed and late_parts == PARTS
    assert evicted == 0
    assert len(stored(valkey_server, session.key)) == PARTS + LATE_AFTER


async def test_a_full_log_evicts_its_oldest_ids_counts_them_and_refuses_nothing(
    valkey_client: Redis, session_id: str
) -> None:
    observed = _Events()
    session = RedisSession(session_id, valkey_client, ttl=600, observer=observed)
    extra = 50

    async def writer(first: int, count: int) -> None:
        for n in range(first, first + count):
            await session.add_items([{"n": n}])

    share = (MAX_IDS + extra) // 10
    await asyncio.gather(*(writer(task * share, share) for task in range(10)))

    assert await valkey_client.llen(session.key) == MAX_IDS + extra  # nothing refused
    assert await valkey_client.zcard(session.operation_log_key) == MAX_IDS
    assert sum(event.log_evictions for event in observed.events) == extra


async def test_rm_then_a_late_copy_of_an_acknowledged_write_brings_nothing_back(
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = proxied_client(fault_proxy)
    reappeared = 0
    try:
        for trial in range(TRIALS):
            fault_proxy.add(Fault("stall_request", when=is_add_items, times=1, seconds=STALL))
            session = RedisSession(f"rm-{uuid.uuid4().hex[:8]}", client, ttl=600)
            await session.add_items(batch("w", trial, PARTS))  # acknowledged via its retry
            argv = ["sessions", "rm", session.session_id, "--yes", "--redis-url"]
            code = await asyncio.to_thread(main, [*argv, valkey_server.url])
            assert code == 0, capsys.readouterr().err
            await fault_proxy.wait_idle()  # the held copy arrives after the rm
            reappeared += valkey_server.client().llen(session.key)
    finally:
        await client.aclose()
    record_row(
        Row(
            "Connection: late write after `sessions rm`",
            f"a write held {STALL}s, acknowledged via its retry, `sessions rm --yes`, then "
            "the held copy delivered",
            2 * TRIALS,
            2 * TRIALS,
            0,
            f"{reappeared} items reappeared",
            0,
            0,
            "none (silent)",
        )
    )
    assert reappeared == 0
