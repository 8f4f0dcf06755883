"""Erasing one owner while the service keeps running, crashing half-way, and as the
README's ACL user: on Valkey, Redis 7.0 and a 3-primary cluster."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from conftest import create_acl_user
from openai_agents_session import OwnerIndex, RedisSession
from openai_agents_session.store.keys import owner_index_key
from openai_agents_session.store.oplog import WINDOW_MS
from support import ServerProcess

from .kit import Row

BACKENDS = {"valkey": "Valkey 9.1", "redis7": "Redis 7.0", "cluster": "3-primary Cluster"}

PREFIX = "openai_agents_session"


def item(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def leftovers(client: Any, session: RedisSession) -> dict[str, Any]:
    """What remains of an erased session: key name -> (type, ms left, fields)."""
    found = {}
    for name, key in (
        ("list", session.key),
        ("popped", session.popped_items_key),
        ("ops", session.operation_log_key),
        ("life", session.life_key),
    ):
        if await client.exists(key):
            fields = await client.hkeys(key) if name in ("popped", "life") else None
            found[name] = (await client.pttl(key), fields)
    return found


async def test_erase_one_owner_while_others_write_and_new_sessions_appear(
    client: Any, backend: str, record_row: Callable[[Row], None]
) -> None:
    run = uuid.uuid4().hex[:8]
    owners = [f"{run}-a", f"{run}-b", f"{run}-c"]
    # 200 sessions over 3 owners, spread over every primary's slots on the cluster.
    sessions = {
        f"{run}-s{n}": RedisSession(f"{run}-s{n}", client, owner=owners[n % 3], ttl=3600)
        for n in range(200)
    }
    history: dict[str, list[dict[str, Any]]] = {}
    for number, (session_id, session) in enumerate(sessions.items()):
        batch = [item(f"{session_id}-0"), item(f"{session_id}-1")]
        await session.add_items(batch)
        await session.pop_item()  # popped items are content an erase must delete too
        history[session_id] = batch[:1]
        assert number < 200
    erased_owner, kept_owners = owners[0], owners[1:]
    erased = [sid for sid, s in sessions.items() if s.owner == erased_owner]
    kept = [sid for sid, s in sessions.items() if s.owner in kept_owners]
    created_during: list[str] = []
    erase_done = asyncio.Event()

    writes = 0

    async def keep_writing() -> None:
        nonlocal writes
        round_ = 0
        while not erase_done.is_set() or round_ < 3:
            for session_id in kept:
                entry = item(f"{session_id}-w{round_}")
                await sessions[session_id].add_items([entry])
                history[session_id].append(entry)
                writes += 1
            round_ += 1

    async def keep_creating() -> None:
        # New sessions of the erased owner, and more writes to the ones already made
        # (objects that hold a registration the erase may have seen).
        made: list[RedisSession] = []
        number = 0
        while not erase_done.is_set() or number < 20:
            session_id = f"{run}-new{number}"
            created_during.append(session_id)
            made.append(RedisSession(session_id, client, owner=erased_owner, ttl=3600))
            await made[-1].add_items([item("hello")])
            for earlier in made[-8:]:
                await earlier.add_items([item("again")])
            number += 1

    async def erase() -> int:
        await asyncio.sleep(0.05)
        try:
            return await OwnerIndex(client).erase(erased_owner)
        finally:
            erase_done.set()

    _, _, count = await asyncio.wait_for(
        asyncio.gather(keep_writing(), keep_creating(), erase()), timeout=120
    )
    assert count >= len(erased)

    without_ttl = 0
    for session_id in erased:
        left = await leftovers(client, sessions[session_id])
        without_ttl += sum(1 for pttl, _ in left.values() if pttl < 0)
        assert set(left) <= {"ops", "life"}, (session_id, left)
        for name, (pttl, fields) in left.items():
            assert 0 < pttl <= WINDOW_MS, (session_id, name, pttl)
            if name == "life":
                assert fields == [b"erased"], (session_id, fields)

    lost = duplicated = 0
    for session_id in kept:
        stored = await RedisSession(session_id, client).get_items()
        lost += sum(1 for entry in history[session_id] if entry not in stored)
        duplicated += len(stored) - len({entry["content"] for entry in stored})
    record_row(
        Row(
            f"Owner erased during traffic ({BACKENDS[backend]})",
            f"`OwnerIndex.erase` of one of 3 owners (200 sessions) while other owners' "
            f"sessions are written and {len(created_during)} new sessions of the erased owner "
            "are created",
            writes + len(created_during),
            writes + len(created_during),
            lost,
            duplicated,
            0,
            without_ttl,
            f"erase returned {count}; erased sessions leave only content-free keys expiring "
            "within 2 min; every session created meanwhile is gone or listed",
        )
    )
    assert (lost, duplicated) == (0, 0)

    listed = set(await OwnerIndex(client).sessions(erased_owner))
    survivors = 0
    for session_id in created_during:
        exists = await client.exists(f"{PREFIX}:{session_id}")
        assert not exists or session_id in listed, session_id
        survivors += bool(exists)
    # Creation went on after the erase: some survive, and all of them are listed.
    assert survivors > 0
    assert listed <= set(created_during)
    for owner in kept_owners:
        assert len(await OwnerIndex(client).sessions(owner)) == len(
            [sid for sid in kept if sessions[sid].owner == owner]
        )
    # Clean up this run's sessions of the other owners and the new ones.
    for owner in owners:
        await OwnerIndex(client).erase(owner)


ERASER = textwrap.dedent(
    """
    import asyncio, sys
    from redis.asyncio import Redis
    import openai_agents_session.store.owners as owners
    from openai_agents_session import OwnerIndex

    real = owners.run_script
    calls = 0
    stuck = asyncio.Event()

    async def run_script(client, script, *args, **kwargs):
        global calls
        if script is owners.ERASE:
            calls += 1
            if calls > int(sys.argv[3]):
                print("half-way", flush=True)
                await stuck.wait()  # never set: the process is killed here
        return await real(client, script, *args, **kwargs)

    owners.run_script = run_script

    async def main():
        client = Redis.from_url(sys.argv[1])
        await OwnerIndex(client).erase(sys.argv[2])

    asyncio.run(main())
    """
)


async def test_an_erase_killed_half_way_finishes_when_run_again(
    valkey_server: ServerProcess, tmp_path: Path, record_row: Callable[[Row], None]
) -> None:
    client = Redis(host=valkey_server.host, port=valkey_server.port)
    owner = f"crash-{uuid.uuid4().hex[:8]}"
    ids = [f"{owner}-{n}" for n in range(300)]
    try:
        for session_id in ids:
            await RedisSession(session_id, client, owner=owner).add_items([item("x")])
        script = tmp_path / "eraser.py"
        script.write_text(ERASER, encoding="utf-8")
        url = f"redis://{valkey_server.host}:{valkey_server.port}/0"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            url,
            owner,
            "120",
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line.strip() == b"half-way"
            await asyncio.sleep(0.2)  # the other erases in flight land
            process.send_signal(signal.SIGKILL)
        finally:
            if process.returncode is None:
                process.kill()
            await asyncio.wait_for(process.wait(), 10)
        assert process.returncode == -signal.SIGKILL
        remaining = [sid for sid in ids if await client.exists(f"{PREFIX}:{sid}")]
        assert 0 < len(remaining) < len(ids), len(remaining)
        # The index was left whole: every entry is still there for the next run.
        assert await client.zcard(owner_index_key(PREFIX, owner)) == len(ids)

        erased_again = await OwnerIndex(client).erase(owner)
        record_row(
            Row(
                "Erase killed half-way (Valkey 9.1)",
                f"`kill -9` of a process erasing {len(ids)} sessions of one owner after 120 "
                "sessions, then the erase run again",
                len(ids),
                len(ids),
                0,
                0,
                0,
                0,
                f"{len(ids) - len(remaining)} erased before the kill, the index left whole; "
                f"the second run erased the other {erased_again}",
            )
        )
        assert erased_again == len(remaining)
        assert [sid for sid in ids if await client.exists(f"{PREFIX}:{sid}")] == []
        assert await client.exists(owner_index_key(PREFIX, owner)) == 0
        assert await OwnerIndex(client).sessions(owner) == []
    finally:
        await client.aclose()


@pytest.mark.parametrize("server_fixture", ["valkey_server", "redis7_server"])
async def test_the_readme_app_user_runs_the_whole_lifecycle(
    server_fixture: str, request: pytest.FixtureRequest
) -> None:
    server: ServerProcess = request.getfixturevalue(server_fixture)
    user, password = create_acl_user(server.client(), "sessions-app")
    client = Redis(host=server.host, port=server.port, username=user, password=password)
    owner = f"acl-{uuid.uuid4().hex[:8]}"
    try:
        session = RedisSession(f"{owner}-s", client, owner=owner, max_age=60, ttl=30)
        await session.add_items([item("a"), item("b")])
        await session.get_items()
        await session.pop_item()
        assert await session._atomic_replace_items([item("summary")])
        index = OwnerIndex(client)
        assert await index.sessions(owner) == [f"{owner}-s"]
        assert [pair async for pair in index.export(owner)] == [(f"{owner}-s", [item("summary")])]
        assert await index.erase(owner) == 1
        await session.add_items([item("again")])  # registers again, as the same user
        assert await index.sessions(owner) == [f"{owner}-s"]
        assert await index.erase(owner) == 1
    finally:
        await client.aclose()
