"""The caller's own retry: a call that timed out or was cancelled, called again.

A caller that catches ``TimeoutError``/``ConnectionError`` (or sees its task
cancelled) cannot tell whether the server applied the call. Calling again with the
same session object and the same items must apply it once, and a pop called
again must return the item the interrupted pop removed. A different call after an
interrupted one is a new operation and is applied.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from openai_agents_session import RedisSession
from openai_agents_session.events import StoreEvent
from openai_agents_session.store.scripts import SCRIPTS
from support import ServerProcess
from support.proxy import Fault, FaultProxy

from .faults import is_add_items, is_pop_item
from .kit import SCALE, Row, batch, keys_without_ttl

T = TypeVar("T")

SOCKET_TIMEOUT = 0.3
# Replies held this long: some arrive in time (slow calls), half after the timeout.
DELAYS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
DELAYED_SHARE = 0.35
WORKERS = 8
SESSIONS = 4
CALLS = 48 * SCALE  # per worker
POP_SHARE = 0.25
PARTS = 2
# One interrupted call in the direct tests: its reply held well past the timeout.
HELD = 0.6


def operation_id(args: Sequence[bytes]) -> bytes | None:
    """ARGV[1] of an EVALSHA/EVAL: the operation id of a write or pop."""
    if len(args) < 3 or not args[2].isdigit():
        return None
    index = 3 + int(args[2])
    return args[index] if index < len(args) else None


class FirstSendDelays:
    """Holds the reply to the first send of a share of writes and pops, 200-450 ms.

    The delay is drawn per operation id, so every copy of an operation (redis-py's
    re-send, the caller's retry) passes untouched: a caller that retries once
    always gets an answer, and the run is about what that answer is.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seen: set[bytes] = set()
        self._args: Sequence[bytes] | None = None
        self._delay: float | None = None
        self.faults = [
            Fault("stall_reply", seconds=seconds, when=self._held_for(seconds))
            for seconds in DELAYS
        ]

    @property
    def fired(self) -> int:
        return sum(fault.fired for fault in self.faults)

    def _held_for(self, seconds: float) -> Callable[[Sequence[bytes]], bool]:
        return lambda args: self._delay_of(args) == seconds

    def _delay_of(self, args: Sequence[bytes]) -> float | None:
        # The proxy asks each fault in turn about the same command: draw once.
        if args is not self._args:
            self._args, self._delay = args, self._draw(args)
        return self._delay

    def _draw(self, args: Sequence[bytes]) -> float | None:
        if not (is_add_items(args) or is_pop_item(args)):
            return None
        operation = operation_id(args)
        if not operation or operation in self.seen:
            return None
        self.seen.add(operation)
        return self.rng.choice(DELAYS) if self.rng.random() < DELAYED_SHARE else None


@dataclass
class Tally:
    replayed: Counter[str] = field(default_factory=Counter)

    def on_store_event(self, event: StoreEvent) -> None:
        if event.replayed:
            self.replayed[event.operation] += 1


@dataclass
class Caller:
    """Calls once, and once more after a timeout or a lost connection."""

    interrupted: Counter[str] = field(default_factory=Counter)

    async def call(self, operation: str, attempt: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """(result, whether the first call raised); the retry's error propagates."""
        try:
            return await attempt(), False
        except (RedisTimeoutError, RedisConnectionError):
            self.interrupted[operation] += 1
        return await attempt(), True


async def load_scripts(server: ServerProcess) -> None:
    """Cache the store's scripts, so a held reply is never a ``NOSCRIPT`` (nothing run)."""
    admin = Redis(host=server.host, port=server.port)
    try:
        for script in SCRIPTS:
            await admin.script_load(script.body)
    finally:
        await admin.aclose()


def client_of(proxy: FaultProxy, redis_retries: str, socket_timeout: float | None) -> Redis:
    retry = {} if redis_retries == "default" else {"retry": Retry(NoBackoff(), 0)}
    return Redis(host=proxy.host, port=proxy.port, socket_timeout=socket_timeout, **retry)


@pytest.mark.parametrize("redis_retries", ["disabled", "default"])
async def test_a_caller_retrying_after_delayed_replies_loses_and_duplicates_nothing(
    redis_retries: str,
    valkey_server: ServerProcess,
    fault_proxy: FaultProxy,
    record_row: Callable[[Row], None],
) -> None:
    await load_scripts(valkey_server)
    delays = FirstSendDelays(seed=11)
    fault_proxy.faults.extend(delays.faults)
    client = client_of(fault_proxy, redis_retries, SOCKET_TIMEOUT)
    run = uuid.uuid4().hex[:8]
    tally = Tally()
    caller = Caller()
    acknowledged: set[tuple[int, int]] = set()
    raised: Counter[str] = Counter()
    returned: list[dict[str, Any]] = []
    retried_pops_returning = 0

    async def worker(index: int) -> None:
        nonlocal retried_pops_returning
        # Two workers per session id, each with its own session object.
        session = RedisSession(f"retry-{run}-{index % SESSIONS}", client, ttl=600, observer=tally)
        rng = random.Random(index)
        for number in range(CALLS):
            pop = rng.random() < POP_SHARE
            items = batch(index, number, PARTS)
            try:
                if pop:
                    item, retried = await caller.call("pop_item", session.pop_item)
                    if item is not None:
                        returned.append(item)
                        retried_pops_returning += retried
                else:
                    await caller.call("add_items", partial(session.add_items, items))
                    acknowledged.add((index, number))
            except Exception as error:
                raised[f"{'pop_item' if pop else 'add_items'}: {type(error).__name__}"] += 1

    try:
        await asyncio.gather(*(worker(index) for index in range(WORKERS)))
    finally:
        await client.aclose()
    await fault_proxy.wait_idle()

    admin = valkey_server.client()
    keys = [RedisSession(f"retry-{run}-{n}", client).key for n in range(SESSIONS)]
    stored = [json.loads(raw) for key in keys for raw in admin.lrange(key, 0, -1)]
    seen = Counter((item["w"], item["b"], item["p"]) for item in [*stored, *returned])
    written = {(w, b, p) for w, b in acknowledged for p in range(PARTS)}
    lost = len(written - set(seen))
    duplicated = sum(count - 1 for count in seen.values() if count > 1)
    # Removed by a pop (the server applied it) yet returned to no caller.
    unreturned = len(written) - len(stored) - len(returned)
    operations = WORKERS * CALLS
    no_ttl = keys_without_ttl(admin, f"*retry-{run}-*")
    record_row(
        Row(
            f"Connection: caller retries once after delayed replies (redis-py retries "
            f"{redis_retries})",
            f"{DELAYED_SHARE:.0%} of add_items/pop_item calls had the reply to their first "
            f"send held {DELAYS[0] * 1000:.0f}-{DELAYS[-1] * 1000:.0f} ms (client "
            f"socket_timeout {SOCKET_TIMEOUT}s); {WORKERS} tasks on {SESSIONS} sessions; the "
            "caller catches TimeoutError/ConnectionError and calls again once, same session "
            "object, same items",
            operations,
            operations - sum(raised.values()),
            lost,
            duplicated,
            0,
            len(no_ttl),
            f"caller retries: {caller.interrupted['add_items']} add_items, "
            f"{caller.interrupted['pop_item']} pop_item ({retried_pops_returning} returned "
            f"the removed item); `replayed` on {sum(tally.replayed.values())} events; "
            f"{delays.fired} replies held",
        )
    )
    assert not raised, f"a call failed after its one retry: {dict(raised)}"
    assert (lost, duplicated, unreturned) == (0, 0, 0)
    assert no_ttl == []
    assert delays.fired >= operations * DELAYED_SHARE / 2
    if redis_retries == "disabled":
        # The caller's retry is what this run exercises: it must have happened.
        assert caller.interrupted["add_items"] and caller.interrupted["pop_item"]
        assert retried_pops_returning


@dataclass
class Interrupted:
    """One call interrupted after the server applied it, by a timeout or a cancellation."""

    how: str
    proxy: FaultProxy
    admin: Redis

    async def call(self, attempt: Callable[[], Awaitable[Any]], key: str) -> None:
        length = await self.admin.llen(key)
        if self.how == "timeout":
            with pytest.raises(RedisTimeoutError):
                await attempt()
            return
        task = asyncio.ensure_future(attempt())
        for _ in range(500):  # until the server has applied it; its reply is held
            if await self.admin.llen(key) != length or task.done():
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.fixture(params=["timeout", "cancellation"])
async def interrupted(
    request: pytest.FixtureRequest, fault_proxy: FaultProxy, valkey_server: ServerProcess
) -> AsyncIterator[tuple[Interrupted, Redis]]:
    """(the interruption, a client through the proxy) with retries off in redis-py."""
    await load_scripts(valkey_server)
    timeout = 0.2 if request.param == "timeout" else None
    client = client_of(fault_proxy, "disabled", timeout)
    admin = Redis(host=valkey_server.host, port=valkey_server.port)
    try:
        yield Interrupted(request.param, fault_proxy, admin), client
    finally:
        await fault_proxy.wait_idle()
        await client.aclose()
        await admin.aclose()


def hold_next(proxy: FaultProxy, when: Callable[[Sequence[bytes]], bool]) -> Fault:
    return proxy.add(Fault("stall_reply", when=when, times=1, seconds=HELD))


class Events:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)


async def test_an_interrupted_write_retried_with_the_same_items_is_stored_once(
    interrupted: tuple[Interrupted, Redis], session_id: str
) -> None:
    interruption, client = interrupted
    observed = Events()
    session = RedisSession(session_id, client, ttl=600, observer=observed)
    items = batch("w", 0, PARTS)
    fault = hold_next(interruption.proxy, is_add_items)
    await interruption.call(lambda: session.add_items(items), session.key)
    await session.add_items(items)
    stored = [json.loads(raw) for raw in await interruption.admin.lrange(session.key, 0, -1)]
    assert fault.fired == 1
    assert stored == items
    assert await interruption.admin.zcard(session.operation_log_key) == 1
    assert observed.events[-1].replayed


async def test_a_write_after_an_interrupted_one_with_different_items_is_stored(
    interrupted: tuple[Interrupted, Redis], session_id: str
) -> None:
    interruption, client = interrupted
    observed = Events()
    session = RedisSession(session_id, client, ttl=600, observer=observed)
    first, second = batch("w", 0, PARTS), batch("w", 1, PARTS)
    hold_next(interruption.proxy, is_add_items)
    await interruption.call(lambda: session.add_items(first), session.key)
    await session.add_items(second)
    stored = [json.loads(raw) for raw in await interruption.admin.lrange(session.key, 0, -1)]
    assert stored == first + second
    assert await interruption.admin.zcard(session.operation_log_key) == 2
    assert not observed.events[-1].replayed


async def test_an_interrupted_pop_called_again_returns_the_item_it_removed(
    interrupted: tuple[Interrupted, Redis], session_id: str
) -> None:
    interruption, client = interrupted
    observed = Events()
    session = RedisSession(session_id, client, ttl=600, observer=observed)
    items = [{"n": n} for n in range(3)]
    await session.add_items(items)
    hold_next(interruption.proxy, is_pop_item)
    await interruption.call(session.pop_item, session.key)
    assert await interruption.admin.llen(session.key) == 2  # the server removed {"n": 2}
    assert await session.pop_item() == {"n": 2}
    assert observed.events[-1].replayed
    assert await interruption.admin.llen(session.key) == 2
    assert await session.pop_item() == {"n": 1}  # a new pop: the next item
    assert not observed.events[-1].replayed
    assert await session.get_items() == [{"n": 0}]


CONCURRENT = 4


@pytest.mark.parametrize("operation", ["pop_item", "add_items"])
async def test_concurrent_interrupted_calls_on_one_session_object_each_retry_their_own(
    operation: str, valkey_server: ServerProcess, fault_proxy: FaultProxy, session_id: str
) -> None:
    await load_scripts(valkey_server)
    client = client_of(fault_proxy, "disabled", 0.2)
    admin = Redis(host=valkey_server.host, port=valkey_server.port)
    session = RedisSession(session_id, client, ttl=600)
    await session.add_items([{"n": n} for n in range(10)])
    # Two users answering "ok" in one conversation: equal items, distinct calls.
    answer = [{"type": "message", "role": "user", "content": "ok"}]
    pop = operation == "pop_item"
    attempt = session.pop_item if pop else partial(session.add_items, answer)
    fault_proxy.add(
        Fault(
            "stall_reply",
            when=is_pop_item if pop else is_add_items,
            times=CONCURRENT,
            seconds=HELD,
        )
    )
    interrupted = 0
    all_interrupted = asyncio.Event()

    async def call_with_one_retry() -> Any:
        nonlocal interrupted
        try:
            return await attempt()
        except RedisTimeoutError:
            # A caller's backoff: every call has timed out before any retries.
            interrupted += 1
            if interrupted == CONCURRENT:
                all_interrupted.set()
            await all_interrupted.wait()
            return await attempt()

    try:
        calls = asyncio.gather(*(call_with_one_retry() for _ in range(CONCURRENT)))
        returned = await asyncio.wait_for(calls, 10)
    finally:
        await fault_proxy.wait_idle()
        await client.aclose()
    stored = [json.loads(raw) for raw in await admin.lrange(session.key, 0, -1)]
    await admin.aclose()
    if pop:
        assert len(stored) == 10 - CONCURRENT  # each call removed one item
        assert sorted(item["n"] for item in returned) == list(range(10 - CONCURRENT, 10))
    else:
        assert stored.count(answer[0]) == CONCURRENT
