"""One OTel trace per agent run, with every storage call under the SDK span that made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_agents_session.instrumentation.agents_bridge import (
    AgentsTracingHandle,
    enable_agents_tracing,
)
from openai_agents_session.instrumentation.privacy import conversation_id

from .agents_scenario import (
    RecordingSession,
    mirror_of_sdk_span,
    root_of_sdk_trace,
    run_agent,
    span_tree,
    triage_agent,
)

MakeSession = Callable[[], tuple[Any, RecordingSession]]
MODES = pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])


def storage_spans(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.instrumentation_scope.name == "openai_agents_session"]


def mirrored_spans(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.instrumentation_scope.name == "openai_agents_session.agents"]


@MODES
async def test_storage_spans_hang_under_the_sdk_span_current_at_the_call(
    bridge: AgentsTracingHandle,
    exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    make_session: MakeSession,
    streamed: bool,
) -> None:
    session, recorder = make_session()
    with tracer_provider.get_tracer("app").start_as_current_span("handle request") as app:
        output = await run_agent(triage_agent(), session, streamed=streamed)

    assert output == "Sunny in Oslo."
    spans = exporter.get_finished_spans()
    tree = span_tree(spans)
    app_span = next(s for s in spans if s.name == "handle request")
    assert {s.context.trace_id for s in spans} == {app.get_span_context().trace_id}, tree
    assert len(recorder.calls) == len(storage_spans(spans)) >= 4, tree
    by_id = {s.context.span_id: s for s in spans}
    for call in recorder.calls:
        storage = by_id[call.storage_span_id]
        if call.sdk_span_id is not None:
            expected = mirror_of_sdk_span(spans, call.sdk_span_id)
        elif call.sdk_trace_id is not None:
            expected = root_of_sdk_trace(spans, call.sdk_trace_id)
        else:  # before the SDK opened its trace: a sibling of the run's root
            expected = app_span
        assert expected is not None, f"no mirror for {call}\n{tree}"
        assert storage.parent is not None, tree
        assert storage.parent.span_id == expected.context.span_id, (
            f"{call.operation} should hang under {expected.name!r}, "
            f"hangs under {by_id[storage.parent.span_id].name!r}\n{tree}"
        )
    # Runner.run reads history before its trace opens; run_streamed opens it first.
    first = recorder.calls[0]
    assert (first.operation, first.sdk_trace_id is None) == ("get_items", not streamed), tree


@MODES
async def test_every_sdk_span_kind_of_the_run_is_mirrored_once(
    bridge: AgentsTracingHandle,
    exporter: InMemorySpanExporter,
    make_session: MakeSession,
    streamed: bool,
) -> None:
    session, _ = make_session()
    await run_agent(triage_agent(), session, streamed=streamed)

    spans = exporter.get_finished_spans()
    names = sorted(s.name for s in mirrored_spans(spans))
    assert names == sorted(
        [
            "invoke_workflow Agent workflow",
            "task Agent workflow",
            "invoke_agent triage",
            "invoke_agent forecaster",
            "turn triage",
            "turn triage",
            "turn forecaster",
            "chat",
            "chat",
            "chat",
            "execute_tool lookup_weather",
            "handoff triage -> forecaster",
        ]
    ), span_tree(spans)


async def test_pre_trace_read_is_linked_from_the_run_root_without_an_app_span(
    bridge: AgentsTracingHandle, exporter: InMemorySpanExporter, make_session: MakeSession
) -> None:
    session, recorder = make_session()
    await run_agent(triage_agent(), session, streamed=False)

    spans = exporter.get_finished_spans()
    tree = span_tree(spans)
    pre_trace = next(s for s in spans if s.context.span_id == recorder.calls[0].storage_span_id)
    root = next(s for s in spans if s.name == "invoke_workflow Agent workflow")
    assert pre_trace.parent is None and root.parent is None, tree
    assert pre_trace.context.trace_id != root.context.trace_id, tree
    assert [link.context.span_id for link in root.links] == [pre_trace.context.span_id], tree
    others = {s.context.trace_id for s in spans if s is not pre_trace}
    assert others == {root.context.trace_id}, tree


@MODES
async def test_run_spans_carry_the_conversation_id_of_the_storage_spans(
    bridge: AgentsTracingHandle,
    exporter: InMemorySpanExporter,
    make_session: MakeSession,
    streamed: bool,
) -> None:
    session, recorder = make_session()
    await run_agent(triage_agent(), session, streamed=streamed)

    spans = exporter.get_finished_spans()
    hashed = conversation_id(recorder.session_id, "hashed")
    assert hashed is not None and hashed != recorder.session_id
    carried = {s.name: s.attributes.get("gen_ai.conversation.id") for s in spans}
    assert set(carried.values()) == {hashed}, span_tree(spans)


async def test_no_content_on_spans_by_default(
    bridge: AgentsTracingHandle, exporter: InMemorySpanExporter, make_session: MakeSession
) -> None:
    session, _ = make_session()
    await run_agent(triage_agent(turns=2), session, streamed=False)

    spans = exporter.get_finished_spans()
    tool = next(s for s in spans if s.name == "execute_tool lookup_weather")
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.conversation.id": tool.attributes["gen_ai.conversation.id"],
        "openai_agents.span.type": "function",
        "openai_agents.span_id": tool.attributes["openai_agents.span_id"],
    }
    for span in spans:
        text = repr(dict(span.attributes))
        assert "Oslo" not in text and "sunny" not in text, span.name


async def test_content_is_captured_when_opted_in(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter, make_session: MakeSession
) -> None:
    with enable_agents_tracing(
        tracer_provider, replace_default_processors=True, capture_content=True
    ):
        session, _ = make_session()
        await run_agent(triage_agent(turns=2), session, streamed=False)

    tool = next(s for s in exporter.get_finished_spans() if s.name.startswith("execute_tool"))
    assert tool.attributes["gen_ai.tool.call.arguments"] == '{"city":"Oslo"}'
    assert tool.attributes["gen_ai.tool.call.result"] == "sunny in Oslo"


async def test_session_id_mode_none_keeps_conversation_ids_off_the_run(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter, make_session: MakeSession
) -> None:
    with enable_agents_tracing(
        tracer_provider, replace_default_processors=True, session_id_mode="none"
    ):
        session, _ = make_session()
        await run_agent(triage_agent(turns=2), session, streamed=True)

    spans = exporter.get_finished_spans()
    assert mirrored_spans(spans), span_tree(spans)
    for span in mirrored_spans(spans):
        assert "gen_ai.conversation.id" not in span.attributes, span.name
