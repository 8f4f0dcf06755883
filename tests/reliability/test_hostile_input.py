"""Hostile input: over 10,000 generated inputs, only documented errors, nothing partial.

Each hypothesis example is a batch of ~50 inputs against a few sessions with
awkward ids, run on one event loop: batches of every JSON-ish and non-JSON shape,
limits of every type, elements written behind the store's back, keys of the wrong
Redis type, constructor arguments of every kind. After every input the touched
session must equal the model (``hostile.py``); after every example no other key
may have changed, every key must carry its TTL, and telemetry must have counted
each call exactly once without failing itself or leaking raw session ids.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from structlog.testing import LogCapture

from openai_agents_session import RedisSession, SessionKeyTypeError, instrument
from openai_agents_session.store.keys import operation_log_key, popped_items_key
from support import ServerProcess

from . import hostile
from .kit import SCALE, Row, metric_total

DOCUMENTED = (TypeError, ValueError, SessionKeyTypeError)
EXAMPLES = 200 * SCALE
TTL = 3600


class Fuzz:
    """Runs generated cases against the store and checks each against the model."""

    def __init__(self, server: ServerProcess) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = Redis(host=server.host, port=server.port)
        self.admin = server.client()
        self.run = uuid.uuid4().hex[:8]
        self.example = 0
        self.registry = CollectorRegistry()
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.logs = LogCapture()
        self.logger = structlog.wrap_logger(
            structlog.PrintLogger(),
            processors=[self.logs],
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        )
        self.inputs = self.calls = self.failed_calls = 0

    def delete_all(self) -> None:
        for key in self.admin.scan_iter(match=f"*fuzz-{self.run}*", count=1000):
            self.admin.delete(key)

    def close(self) -> None:
        self.delete_all()
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.provider.shutdown()

    def wrap(self, store: RedisSession) -> Any:
        return instrument(
            store, tracer_provider=self.provider, registry=self.registry, logger=self.logger
        )

    async def call(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> tuple[bool, Any]:
        """(True, result) or (False, documented error); anything else fails the test."""
        self.calls += 1
        try:
            return True, await make()
        except DOCUMENTED as error:
            self.failed_calls += 1
            return False, error

    def run_example(self, session_ids: list[str], cases: list[Any]) -> None:
        self.example += 1
        # One prefix for every example (so the store's slot cache helps with odd
        # ids); each example starts from an empty keyspace instead.
        prefix = f"fuzz-{self.run}"
        self.delete_all()
        # A failed example (hypothesis replays them while shrinking) leaves its spans.
        self.exporter.clear()
        self.logs.entries.clear()
        stores = [RedisSession(sid, self.client, key_prefix=prefix, ttl=TTL) for sid in session_ids]
        model: list[list[bytes]] = [[] for _ in stores]
        calls_before = self.calls
        self.loop.run_until_complete(self._apply_all(cases, stores, model, prefix))
        self._check_keyspace(prefix, stores, model)
        self._check_telemetry(session_ids, self.calls - calls_before)

    async def _apply_all(
        self, cases: list[Any], stores: list[RedisSession], model: list[list[bytes]], prefix: str
    ) -> None:
        sessions = [self.wrap(store) for store in stores]
        for number, case in enumerate(cases):
            if isinstance(case, hostile.Construct):
                await self._construct(case, f"{prefix}-c")
            elif isinstance(case, hostile.WrongType):
                await self._wrong_type(case, f"{prefix}:wt-{number}", prefix, number)
            else:
                await self._session_case(case, stores[case.session], sessions[case.session],
                                         model[case.session])  # fmt: skip

    async def _session_case(
        self, case: Any, store: RedisSession, session: Any, stored: list[bytes]
    ) -> None:
        self.inputs += 1
        if isinstance(case, hostile.Add):
            expected = hostile.expected_batch(case.batch)
            ok, result = await self.call(lambda: session.add_items(case.batch))
            if isinstance(expected, list):
                assert ok, f"add_items refused a storable batch: {result!r:.300}"
                stored.extend(expected)
            else:
                assert not ok and isinstance(result, expected), f"{result!r:.300}"
        elif isinstance(case, hostile.Get):
            ok, result = await self.call(lambda: session.get_items(case.limit))
            valid_limit = case.limit is None or (
                isinstance(case.limit, int) and not isinstance(case.limit, bool)
            )
            if valid_limit:
                assert ok, f"get_items({case.limit!r}) raised {result!r:.300}"
                assert result == hostile.expected_read(stored, case.limit)
            else:
                assert not ok and isinstance(result, TypeError)
        elif isinstance(case, hostile.Pop):
            ok, result = await self.call(session.pop_item)
            assert ok and result == hostile.expected_pop(stored), f"{result!r:.300}"
        elif isinstance(case, hostile.Clear):
            ok, result = await self.call(session.clear_session)
            assert ok, f"{result!r:.300}"
            stored.clear()
        elif isinstance(case, hostile.Corrupt):
            self.admin.rpush(store.key, *case.raws)
            self.admin.pexpire(store.key, TTL * 1000)
            stored.extend(case.raws)
        # No partial write, ever: the session holds exactly what the model says.
        assert self.admin.lrange(store.key, 0, -1) == stored

    async def _wrong_type(self, case: hostile.WrongType, key: str, prefix: str, n: int) -> None:
        store = RedisSession(f"wt-{n}", self.client, key_prefix=prefix, ttl=TTL)
        assert store.key == key
        create = {
            "string": lambda: self.admin.set(key, "not a list"),
            "hash": lambda: self.admin.hset(key, "field", "value"),
            "set": lambda: self.admin.sadd(key, "member"),
            "zset": lambda: self.admin.zadd(key, {"member": 1.0}),
        }[case.kind]
        create()
        self.admin.pexpire(key, TTL * 1000)
        before = self.admin.dump(key)
        session = self.wrap(store)
        for operation in (
            session.get_items,
            lambda: session.add_items([{"a": 1}]),
            session.pop_item,
            session.clear_session,
        ):
            self.inputs += 1
            ok, result = await self.call(operation)
            assert not ok and isinstance(result, SessionKeyTypeError), f"{result!r:.300}"
        assert self.admin.dump(key) == before, "a key of another type was changed"
        self.admin.delete(key, operation_log_key(key), popped_items_key(key))

    async def _construct(self, case: hostile.Construct, prefix: str) -> None:
        self.inputs += 1
        try:
            store = RedisSession(case.session_id, self.client, key_prefix=prefix, **case.options)
        except (TypeError, ValueError):
            return
        session = self.wrap(store)
        ok, result = await self.call(lambda: session.add_items([{"probe": 1}]))
        read_ok, items = await self.call(session.get_items)
        assert read_ok and items == ([{"probe": 1}] if ok else []), f"{result!r:.300}"
        cleared, _ = await self.call(session.clear_session)
        assert cleared and self.admin.exists(store.key) == 0

    def _check_keyspace(
        self, prefix: str, stores: list[RedisSession], model: list[list[bytes]]
    ) -> None:
        allowed: set[bytes] = set()
        for store, stored in zip(stores, model, strict=True):
            assert self.admin.lrange(store.key, 0, -1) == stored, "another session was touched"
            allowed.add(store.key.encode())
            allowed.add(store.operation_log_key)
            allowed.add(store.popped_items_key)
        for key in self.admin.scan_iter(match=f"*{prefix}:*", count=1000):
            assert key in allowed, f"a key outside the sessions' own keys: {key!r:.200}"
            assert self.admin.pttl(key) > 0, f"key without TTL: {key!r:.200}"

    def _check_telemetry(self, session_ids: list[str], calls: int) -> None:
        spans = self.exporter.get_finished_spans()
        assert len(spans) == calls, "a call without its span (or a span too many)"
        assert metric_total(self.registry, "operations_total") == self.calls
        assert metric_total(self.registry, "errors_total") == self.failed_calls
        assert metric_total(self.registry, "telemetry_errors_total") == 0
        telltale = [sid for sid in session_ids if len(sid) >= 12]
        for span in spans:
            for name, value in (span.attributes or {}).items():
                if name == "error.type":  # a fixed vocabulary an id may happen to spell
                    continue
                assert not any(sid in str(value) for sid in telltale), "raw session id in a span"
        # Field names and fixed vocabulary (event names, error types) are the
        # library's own words; an id may happen to spell part of one.
        own_words = {"event", "log_level", "operation", "error_type", "exception_type"}
        for entry in self.logs.entries:
            values = [str(v) for k, v in entry.items() if k not in own_words]
            assert not any(sid in v for sid in telltale for v in values), "raw session id in a log"
        self.exporter.clear()
        self.logs.entries.clear()


@pytest.fixture(scope="module")
def fuzz(valkey_server: ServerProcess) -> Iterator[Fuzz]:
    runner = Fuzz(valkey_server)
    try:
        yield runner
    finally:
        runner.close()


@pytest.mark.timeout(240 * SCALE)
def test_hostile_inputs_raise_only_documented_errors_and_write_nothing_partial(
    fuzz: Fuzz, record_row: Callable[[Row], None]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def example(data: st.DataObject) -> None:
        session_ids = data.draw(
            st.lists(hostile.valid_session_ids, min_size=2, max_size=5, unique=True)
        )
        cases = data.draw(st.lists(hostile.cases(len(session_ids)), min_size=45, max_size=60))
        fuzz.run_example(session_ids, cases)

    example()
    record_row(
        Row(
            "Hostile input (hypothesis)",
            f"{fuzz.example} examples: batches of every JSON-ish and non-JSON shape, 10 MB "
            "strings, surrogates, deep nesting; odd session ids, limits and options; corrupt "
            "and wrong-type stored data",
            fuzz.inputs,
            fuzz.calls - fuzz.failed_calls,
            0,
            0,
            "n/a",
            0,
            f"`errors_total` {fuzz.failed_calls} (all TypeError/ValueError/"
            "SessionKeyTypeError); `telemetry_errors_total` 0; one span per call",
        )
    )
    assert fuzz.inputs >= 10_000 * SCALE
