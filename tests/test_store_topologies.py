"""Cluster slot layout and Sentinel-managed primaries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import RedisCluster
from redis.asyncio.sentinel import Sentinel

from openai_agents_session import RedisSession
from openai_agents_session.store.keys import hash_slot, operation_log_key
from support import Cluster, SentinelGroup


@pytest.mark.parametrize(
    "list_key",
    ["openai_agents_session:user-1", "p:{tag}:x", "p:a}b", "p:{}x", "p:a{b", "p:ü}{"],
)
def test_the_operation_log_shares_the_list_slot_and_prefix(list_key: str) -> None:
    log = operation_log_key(list_key)
    assert log.startswith(list_key.encode() + b"\xff")
    assert hash_slot(log) == hash_slot(list_key)


async def test_cluster_sessions_spread_over_every_node(cluster: Cluster) -> None:
    host, port = cluster.startup_nodes[0]
    client = RedisCluster(host=host, port=port)
    try:
        sessions = [RedisSession(f"user-{n}", client, ttl=60, max_items=3) for n in range(30)]
        for number, session in enumerate(sessions):
            await session.add_items([{"n": number}, {"m": number}])
        owners = {client.get_node_from_key(session.key).port for session in sessions}
        assert owners == {port for _, port in cluster.startup_nodes}
        for number, session in enumerate(sessions):
            assert await session.get_items(1) == [{"m": number}]
            assert await session.pop_item() == {"m": number}
            await session.clear_session()
            assert await session.get_items() == []
    finally:
        await client.aclose()


async def test_cluster_from_url(cluster: Cluster, session_id: str) -> None:
    async with RedisSession.from_url(session_id, cluster.url, ttl=60) as session:
        await session.add_items([{"n": 1}])
        assert await session.get_items() == [{"n": 1}]
        await session.clear_session()


@pytest.fixture(scope="module")
def sentinel_group() -> Iterator[SentinelGroup]:
    with SentinelGroup() as group:
        yield group


async def test_sentinel_master_for_client(sentinel_group: SentinelGroup, session_id: str) -> None:
    sentinel = Sentinel(sentinel_group.sentinels)
    primary: Any = sentinel.master_for(sentinel_group.service)
    try:
        session = RedisSession(session_id, primary, ttl=60, max_items=2)
        await session.add_items([{"n": 1}, {"n": 2}, {"n": 3}])
        assert await session.get_items() == [{"n": 2}, {"n": 3}]
        assert await session.pop_item() == {"n": 3}
        await session.clear_session()
        assert await session.get_items() == []
    finally:
        await primary.aclose()


async def test_sentinel_from_url(sentinel_group: SentinelGroup, session_id: str) -> None:
    async with RedisSession.from_url(session_id, sentinel_group.url, ttl=60) as session:
        await session.add_items([{"n": 1}])
        assert await session.get_items() == [{"n": 1}]
    assert sentinel_group.primary.client().llen(f"openai_agents_session:{session_id}") == 1


def test_unknown_url_scheme_is_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported Redis URL scheme 'http'"):
        RedisSession.from_url("s", "http://user:secret@host/")
