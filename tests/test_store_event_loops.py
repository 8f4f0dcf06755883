"""Clients and event loops: from_url sessions survive new loops; injected ones fail clearly."""

from __future__ import annotations

import asyncio
import threading

import pytest
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from support import ServerProcess


def test_from_url_session_works_across_event_loops(
    valkey_server: ServerProcess, session_id: str
) -> None:
    session = RedisSession.from_url(session_id, valkey_server.url, ttl=60)
    for turn in range(3):
        # Each asyncio.run is a new loop, as with repeated Runner.run_sync calls.
        asyncio.run(session.add_items([{"turn": turn}]))
    assert asyncio.run(session.get_items()) == [{"turn": 0}, {"turn": 1}, {"turn": 2}]

    async def finish() -> None:
        await session.clear_session()
        await session.close()

    asyncio.run(finish())


def test_runner_run_sync_repeatedly_with_one_session(
    valkey_server: ServerProcess, session_id: str
) -> None:
    from agents import Agent, Runner
    from agents.testing import ScriptedModel, assistant_message

    session = RedisSession.from_url(session_id, valkey_server.url)
    model = ScriptedModel(
        [[assistant_message("first answer")], [assistant_message("second answer")]]
    )
    agent = Agent(name="assistant", model=model)
    Runner.run_sync(agent, "hello", session=session)
    result = Runner.run_sync(agent, "again", session=session)
    assert result.final_output == "second answer"
    history = asyncio.run(session.get_items())
    assert [item.get("content") for item in history if item.get("role") == "user"] == [
        "hello",
        "again",
    ]
    asyncio.run(session.close())


def test_injected_client_on_another_loop_fails_clearly_without_hanging(
    valkey_server: ServerProcess, session_id: str
) -> None:
    client = Redis(host=valkey_server.host, port=valkey_server.port)
    session = RedisSession(session_id, client)
    asyncio.run(session.add_items([{"n": 1}]))
    with pytest.raises(RuntimeError, match="belongs to another event loop"):
        asyncio.run(asyncio.wait_for(session.get_items(), timeout=5))


def test_injected_client_used_from_a_loop_still_running_elsewhere(
    valkey_server: ServerProcess, session_id: str
) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        client = Redis(host=valkey_server.host, port=valkey_server.port)
        session = RedisSession(session_id, client)
        asyncio.run_coroutine_threadsafe(session.add_items([{"n": 1}]), loop).result(5)
        with pytest.raises(RuntimeError, match="another event loop"):
            asyncio.run(asyncio.wait_for(session.get_items(), timeout=5))
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def test_close_on_injected_client_leaves_it_open(
    valkey_client: Redis, session_id: str
) -> None:
    async with RedisSession(session_id, valkey_client) as session:
        await session.add_items([{"n": 1}])
    assert await valkey_client.ping()
    assert await session.get_items() == [{"n": 1}]


async def test_closed_owned_session_refuses_work(
    valkey_server: ServerProcess, session_id: str
) -> None:
    session = RedisSession.from_url(session_id, valkey_server.url)
    async with session:
        await session.add_items([{"n": 1}])
    with pytest.raises(RuntimeError, match="is closed"):
        await session.get_items()
