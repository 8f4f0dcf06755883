"""README's ACL users at work: every store operation and CLI command as those users,
on Valkey and Redis 7.0, counted for RELIABILITY.md."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from conftest import create_acl_user
from openai_agents_session import RedisSession
from openai_agents_session.cli import main
from support import ServerProcess

from .kit import SCALE, Row

ROUNDS = 20 * SCALE
NAMES = {"valkey_server": "Valkey 9.1", "redis7_server": "Redis 7.0"}


@pytest.mark.parametrize("server_fixture", ["valkey_server", "redis7_server"])
async def test_the_documented_users_run_everything(
    server_fixture: str,
    request: pytest.FixtureRequest,
    record_row: Callable[[Row], None],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server: ServerProcess = request.getfixturevalue(server_fixture)
    app_user, app_password = create_acl_user(server.client(), "sessions-app")
    cli_user, cli_password = create_acl_user(server.client(), "sessions-cli")
    client = Redis(host=server.host, port=server.port, username=app_user, password=app_password)
    errors: Counter[str] = Counter()
    calls = 0
    run = uuid.uuid4().hex[:8]
    try:
        for number in range(ROUNDS):
            session = RedisSession(f"acl-{run}-{number}", client, ttl=600, max_items=50)
            for call in (
                session.add_items([{"n": 1}, {"n": 2}, {"n": 3}]),
                session.get_items(2),
                session.pop_item(),
                session._atomic_replace_items([{"summary": 1}]),
                session.clear_session(),
                session.add_items([{"n": 4}]),
            ):
                calls += 1
                try:
                    await call
                except Exception as error:
                    errors[type(error).__name__] += 1
    finally:
        await client.aclose()
    url = f"redis://{cli_user}:{cli_password}@{server.host}:{server.port}/0"
    commands = [
        ["sessions", "ls", "--json", "--match", f"acl-{run}-*"],
        ["sessions", "show", f"acl-{run}-0", "--json"],
        ["sessions", "export", f"acl-{run}-0", "-o", str(tmp_path / "out.jsonl")],
        ["sessions", "stats", "--json"],
        *(["sessions", "rm", f"acl-{run}-{n}", "--yes"] for n in range(ROUNDS)),
    ]
    for argv in commands:
        calls += 1
        code = await asyncio.to_thread(main, [*argv, "--redis-url", url])
        capsys.readouterr()
        if code != 0:
            errors[f"exit {code}"] += 1
    left = server.client().keys(f"openai_agents_session:acl-{run}-*")
    record_row(
        Row(
            f"ACL: README's users ({NAMES[server_fixture]})",
            "`sessions-app` and `sessions-cli` created exactly as README 'Redis permissions' "
            "writes them; every operation, then every CLI command (rm of each session)",
            calls,
            calls - sum(errors.values()),
            0,
            0,
            0,
            0,
            "errors: " + (str(dict(errors)) if errors else "none"),
        )
    )
    assert not errors, errors
    assert [k for k in left if b"\xff" not in k] == []  # only expiring operation logs remain
