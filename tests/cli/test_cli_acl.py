"""Every ``sessions`` command through README's operator user, on Valkey and Redis 7.0,
and ``rm`` keeping ``clear_session``'s guarantee."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from openai_agents_session import RedisSession
from support import ServerProcess
from support.acl import acl_rules, create_acl_user

from .conftest import messages, run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
PREFIX = "openai_agents_session"  # the prefix README's rule names


@pytest.fixture(params=["valkey_server", "redis7_server"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    running: ServerProcess = request.getfixturevalue(request.param)
    return running


def write(url: str, session_id: str, items: list[Any]) -> None:
    async def add() -> None:
        async with RedisSession.from_url(session_id, url, ttl=600) as session:
            await session.add_items(items)

    asyncio.run(add())


def test_every_cli_command_runs_as_the_documented_operator_user(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    user, password = create_acl_user(server.client(), acl_rules(README), "sessions-cli")
    url = f"redis://{user}:{password}@{server.host}:{server.port}/0"
    run = uuid.uuid4().hex[:8]
    write(server.url, f"{run}-a", messages(3))
    write(server.url, f"{run}-b", messages(1))

    def cli(*argv: str) -> Any:
        result = run_cli(capsys, [*argv, "--redis-url", url, "--key-prefix", PREFIX])
        assert result.code == 0, f"{argv}: {result.err}"
        return result

    listed = cli("sessions", "ls", "--json", "--match", f"{run}-*").json()
    assert sorted(row["session_id"] for row in listed) == [f"{run}-a", f"{run}-b"]
    shown = cli("sessions", "show", f"{run}-a", "--json").json()
    assert shown["items"] == 3 and shown["companion_keys"] == ["ops", "popped"]
    cli("sessions", "export", f"{run}-a", "-o", str(tmp_path / "a.jsonl"))
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 3
    cli("sessions", "stats", "--json")
    assert cli("sessions", "rm", f"{run}-a", "--yes", "--json").json()["deleted"] is True
    assert server.client().exists(f"{PREFIX}:{run}-a") == 0
    server.client().delete(f"{PREFIX}:{run}-b")
