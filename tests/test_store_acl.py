"""The ACL users of README "Redis permissions", created as written, on Valkey,
Redis 7.0 and a Cluster: every operation runs through them, and a permission the
store lacks (also inside a script) raises an error naming what to grant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from conftest import create_acl_user, readme_acl_rules
from openai_agents_session import RedisSession
from openai_agents_session.errors import StorePermissionError
from support import Cluster, ServerProcess

SERVERS = ("valkey_server", "redis7_server")


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> ServerProcess:
    running: ServerProcess = request.getfixturevalue(request.param)
    return running


@pytest.fixture
async def app_client(server: ServerProcess) -> AsyncIterator[Redis]:
    user, password = create_acl_user(server.client(), "sessions-app")
    client = Redis(host=server.host, port=server.port, username=user, password=password)
    try:
        yield client
    finally:
        await client.aclose()


async def every_operation(session: RedisSession) -> None:
    await session.add_items([{"n": 1}, {"n": 2}, {"n": 3}])
    assert await session.get_items(2) == [{"n": 2}, {"n": 3}]
    assert await session.pop_item() == {"n": 3}
    snapshot = await session._get_compaction_snapshot(10)
    assert snapshot is not None and snapshot.items == [{"n": 1}, {"n": 2}]
    assert await snapshot.replace_suffix(1, [{"summary": 2}])
    assert await session.get_items() == [{"n": 1}, {"summary": 2}]
    assert await session._atomic_replace_items([{"summary": "all"}])
    assert await session.get_items() == [{"summary": "all"}]
    await session.clear_session()
    assert await session.pop_item() is None
    assert await session.get_items() == []


async def test_the_documented_app_user_runs_every_operation(
    app_client: Redis, session_id: str
) -> None:
    await every_operation(RedisSession(session_id, app_client, ttl=60, max_items=10))


async def test_without_idempotent_writes_the_app_user_needs_no_time(
    server: ServerProcess, session_id: str
) -> None:
    user, password = create_acl_user(
        server.client(), "sessions-app", "-time", "-zadd", "-zscore", "-zcount"
    )
    client = Redis(host=server.host, port=server.port, username=user, password=password)
    try:
        session = RedisSession(session_id, client, ttl=60, idempotent_writes=False)
        await every_operation(session)
    finally:
        await client.aclose()


async def test_a_command_refused_inside_a_script_names_what_to_grant(
    server: ServerProcess, session_id: str
) -> None:
    user, password = create_acl_user(server.client(), "sessions-app", "-time")
    client = Redis(host=server.host, port=server.port, username=user, password=password)
    try:
        session = RedisSession(session_id, client, ttl=60)
        with pytest.raises(StorePermissionError) as raised:
            await session.add_items([{"n": 1}])
        # Valkey names the command; Redis 7.0 does not, so every command is listed.
        assert "+time" in str(raised.value)
        assert "Redis permissions" in str(raised.value)
        assert server.client().exists(session.key) == 0, "written despite the error"
    finally:
        await client.aclose()


async def test_a_key_outside_the_users_pattern_names_the_key_pattern(
    app_client: Redis, session_id: str
) -> None:
    session = RedisSession(session_id, app_client, key_prefix="another_prefix")
    with pytest.raises(StorePermissionError) as raised:
        await session.get_items()
    assert "~another_prefix:*" in str(raised.value)


async def test_the_documented_app_user_runs_every_operation_on_a_cluster(
    cluster: Cluster, session_id: str
) -> None:
    extra = readme_acl_rules()["cluster"]
    password = "one-password-on-every-node"
    for node in cluster.nodes:
        create_acl_user(node.client(), "sessions-app", *extra, password=password)
    host, port = cluster.startup_nodes[0]
    client: Any = RedisCluster(host=host, port=port, username="sessions-app", password=password)
    try:
        for number in range(6):  # sessions on every primary
            await every_operation(RedisSession(f"{session_id}-{number}", client, ttl=60))
    finally:
        await client.aclose()
