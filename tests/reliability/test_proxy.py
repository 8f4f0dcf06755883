"""The fault proxy itself: transparent without faults, and each fault where it says."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from support import ServerProcess
from support.proxy import Fault, FaultProxy, parse_command, reply_end


@pytest.fixture
async def no_retry_client(fault_proxy: FaultProxy) -> AsyncIterator[Redis]:
    client = Redis(
        host=fault_proxy.host, port=fault_proxy.port, retry=Retry(NoBackoff(), 0), socket_timeout=2
    )
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def key() -> str:
    return f"proxy-test-{uuid.uuid4().hex[:8]}"


async def test_without_faults_every_byte_passes_through(
    fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    big = b"\x00\xff" * (3 * 1024 * 1024)
    await no_retry_client.set(key, big, ex=60)
    assert await no_retry_client.get(key) == big
    pipe = no_retry_client.pipeline(transaction=True)
    for n in range(200):
        pipe.rpush(key + ":l", n)
    pipe.expire(key + ":l", 60)
    pipe.lrange(key + ":l", 0, -1)
    replies = await pipe.execute()
    assert replies[-1] == [str(n).encode() for n in range(200)]
    assert fault_proxy.stats.commands == fault_proxy.stats.replies


async def test_resp3_replies_are_framed(fault_proxy: FaultProxy, key: str) -> None:
    client = Redis(host=fault_proxy.host, port=fault_proxy.port, protocol=3)
    try:
        await client.hset(key, mapping={"a": "1", "b": "2"})
        await client.expire(key, 60)
        assert await client.hgetall(key) == {b"a": b"1", b"b": b"2"}
    finally:
        await client.aclose()


async def test_dropped_request_never_reaches_the_server(
    valkey_server: ServerProcess, fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    fault_proxy.add(Fault("drop", commands=("SET",)))
    with pytest.raises(RedisConnectionError):
        await no_retry_client.set(key, "v", ex=60)
    assert valkey_server.client().exists(key) == 0


async def test_request_cut_midway_is_discarded_by_the_server(
    valkey_server: ServerProcess, fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    fault_proxy.add(Fault("cut_request", commands=("SET",)))
    with pytest.raises(RedisConnectionError):
        await no_retry_client.set(key, "v" * 1000, ex=60)
    assert valkey_server.client().exists(key) == 0


async def test_reply_cut_after_the_server_applied_the_command(
    valkey_server: ServerProcess, fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    fault_proxy.add(Fault("cut_reply", commands=("SET",)))
    with pytest.raises(RedisConnectionError):
        await no_retry_client.set(key, "v", ex=60)
    assert valkey_server.client().get(key) == b"v"


async def test_stalled_request_arrives_after_the_client_gave_up(
    valkey_server: ServerProcess, fault_proxy: FaultProxy, key: str
) -> None:
    fault_proxy.add(Fault("stall_request", commands=("SET",), seconds=0.3))
    client = Redis(
        host=fault_proxy.host,
        port=fault_proxy.port,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=0.05,
    )
    try:
        with pytest.raises(RedisTimeoutError):
            await client.set(key, "late", ex=60)
    finally:
        await client.aclose()
    await fault_proxy.wait_idle()
    assert valkey_server.client().get(key) == b"late"


async def test_stalled_reply_is_delivered_late(
    fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    fault_proxy.add(Fault("stall_reply", commands=("GET",), seconds=0.05))
    await no_retry_client.set(key, "v", ex=60)
    assert await no_retry_client.get(key) == b"v"
    assert fault_proxy.stats.faults["stall_reply"] == 1


async def test_faults_fire_on_every_nth_match_up_to_times(
    fault_proxy: FaultProxy, no_retry_client: Redis, key: str
) -> None:
    fault = fault_proxy.add(Fault("cut_reply", commands=("INCRBY",), every=3, times=2))
    failures = 0
    for _ in range(12):
        try:
            await no_retry_client.incr(key)
        except RedisConnectionError:
            failures += 1
    await no_retry_client.expire(key, 60)
    assert (fault.matched, fault.fired, failures) == (12, 2, 2)
    assert int(await no_retry_client.get(key) or 0) == 12  # a cut reply was still applied


async def test_stop_resets_every_open_connection(valkey_server: ServerProcess) -> None:
    proxy = await FaultProxy(valkey_server.port).start()
    client = Redis(host=proxy.host, port=proxy.port, retry=Retry(NoBackoff(), 0))
    try:
        assert await client.ping()
        assert proxy.open_connections == 1
        await proxy.stop()
        assert proxy.open_connections == 0
        with pytest.raises(RedisConnectionError):
            await client.ping()
    finally:
        await client.aclose()


def test_parsers_wait_for_complete_frames() -> None:
    command = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert parse_command(bytearray(command[:-1])) is None
    assert parse_command(bytearray(command + b"*1")) == (len(command), [b"GET", b"k"])
    nested = b"*3\r\n:1\r\n$-1\r\n*2\r\n$2\r\nab\r\n%1\r\n+k\r\n_\r\n"
    assert reply_end(bytearray(nested[:-3])) is None
    assert reply_end(bytearray(nested + b"+OK\r\n")) == len(nested)
