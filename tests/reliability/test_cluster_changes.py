"""A cluster that changes under load: ``redis-cli --cluster reshard`` moving the slots
of live sessions there and back, and primaries replaced by ``CLUSTER FAILOVER`` and by
``kill -9``; on Valkey and Redis 7.0."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis.asyncio import RedisCluster

from openai_agents_session import RedisSession
from openai_agents_session.store.keys import hash_slot
from support import Cluster, ServerProcess, redis_binary
from support.cluster import node_id

from .cluster_load import Load, audit
from .kit import SCALE, Row

MOVED_SLOTS = 300
SESSIONS = 24


def binary_for(name: str) -> Any:
    if name == "valkey":
        return None
    binary = redis_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server (Redis 7.0) is required in CI")
        pytest.skip("redis-server not installed (make system-deps installs it)")
    return binary


SERVER_NAMES = {"valkey": "Valkey 9.1", "redis7": "Redis 7.0"}


@pytest.fixture(params=["valkey", "redis7"])
def server_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ids_in_slots(below: int, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    found: list[str] = []
    number = 0
    while len(found) < count:
        candidate = f"live-{run}-{number}"
        if hash_slot(f"openai_agents_session:{candidate}") < below:
            found.append(candidate)
        number += 1
    return found


async def reshard(seed: ServerProcess, source: ServerProcess, target: ServerProcess) -> None:
    cli = shutil.which("redis-cli")
    assert cli is not None, "redis-cli is installed with redis-server (make system-deps)"
    moves = ["--cluster-from", node_id(source), "--cluster-to", node_id(target)]
    process = await asyncio.create_subprocess_exec(
        cli,
        *("--cluster", "reshard", f"{seed.host}:{seed.port}", *moves),
        *("--cluster-slots", str(MOVED_SLOTS), "--cluster-yes"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]


async def keys_without_ttl(client: Any, sessions: list[RedisSession]) -> int:
    keys = [key for s in sessions for key in (s.key, s.operation_log_key)]
    return sum([await client.pttl(key) == -1 for key in keys])


@pytest.fixture
def plain_cluster(server_name: str) -> Iterator[Cluster]:
    with Cluster(binary_for(server_name)) as cluster:
        yield cluster


async def test_a_live_reshard_fails_loses_and_duplicates_nothing(
    server_name: str, plain_cluster: Cluster, record_row: Callable[[Row], None]
) -> None:
    cluster = plain_cluster
    host, port = cluster.startup_nodes[0]
    client: Any = RedisCluster(host=host, port=port)
    # Sessions in the slots that move: redis-cli moves a node's lowest slots first.
    sessions = [RedisSession(n, client, ttl=600) for n in ids_in_slots(MOVED_SLOTS, SESSIONS)]
    load = Load(sessions)
    first, second = cluster.primaries[0], cluster.primaries[1]
    try:
        running = asyncio.create_task(load.run())
        await asyncio.sleep(0.5)
        for _ in range(SCALE):
            await reshard(first, first, second)
            await reshard(first, second, first)
        await asyncio.sleep(0.5)
        load.stop.set()
        await running
        stored = [await client.lrange(s.key, 0, -1) for s in sessions]
        no_ttl = await keys_without_ttl(client, sessions)
    finally:
        await client.aclose()
    outcome = audit(load, stored)
    record_row(
        Row(
            f"Cluster: live reshard ({SERVER_NAMES[server_name]})",
            f"`redis-cli --cluster reshard` of {MOVED_SLOTS} slots holding {SESSIONS} live "
            f"sessions to another primary and back, x{SCALE}, 8 writers adding and popping",
            load.operations,
            load.acknowledged,
            outcome.lost,
            outcome.duplicated,
            outcome.false_failures,
            no_ttl,
            "raised: " + (str(dict(load.errors)) if load.errors else "none"),
        )
    )
    assert not load.errors, load.errors
    assert no_ttl == 0
    assert (outcome.lost, outcome.duplicated, outcome.false_failures) == (0, 0, 0)


@pytest.fixture
def replicated_cluster(server_name: str) -> Iterator[Cluster]:
    with Cluster(binary_for(server_name), replicas=1, node_timeout_ms=1000) as cluster:
        yield cluster


async def test_primary_failovers_duplicate_nothing_and_fail_nothing(
    server_name: str, replicated_cluster: Cluster, record_row: Callable[[Row], None]
) -> None:
    cluster = replicated_cluster
    host, port = cluster.startup_nodes[0]
    client: Any = RedisCluster(host=host, port=port)
    run = uuid.uuid4().hex[:6]
    sessions = [RedisSession(f"fo-{run}-{n}", client, ttl=600) for n in range(SESSIONS)]
    load = Load(sessions)
    try:
        running = asyncio.create_task(load.run())
        await asyncio.sleep(0.5)
        # A manual failover: the replica of the first primary takes over in step.
        promoted = cluster.replicas[0]
        promoted.client().execute_command("CLUSTER FAILOVER")
        await asyncio.to_thread(cluster.wait_until_ok)
        await asyncio.sleep(1.0)
        # A crash: the second primary dies; its replica is promoted after the timeout.
        cluster.primaries[1].kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(cluster.wait_until_ok)
        await asyncio.sleep(1.0)
        load.stop.set()
        await running
        stored = [await client.lrange(s.key, 0, -1) for s in sessions]
        no_ttl = await keys_without_ttl(client, sessions)
    finally:
        await client.aclose()
    outcome = audit(load, stored)
    record_row(
        Row(
            f"Cluster: primary failover ({SERVER_NAMES[server_name]})",
            "3 primaries with a replica each (node timeout 1s): CLUSTER FAILOVER on one, "
            f"kill -9 of another, {SESSIONS} sessions, 8 writers adding and popping",
            load.operations,
            load.acknowledged,
            outcome.lost,
            outcome.duplicated,
            outcome.false_failures,
            no_ttl,
            "raised: " + (str(dict(load.errors)) if load.errors else "none"),
        )
    )
    assert outcome.duplicated == 0
    assert outcome.false_failures == 0
    assert no_ttl == 0
