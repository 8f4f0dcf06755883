"""Around our own RedisSession the wrapper takes a shorter path: it must say the same.

The short path calls the store's private operations and reports their events itself;
any other session (including a RedisSession subclass that overrides an operation)
goes through the general path. Both must give the same metrics, and the store's
observer and outer event collectors must see every event either way.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument
from openai_agents_session.events import StoreEvent, collect_store_events

PREFIX = "openai_agents_session_"


class Overriding(RedisSession):
    """Overrides every operation (and counts the calls): the general path must be taken."""

    calls = 0

    async def get_items(self, limit: int | None = None, *, wrapper: Any = None) -> Any:
        Overriding.calls += 1
        return await super().get_items(limit, wrapper=wrapper)

    async def add_items(self, items: Any, *, wrapper: Any = None) -> None:
        Overriding.calls += 1
        await super().add_items(items, wrapper=wrapper)

    async def pop_item(self, *, wrapper: Any = None) -> Any:
        Overriding.calls += 1
        return await super().pop_item(wrapper=wrapper)

    async def clear_session(self, *, wrapper: Any = None) -> None:
        Overriding.calls += 1
        await super().clear_session(wrapper=wrapper)


class Recorder:
    def __init__(self) -> None:
        self.events: list[StoreEvent] = []

    def on_store_event(self, event: StoreEvent) -> None:
        self.events.append(event)


async def _workload(session: Any, client: Redis) -> list[Any]:
    results: list[Any] = []
    await session.add_items([{"n": 1}, {"n": 2}, {"n": 3}])
    await session.add_items([])
    await client.rpush(session.key, b"not json")
    await session.add_items([{"n": 4}])
    results.append(await session.get_items())
    results.append(await session.get_items(2))
    results.append(await session.get_items(0))
    results.append(await session.pop_item())
    results.append(await session.pop_item())
    await session.clear_session()
    results.append(await session.pop_item())
    return results


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every session sample except durations (which differ from run to run)."""
    found = {}
    for family in registry.collect():
        for sample in family.samples:
            if "duration" in sample.name or sample.name.endswith("_created"):
                continue
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_both_paths_count_the_same_and_reach_observers(
    valkey_client: Redis, session_id: str
) -> None:
    outcomes = {}
    for kind in (RedisSession, Overriding):
        registry = CollectorRegistry()
        recorder = Recorder()
        store = kind(f"{session_id}-{kind.__name__}", valkey_client, ttl=60, observer=recorder)
        session = instrument(store, registry=registry, slow_threshold_seconds=30.0)
        with collect_store_events() as outer:
            results = await _workload(session, valkey_client)
        # The empty write reports nothing; every other call reports one event.
        operations = [event.operation for event in recorder.events]
        assert operations == [
            "add_items", "add_items", "get_items", "get_items", "get_items",
            "pop_item", "pop_item", "clear_session", "pop_item",
        ]  # fmt: skip
        assert [e.operation for e in outer] == operations
        outcomes[kind.__name__] = (results, _samples(registry), recorder.events)
    assert Overriding.calls == 10  # the overrides ran: the general path was taken
    plain_results, plain_samples, plain_events = outcomes["RedisSession"]
    other_results, other_samples, other_events = outcomes["Overriding"]
    assert plain_results == other_results
    assert plain_samples == other_samples
    assert [(e.items, e.corrupt_skipped, e.session_length) for e in plain_events] == [
        (e.items, e.corrupt_skipped, e.session_length) for e in other_events
    ]
    assert plain_samples[(PREFIX + "corrupt_items_total", (("operation", "get_items"),))] == 2
    assert plain_samples[(PREFIX + "items_total", (("operation", "add_items"),))] == 4
