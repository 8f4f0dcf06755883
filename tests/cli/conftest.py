"""The CLI against real servers: the suite's Valkey and 3-primary Cluster.

Every test writes under its own key prefix, so tests share servers without
seeing each other's sessions. The CLI runs in-process through ``main(argv)``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from openai_agents_session import RedisSession
from openai_agents_session.cli import main
from support import Cluster, ServerProcess


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out.strip().splitlines()[-1])


@dataclass
class Store:
    """One backend, one key prefix: write sessions, poke raw keys, run the CLI."""

    url: str
    prefix: str
    admin: Any  # a synchronous redis.Redis or redis.RedisCluster
    capsys: pytest.CaptureFixture[str]

    def key(self, session_id: str) -> str:
        return f"{self.prefix}:{session_id}"

    def write(
        self,
        session_id: str,
        items: Sequence[Any],
        *,
        ttl: int | None = None,
        owner: str | None = None,
        max_age: int | None = None,
    ) -> None:
        async def add() -> None:
            async with RedisSession.from_url(
                session_id, self.url, key_prefix=self.prefix, ttl=ttl, owner=owner, max_age=max_age
            ) as session:
                await session.add_items(list(items))

        asyncio.run(add())

    def pop(self, session_id: str) -> Any:
        async def pop() -> Any:
            async with RedisSession.from_url(
                session_id, self.url, key_prefix=self.prefix
            ) as session:
                return await session.pop_item()

        return asyncio.run(pop())

    def cli(self, *argv: str, stdin: str | None = None) -> CliResult:
        return run_cli(
            self.capsys,
            [*argv, "--redis-url", self.url, "--key-prefix", self.prefix],
            stdin=stdin,
        )


def run_cli(
    capsys: pytest.CaptureFixture[str], argv: Sequence[str], *, stdin: str | None = None
) -> CliResult:
    capsys.readouterr()
    if stdin is None:
        code = main(list(argv))
    else:
        import io

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdin", io.StringIO(stdin))
            code = main(list(argv))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def messages(count: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"message {n}"} for n in range(count)]


@pytest.fixture(params=["valkey", "cluster"])
def store(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Iterator[Store]:
    prefix = f"cli-{uuid.uuid4().hex[:8]}"
    admin: Any
    if request.param == "cluster":
        cluster: Cluster = request.getfixturevalue("cluster")
        host, port = cluster.startup_nodes[0]
        admin = redis.RedisCluster(host=host, port=port)
        url = cluster.url
    else:
        server: ServerProcess = request.getfixturevalue("valkey_server")
        admin = server.client()
        url = server.url
    try:
        yield Store(url, prefix, admin, capsys)
    finally:
        admin.close()


@pytest.fixture
def cluster_store(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> Iterator[Store]:
    host, port = cluster.startup_nodes[0]
    admin = redis.RedisCluster(host=host, port=port)
    try:
        yield Store(cluster.url, f"cli-{uuid.uuid4().hex[:8]}", admin, capsys)
    finally:
        admin.close()


@pytest.fixture
def valkey_store(
    valkey_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> Iterator[Store]:
    admin = valkey_server.client()
    try:
        yield Store(valkey_server.url, f"cli-{uuid.uuid4().hex[:8]}", admin, capsys)
    finally:
        admin.close()
