"""The store behaves like a Python list, on a real server (hypothesis, stateful)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from redis.asyncio import Redis

from openai_agents_session import RedisSession
from support import ServerProcess

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
items_strategy = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4)


def run_machine(server: ServerProcess) -> None:
    class StoreMatchesList(RuleBasedStateMachine):
        @initialize(max_items=st.none() | st.integers(1, 8))
        def open_session(self, max_items: int | None) -> None:
            self.loop = asyncio.new_event_loop()
            self.client = Redis(host=server.host, port=server.port)
            self.session = RedisSession(
                f"prop-{uuid.uuid4().hex}", self.client, ttl=60, max_items=max_items
            )
            self.max_items = max_items
            self.model: list[Any] = []

        def run(self, coroutine: Any) -> Any:
            return self.loop.run_until_complete(coroutine)

        @rule(batch=st.lists(items_strategy, max_size=5))
        def add(self, batch: list[Any]) -> None:
            self.run(self.session.add_items(batch))
            self.model.extend(batch)
            if self.max_items is not None:
                self.model = self.model[-self.max_items :]

        @rule(limit=st.none() | st.integers(-3, 12))
        def get(self, limit: int | None) -> None:
            expected = self.model if limit is None else (self.model[-limit:] if limit > 0 else [])
            assert self.run(self.session.get_items(limit)) == expected

        @rule()
        def pop(self) -> None:
            expected = self.model.pop() if self.model else None
            assert self.run(self.session.pop_item()) == expected

        @rule()
        def clear(self) -> None:
            self.run(self.session.clear_session())
            self.model.clear()

        @invariant()
        def same_length(self) -> None:
            if hasattr(self, "session"):
                assert self.run(self.client.llen(self.session.key)) == len(self.model)

        def teardown(self) -> None:
            if hasattr(self, "session"):
                self.run(self.session.clear_session())
                self.run(self.client.aclose())
                self.loop.close()

    StoreMatchesList.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    StoreMatchesList.TestCase().runTest()


def test_store_matches_a_list_model(valkey_server: ServerProcess) -> None:
    run_machine(valkey_server)
