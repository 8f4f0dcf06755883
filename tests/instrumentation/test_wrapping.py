"""instrument() wraps any session transparently; @instrumented does the same per class."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from agents.memory import SessionABC, SessionSettings
from agents.memory.session import _session_accepts_wrapper
from agents.run_context import RunContextWrapper
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import InstrumentedSession, RedisSession, instrument, instrumented

from .conftest import sample


class PlainSession(SessionABC):
    """A session with the protocol's original signatures (no ``wrapper``)."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.session_settings = SessionSettings()
        self.items: list[Any] = []

    async def get_items(self, limit: int | None = None) -> list[Any]:
        return list(self.items) if limit is None else self.items[-limit:] if limit > 0 else []

    async def add_items(self, items: list[Any]) -> None:
        self.items.extend(items)

    async def pop_item(self) -> Any:
        return self.items.pop() if self.items else None

    async def clear_session(self) -> None:
        self.items.clear()


class ContextAwareSession(PlainSession):
    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.wrappers: list[Any] = []

    async def get_items(self, limit: int | None = None, *, wrapper: Any = None) -> list[Any]:
        self.wrappers.append(wrapper)
        return await super().get_items(limit)

    async def add_items(self, items: list[Any], *, wrapper: Any = None) -> None:
        self.wrappers.append(wrapper)
        await super().add_items(items)

    async def pop_item(self, *, wrapper: Any = None) -> Any:
        self.wrappers.append(wrapper)
        return await super().pop_item()

    async def clear_session(self, *, wrapper: Any = None) -> None:
        self.wrappers.append(wrapper)
        await super().clear_session()


def test_wrapper_keyword_declared_exactly_when_the_inner_session_takes_it(
    registry: CollectorRegistry,
) -> None:
    assert not _session_accepts_wrapper(instrument(PlainSession("a"), registry=registry))
    assert _session_accepts_wrapper(instrument(ContextAwareSession("b"), registry=registry))
    assert _session_accepts_wrapper(instrument(RedisSession("c", Redis()), registry=registry))


async def test_wrapper_is_forwarded_to_context_aware_sessions(registry: CollectorRegistry) -> None:
    inner = ContextAwareSession("s")
    session = instrument(inner, registry=registry)
    wrapper = RunContextWrapper(context={"tenant": "t1"})
    await session.add_items([{"a": 1}], wrapper=wrapper)
    await session.get_items(wrapper=wrapper)
    await session.pop_item(wrapper=wrapper)
    await session.clear_session(wrapper=wrapper)
    assert inner.wrappers == [wrapper] * 4


async def test_results_and_identity_pass_through(registry: CollectorRegistry) -> None:
    inner = PlainSession("user-9")
    session = instrument(inner, registry=registry)
    assert isinstance(session, InstrumentedSession)
    assert isinstance(session, SessionABC)
    assert session.session_id == "user-9"
    assert session.session_settings is inner.session_settings
    session.session_settings = SessionSettings(limit=3)
    assert inner.session_settings == SessionSettings(limit=3)
    await session.add_items([{"a": 1}, {"b": 2}])
    assert await session.get_items(1) == [{"b": 2}]
    assert session.items is inner.items  # other attributes come from the inner session


async def test_wrapping_twice_is_harmless(registry: CollectorRegistry) -> None:
    once = instrument(PlainSession("s"), registry=registry)
    twice = instrument(once, registry=registry)
    assert twice is once
    await twice.add_items([{"a": 1}])
    assert (
        sample(
            registry, "openai_agents_session_operations_total", operation="add_items", outcome="ok"
        )
        == 1
    )


def test_instrument_rejects_non_sessions() -> None:
    with pytest.raises(TypeError, match="has no get_items"):
        instrument(object())


async def test_sdk_redis_session_and_encrypted_session_are_instrumented(
    valkey_client: Redis,
    session_id: str,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
) -> None:
    from agents.extensions.memory import EncryptedSession
    from agents.extensions.memory import RedisSession as SdkRedisSession

    sdk = SdkRedisSession(session_id, redis_client=valkey_client, ttl=60)
    encrypted = EncryptedSession(session_id, RedisSession(session_id, valkey_client), "k" * 32)
    for inner in (sdk, encrypted):
        session = instrument(inner, tracer_provider=provider, registry=registry)
        await session.add_items([{"role": "user", "content": "secret"}])
        assert await session.get_items() == [{"role": "user", "content": "secret"}]
        await session.clear_session()
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [
        "add_items RedisSession",
        "get_items RedisSession",
        "clear_session RedisSession",
        # Named after the session that was instrumented; the store beneath it still
        # describes the database.
        "add_items EncryptedSession",
        "get_items EncryptedSession",
        "clear_session EncryptedSession",
    ]
    encrypted_add = dict(spans[3].attributes or {})
    assert encrypted_add["db.system.name"] == "redis"
    assert encrypted_add["db.namespace"] == "openai_agents_session"
    assert encrypted_add["server.address"] == "127.0.0.1"
    assert sample(registry, "openai_agents_session_items_total", operation="get_items") == 2


async def test_class_decorator_instruments_every_instance(
    provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    @instrumented(tracer_provider=provider, registry=registry)
    class MySession(ContextAwareSession):
        """A user's own session."""

    first, second = MySession("one"), MySession("two")
    await first.add_items([{"a": 1}])
    await second.add_items([{"b": 2}, {"c": 3}])
    assert await second.get_items() == [{"b": 2}, {"c": 3}]
    assert MySession.__name__ == "MySession" and MySession.__doc__ == "A user's own session."
    assert "wrapper" in inspect.signature(first.get_items).parameters
    assert _session_accepts_wrapper(first)
    assert [s.name for s in exporter.get_finished_spans()] == [
        "add_items MySession",
        "add_items MySession",
        "get_items MySession",
    ]
    assert sample(registry, "openai_agents_session_items_total", operation="add_items") == 3
    assert instrument(first) is first  # already instrumented by its class


def test_many_sessions_share_one_registry_without_duplicates(registry: CollectorRegistry) -> None:
    sessions = [instrument(PlainSession(f"s{n}"), registry=registry) for n in range(50)]
    assert len(sessions) == 50
    other = CollectorRegistry()
    instrument(PlainSession("x"), registry=other)  # a second registry gets its own collectors
    instrument(PlainSession("y"))  # the global registry too
    instrument(PlainSession("z"))


def test_conflicting_label_names_on_one_registry_are_explained(registry: CollectorRegistry) -> None:
    instrument(PlainSession("a"), registry=registry, labels={"tenant": "none"})
    with pytest.raises(ValueError, match="same label names"):
        instrument(PlainSession("b"), registry=registry, labels={"region": "eu"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"session_id_mode": "clear"}, "session_id_mode must be one of"),
        ({"slow_threshold_seconds": 0}, "slow_threshold_seconds must be a positive number"),
        ({"labels": {"operation": "x"}}, "label name 'operation' is not allowed"),
        ({"labels": {"bad-name": "x"}}, "label name 'bad-name'"),
        ({"labels_from_context": lambda w: {}}, "labels_from_context needs `labels`"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        instrument(PlainSession("a"), registry=CollectorRegistry(), **options)


async def test_labels_from_the_run_context(registry: CollectorRegistry) -> None:
    session = instrument(
        ContextAwareSession("s"),
        registry=registry,
        labels={"tenant": "unknown"},
        labels_from_context=lambda wrapper: {"tenant": wrapper.context["tenant"]},
    )
    await session.add_items([{"a": 1}], wrapper=RunContextWrapper(context={"tenant": "acme"}))
    await session.add_items([{"a": 1}])
    labels = {"operation": "add_items", "outcome": "ok"}
    assert sample(registry, "openai_agents_session_operations_total", tenant="acme", **labels) == 1
    assert (
        sample(registry, "openai_agents_session_operations_total", tenant="unknown", **labels) == 1
    )


def test_counts_are_exact_when_sessions_run_on_several_threads(
    registry: CollectorRegistry,
) -> None:
    """One registry, four event loops on four threads: no update lost."""
    import asyncio
    import threading

    async def work(session: Any) -> None:
        for _ in range(500):
            await session.add_items([{"a": 1}, {"b": 2}])

    threads = [
        threading.Thread(
            target=asyncio.run, args=(work(instrument(PlainSession(f"t{n}"), registry=registry)),)
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    labels = {"operation": "add_items"}
    assert (
        sample(registry, "openai_agents_session_operations_total", outcome="ok", **labels) == 2000
    )
    assert sample(registry, "openai_agents_session_items_total", **labels) == 4000
    assert (
        sample(registry, "openai_agents_session_operation_duration_seconds_count", **labels) == 2000
    )
