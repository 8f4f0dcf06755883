"""Enabling is idempotent; uninstalling puts the SDK's processors back exactly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from agents.tracing import TracingProcessor, get_trace_provider, set_trace_processors
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_agents_session.instrumentation.agents_bridge import enable_agents_tracing

from .agents_scenario import RecordingSession, run_agent, sdk_processors, triage_agent

MakeSession = Callable[[], tuple[Any, RecordingSession]]


class CollectingProcessor(TracingProcessor):
    """Stands in for the SDK's exporter: keeps what it is given, sends nothing."""

    def __init__(self) -> None:
        self.spans: list[str] = []

    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        self.spans.append(span.span_data.type)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


@pytest.fixture
def sdk_exporter() -> Iterator[CollectingProcessor]:
    real = sdk_processors()
    collecting = CollectingProcessor()
    set_trace_processors([collecting])
    yield collecting
    set_trace_processors(real)


def test_uninstall_restores_processors_enabled_alongside(
    sdk_exporter: CollectingProcessor, tracer_provider: TracerProvider
) -> None:
    before = sdk_processors()
    handle = enable_agents_tracing(tracer_provider)
    assert sdk_processors() == [*before, handle.processor]
    handle.uninstall()
    assert sdk_processors() == before
    handle.uninstall()  # a second uninstall changes nothing
    assert sdk_processors() == before


def test_uninstall_restores_replaced_processors_and_keeps_later_ones(
    sdk_exporter: CollectingProcessor, tracer_provider: TracerProvider
) -> None:
    before = sdk_processors()
    handle = enable_agents_tracing(tracer_provider, replace_default_processors=True)
    assert sdk_processors() == [handle.processor]
    added_later = CollectingProcessor()
    get_trace_provider().register_processor(added_later)
    handle.uninstall()
    assert sdk_processors() == [*before, added_later]


async def test_enabling_twice_emits_no_duplicates(
    sdk_exporter: CollectingProcessor,
    tracer_provider: TracerProvider,
    exporter: InMemorySpanExporter,
    make_session: MakeSession,
) -> None:
    first = enable_agents_tracing(tracer_provider)
    second = enable_agents_tracing(tracer_provider)
    try:
        assert second is first
        assert sdk_processors().count(first.processor) == 1
        session, _ = make_session()
        await run_agent(triage_agent(turns=2), session, streamed=False)
    finally:
        first.uninstall()

    names = Counter(s.name for s in exporter.get_finished_spans())
    assert names["invoke_workflow Agent workflow"] == 1
    assert names["execute_tool lookup_weather"] == 1
    assert names["invoke_agent triage"] == 1
    # Alongside: the SDK's own processor still received every span.
    assert Counter(sdk_exporter.spans)["function"] == 1


def test_enabling_again_with_other_options_asks_to_uninstall_first(
    tracer_provider: TracerProvider,
) -> None:
    with (
        enable_agents_tracing(tracer_provider, replace_default_processors=True),
        pytest.raises(ValueError, match="uninstall"),
    ):
        enable_agents_tracing(tracer_provider, capture_content=True)


def test_enabling_again_after_the_app_reset_processors_registers_again(
    sdk_exporter: CollectingProcessor, tracer_provider: TracerProvider
) -> None:
    with enable_agents_tracing(tracer_provider) as handle:
        set_trace_processors([sdk_exporter])
        assert enable_agents_tracing(tracer_provider) is handle
        assert sdk_processors() == [sdk_exporter, handle.processor]
    assert sdk_processors() == [sdk_exporter]


async def test_after_uninstall_runs_are_not_mirrored_and_storage_spans_use_otel_context(
    sdk_exporter: CollectingProcessor,
    tracer_provider: TracerProvider,
    exporter: InMemorySpanExporter,
    make_session: MakeSession,
) -> None:
    enable_agents_tracing(tracer_provider).uninstall()
    session, _ = make_session()
    with tracer_provider.get_tracer("app").start_as_current_span("app") as app:
        await run_agent(triage_agent(turns=2), session, streamed=True)

    spans = exporter.get_finished_spans()
    assert {s.name for s in spans} == {
        "app",
        "get_items RecordingSession",
        "add_items RecordingSession",
    }
    app_id = app.get_span_context().span_id
    assert all(s.parent.span_id == app_id for s in spans if s.parent is not None)
