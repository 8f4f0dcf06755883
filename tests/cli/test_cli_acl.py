"""Every ``sessions`` command through README's operator user, on Valkey and Redis 7.0,
and ``rm`` keeping ``clear_session``'s guarantee."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from openai_agents_session import RedisSession
from openai_agents_session.store.keys import owner_index_key
from support import ServerProcess
from support.acl import acl_rules, create_acl_user

from .conftest import messages, run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
PREFIX = "openai_agents_session"  # the prefix README's rule names


@pytest.fixture(params=["valkey_server", "redis7_server"])
def server(request: pytest.FixtureRequest) -> ServerProcess:
    running: ServerProcess = request.getfixturevalue(request.param)
    return running


def write(url: str, session_id: str, items: list[Any], **options: Any) -> None:
    async def add() -> None:
        async with RedisSession.from_url(session_id, url, ttl=600, **options) as session:
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


def refusals(server: ServerProcess, user: str) -> list[str]:
    """Commands the server refused ``user`` since the log was reset (ACL LOG)."""
    found = server.client(decode_responses=True).acl_log()
    # redis-py names its connection on connect and ignores a refusal (README says so).
    return [
        entry["object"]
        for entry in found
        if entry["username"] == user and entry["object"] != "client|setinfo"
    ]


def test_every_owner_command_runs_as_the_documented_operator_user(
    server: ServerProcess, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    admin = server.client()
    user, password = create_acl_user(admin, acl_rules(README), "sessions-cli")
    url = f"redis://{user}:{password}@{server.host}:{server.port}/0"
    run = uuid.uuid4().hex[:8]
    owner = f"owner-{run}"
    write(server.url, f"{run}-a", messages(3), owner=owner, max_age=3600)
    write(server.url, f"{run}-b", messages(1), owner=owner)
    # An id whose session ended long ago: listing the owner drops it with a script.
    seconds, _ = admin.time()
    index = owner_index_key(PREFIX, owner)
    admin.zadd(index, {f"{run}-gone": (seconds - 3600) * 1000})
    admin.execute_command("ACL", "LOG", "RESET")

    def cli(*argv: str) -> Any:
        result = run_cli(capsys, [*argv, "--redis-url", url, "--key-prefix", PREFIX])
        assert result.code == 0, f"{argv}: {result.err}"
        return result

    listed = cli("sessions", "ls", "--owner", owner, "--json").json()
    assert sorted(row["session_id"] for row in listed) == [f"{run}-a", f"{run}-b"]
    assert admin.zscore(index, f"{run}-gone") is None
    assert cli("sessions", "show", f"{run}-a", "--json").json()["age_seconds"] is not None
    cli("sessions", "export", "--owner", owner, str(tmp_path / "owner.jsonl"))
    assert len((tmp_path / "owner.jsonl").read_text().splitlines()) == 2
    assert cli("sessions", "rm", "--owner", owner, "--dry-run", "--json").json()["erased"] == 0
    assert cli("sessions", "rm", "--owner", owner, "--yes", "--json").json()["erased"] == 2
    assert admin.exists(f"{PREFIX}:{run}-a", f"{PREFIX}:{run}-b", index) == 0
    assert refusals(server, user) == []


def test_a_missing_grant_names_the_refused_command_and_the_readme_rule(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = server.client()
    user, password = create_acl_user(admin, acl_rules(README), "sessions-cli", "-zrem")
    url = f"redis://{user}:{password}@{server.host}:{server.port}/0"
    run = uuid.uuid4().hex[:8]
    owner = f"owner-{run}"
    write(server.url, f"{run}-a", messages(2), owner=owner)

    result = run_cli(
        capsys,
        ["sessions", "rm", "--owner", owner, "--yes", "--redis-url", url, "--key-prefix", PREFIX],
    )

    assert result.code == 2
    assert "may not run this command" in result.err
    # Redis 7.0 does not name a command refused inside a script: the store's list does.
    assert "+zrem" in result.err
    assert "sessions-cli" in result.err
    assert password not in result.err
    admin.delete(f"{PREFIX}:{run}-a", owner_index_key(PREFIX, owner))
