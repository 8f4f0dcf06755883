"""Fixtures for the Agents SDK tracing bridge: a real OTel SDK, the real Agents SDK.

Every test leaves the SDK's trace processors exactly as it found them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from agents.tracing import get_trace_provider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from openai_agents_session import RedisSession, instrument
from openai_agents_session.instrumentation import agents_bridge
from openai_agents_session.instrumentation.agents_bridge import (
    AgentsTracingHandle,
    enable_agents_tracing,
)

from .agents_scenario import RecordingSession, sdk_processors


@pytest.fixture(autouse=True)
def sdk_processors_restored() -> Iterator[None]:
    before = sdk_processors()
    try:
        yield
    finally:
        leftover = agents_bridge._installed
        if leftover is not None:
            leftover.uninstall()
        after = sdk_processors()
        get_trace_provider().set_processors(before)
        assert leftover is None, "a test left the bridge enabled"
        assert after == before, "the SDK's trace processors were not restored"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def bridge(
    tracer_provider: TracerProvider, registry: CollectorRegistry
) -> Iterator[AgentsTracingHandle]:
    # Replacing the SDK's processors keeps its exporter to the OpenAI dashboard out.
    handle = enable_agents_tracing(
        tracer_provider, replace_default_processors=True, registry=registry
    )
    try:
        yield handle
    finally:
        handle.uninstall()


@pytest.fixture
def redis_client(valkey_client: Redis) -> Redis:
    return valkey_client


@pytest.fixture
def make_session(
    redis_client: Redis, tracer_provider: TracerProvider, registry: CollectorRegistry
) -> Callable[[], tuple[Any, RecordingSession]]:
    """A fresh instrumented Redis session, and the recorder of the SDK span at each call."""

    def make() -> tuple[Any, RecordingSession]:
        store = RedisSession(f"user-{uuid.uuid4().hex[:12]}", redis_client)
        recorder = RecordingSession(store)
        # Instrumented outside the recorder: the recorder runs inside the storage span.
        return instrument(recorder, tracer_provider=tracer_provider, registry=registry), recorder

    return make
