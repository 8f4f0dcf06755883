"""The SDK's compaction hooks on RedisSession: history replaced in one script.

End to end: ``OpenAIResponsesCompactionSession`` over our store, driven by
``Runner.run`` with the SDK's ``ScriptedModel`` and an offline stand-in for the
OpenAI client's ``responses.compact``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from agents import Agent, Runner
from agents.memory import OpenAIResponsesCompactionSession
from agents.testing import ScriptedModel, assistant_message
from redis.asyncio import Redis

from openai_agents_session import RedisSession, StoreEvent
from openai_agents_session.store.codec import encode_items
from openai_agents_session.store.scripts import REPLACE

SUMMARY = {
    "type": "message",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "summary"}],
}


class Events:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)


class OfflineCompactor:
    """Stands in for ``AsyncOpenAI``: ``client.responses.compact(...)`` returns a summary."""

    def __init__(self, during: Callable[[], Awaitable[None]] | None = None) -> None:
        self.responses = self
        self.calls: list[dict[str, Any]] = []
        self.during = during

    async def compact(self, **request: Any) -> Any:
        self.calls.append(request)
        if self.during is not None:
            await self.during()
        return SimpleNamespace(output=[SUMMARY], usage=None)


def compaction_session(store: RedisSession, compactor: OfflineCompactor) -> Any:
    return OpenAIResponsesCompactionSession(
        store.session_id,
        store,
        client=compactor,  # type: ignore[arg-type]
        compaction_mode="input",
        should_trigger_compaction=lambda context: True,
    )


def agent(*replies: str) -> Agent[Any]:
    return Agent(name="assistant", model=ScriptedModel([[assistant_message(r)] for r in replies]))


async def test_a_run_compacts_history_in_one_command(valkey_client: Redis, session_id: str) -> None:
    observed = Events()
    store = RedisSession(session_id, valkey_client, ttl=600, observer=observed)
    compactor = OfflineCompactor()
    session = compaction_session(store, compactor)
    bot = agent("first answer", "second answer")
    await Runner.run(bot, "hello", session=session)
    observed.events.clear()

    await Runner.run(bot, "and again", session=session)

    assert len(compactor.calls) == 2
    assert await store.get_items() == [SUMMARY]
    operations = [event.operation for event in observed.events]
    assert "clear_session" not in operations
    replaced = [event for event in observed.events if event.operation == "replace_items"]
    assert len(replaced) == 1
    assert (replaced[0].items, replaced[0].session_length, replaced[0].round_trips) == (1, 1, 1)
    assert 0 < await valkey_client.pttl(store.key) <= 600_000


async def test_a_write_during_compaction_is_never_lost(
    valkey_client: Redis, session_id: str
) -> None:
    # Another process writes to the session while the compaction request is out.
    other_process = RedisSession(session_id, valkey_client, ttl=600)
    late = {"role": "user", "content": "written while compacting"}
    store = RedisSession(session_id, valkey_client, ttl=600)
    session = compaction_session(store, OfflineCompactor(lambda: other_process.add_items([late])))

    await Runner.run(agent("answer"), "hello", session=session)

    items = await store.get_items()
    assert items[-1] == late and SUMMARY not in items
    assert [item.get("content") for item in items[:1]] == ["hello"]


async def test_manual_compaction_replaces_the_whole_history_atomically(
    valkey_client: Redis, session_id: str
) -> None:
    observed = Events()
    store = RedisSession(session_id, valkey_client, ttl=600, observer=observed)
    await store.add_items([{"role": "user", "content": f"m{n}"} for n in range(12)])
    session = compaction_session(store, OfflineCompactor())

    await session.run_compaction({"force": True})

    assert await store.get_items() == [SUMMARY]
    assert [e.operation for e in observed.events if e.operation != "get_items"][-1:] == [
        "replace_items"
    ]


async def test_replacement_honours_max_items_and_ttl(valkey_client: Redis, session_id: str) -> None:
    store = RedisSession(session_id, valkey_client, ttl=60, max_items=2)
    await store.add_items([{"n": 0}, {"n": 1}])
    await valkey_client.persist(store.key)
    assert await store._atomic_replace_items([{"r": n} for n in range(5)])
    assert await store.get_items() == [{"r": 3}, {"r": 4}]
    assert 0 < await valkey_client.pttl(store.key) <= 60_000


async def test_a_snapshot_replacement_refuses_a_changed_tail(
    valkey_client: Redis, session_id: str
) -> None:
    store = RedisSession(session_id, valkey_client, ttl=60)
    await store.add_items([{"n": 0}, {"n": 1}, {"n": 2}])
    snapshot = await store._get_compaction_snapshot(2)
    assert snapshot is not None and not snapshot.complete
    assert snapshot.items == [{"n": 1}, {"n": 2}]
    await store.pop_item()
    await store.add_items([{"n": "other"}])
    assert not await snapshot.replace_suffix(0, [SUMMARY])
    assert await store.get_items() == [{"n": 0}, {"n": 1}, {"n": "other"}]
    fresh = await store._get_compaction_snapshot(10)
    assert fresh is not None and fresh.complete
    assert await fresh.replace_suffix(1, [SUMMARY])
    assert await store.get_items() == [{"n": 0}, SUMMARY]


async def test_a_resent_replacement_is_not_applied_twice(
    valkey_client: Redis, session_id: str
) -> None:
    store = RedisSession(session_id, valkey_client, ttl=60)
    await store.add_items([{"n": 0}])
    call = ("feedfacefeedface", 60_000, 0, -1, *encode_items([SUMMARY]))
    first, _ = await store._execute(REPLACE, *call)
    await store.add_items([{"n": "after"}])
    copy, _ = await store._execute(REPLACE, *call)  # a late copy
    assert first.replaced and copy.replaced and copy.replayed
    assert await store.get_items() == [SUMMARY, {"n": "after"}]


async def test_subclasses_do_not_inherit_the_hooks(valkey_client: Redis, session_id: str) -> None:
    class Transforming(RedisSession):
        pass

    store = Transforming(session_id, valkey_client)
    assert await store._get_compaction_snapshot(5) is None
    assert await store._atomic_replace_items([SUMMARY]) is False
