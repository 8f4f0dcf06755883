"""The SDK's compaction hooks pass through the wrapper exactly when the inner session has them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from agents import SQLiteSession
from agents.extensions.memory import RedisSession as SdkRedisSession
from agents.memory import OpenAIResponsesCompactionSession
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import instrument

from .conftest import sample
from .test_wrapping import PlainSession

OPS = "openai_agents_session_operations_total"
SUMMARY = {"type": "message", "role": "user", "content": "summary of 12 turns"}


class OfflineCompaction:
    """Stands in for the OpenAI client: ``responses.compact`` answers one summary item."""

    def __init__(self) -> None:
        self.responses = SimpleNamespace(compact=self._compact)
        self.calls = 0

    async def _compact(self, **_: Any) -> Any:
        self.calls += 1
        return SimpleNamespace(output=[SUMMARY], usage=None)


def _history(turns: int) -> list[Any]:
    return [{"role": "user", "content": f"question {n}"} for n in range(turns)]


def test_hooks_are_offered_exactly_when_the_inner_session_has_them(
    valkey_client: Redis, registry: CollectorRegistry
) -> None:
    plain = instrument(PlainSession("p"), registry=registry)
    sqlite = instrument(SQLiteSession("s"), registry=registry)
    sdk_redis = instrument(SdkRedisSession("r", redis_client=valkey_client), registry=registry)
    assert not hasattr(type(plain), "_atomic_replace_items")
    assert not hasattr(plain, "_get_compaction_snapshot")
    assert not hasattr(type(sqlite), "_atomic_replace_items")
    assert callable(sqlite._get_compaction_snapshot)
    assert callable(type(sdk_redis)._atomic_replace_items)
    assert not hasattr(
        type(instrument(PlainSession("q"), registry=registry)), "_atomic_replace_items"
    )


async def test_compaction_over_an_atomic_store_is_one_replacement(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    store = SdkRedisSession(session_id, redis_client=valkey_client, ttl=60)
    session = instrument(store, registry=registry)
    await session.add_items(_history(12))
    client = OfflineCompaction()
    compaction = OpenAIResponsesCompactionSession(session_id, session, client=client)  # type: ignore[arg-type]
    await compaction.run_compaction({"force": True, "compaction_mode": "input"})
    assert client.calls == 1
    assert await store.get_items() == [SUMMARY]
    assert sample(registry, OPS, operation="replace_items", outcome="ok") == 1
    assert sample(registry, "openai_agents_session_items_total", operation="replace_items") == 1
    assert sample(registry, OPS, operation="clear_session", outcome="ok") == 0
    await store.clear_session()


async def test_compaction_over_a_store_without_hooks_clears_then_adds(
    registry: CollectorRegistry,
) -> None:
    session = instrument(PlainSession("plain"), registry=registry)
    await session.add_items(_history(12))
    compaction = OpenAIResponsesCompactionSession("plain", session, client=OfflineCompaction())  # type: ignore[arg-type]
    await compaction.run_compaction({"force": True, "compaction_mode": "input"})
    assert await session.get_items() == [SUMMARY]
    assert sample(registry, OPS, operation="clear_session", outcome="ok") == 1
    assert sample(registry, OPS, operation="replace_items", outcome="ok") == 0


async def test_a_snapshot_replacement_is_recorded_as_replace_items(
    registry: CollectorRegistry,
) -> None:
    inner = SQLiteSession("snapshot")
    session = instrument(inner, registry=registry)
    await session.add_items(_history(6))
    snapshot = await session._get_compaction_snapshot(4)
    assert snapshot is not None and len(snapshot.items) == 4 and not snapshot.complete
    assert await snapshot.replace_suffix(0, [SUMMARY]) is True
    assert await inner.get_items() == [*_history(2), SUMMARY]
    assert sample(registry, OPS, operation="replace_items", outcome="ok") == 1
    assert sample(registry, "openai_agents_session_items_total", operation="replace_items") == 1


async def test_a_run_over_our_instrumented_store_compacts_in_one_recorded_replacement(
    valkey_client: Redis, session_id: str, registry: CollectorRegistry
) -> None:
    from agents import Agent, Runner
    from agents.testing import ScriptedModel, assistant_message

    from openai_agents_session import RedisSession

    store = RedisSession(session_id, valkey_client, ttl=600)
    session = instrument(store, registry=registry)
    assert callable(type(session)._atomic_replace_items)
    assert callable(session._get_compaction_snapshot)
    compaction = OpenAIResponsesCompactionSession(
        session_id,
        session,
        client=OfflineCompaction(),  # type: ignore[arg-type]
        compaction_mode="input",
        should_trigger_compaction=lambda context: True,
    )
    model = ScriptedModel([[assistant_message("first")], [assistant_message("second")]])
    bot = Agent(name="assistant", model=model)
    await Runner.run(bot, "hello", session=compaction)
    await Runner.run(bot, "and again", session=compaction)

    assert await store.get_items() == [SUMMARY]
    assert sample(registry, OPS, operation="replace_items", outcome="ok") == 2
    assert sample(registry, OPS, operation="clear_session", outcome="ok") == 0
    assert (
        sample(registry, "openai_agents_session_session_items_sum", operation="replace_items") == 2
    )
