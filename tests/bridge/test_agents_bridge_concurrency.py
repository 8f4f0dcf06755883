"""Concurrent runs on different sessions never share spans."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_agents_session.instrumentation.agents_bridge import AgentsTracingHandle
from openai_agents_session.instrumentation.privacy import conversation_id

from .agents_scenario import RecordingSession, run_agent, span_tree, triage_agent

MakeSession = Callable[[], tuple[Any, RecordingSession]]
RUNS = 20


async def test_twenty_concurrent_runs_each_keep_to_their_own_trace(
    bridge: AgentsTracingHandle,
    exporter: InMemorySpanExporter,
    tracer_provider: TracerProvider,
    make_session: MakeSession,
) -> None:
    tracer = tracer_provider.get_tracer("app")
    sessions = [make_session() for _ in range(RUNS)]

    async def one_run(index: int) -> int:
        session, _ = sessions[index]
        with tracer.start_as_current_span(f"request {index}") as app:
            # Half streamed, half not: both paths interleave on one event loop.
            await run_agent(triage_agent(), session, streamed=index % 2 == 1)
        return app.get_span_context().trace_id

    trace_ids = await asyncio.gather(*(one_run(i) for i in range(RUNS)))

    spans = exporter.get_finished_spans()
    by_trace: dict[int, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        by_trace[span.context.trace_id].append(span)
    assert sorted(by_trace) == sorted(trace_ids), "spans outside the 20 request traces"
    sizes = set()
    for index, trace_id in enumerate(trace_ids):
        own = by_trace[trace_id]
        tree = span_tree(own)
        _, recorder = sessions[index]
        expected = conversation_id(recorder.session_id, "hashed")
        carried = {s.attributes.get("gen_ai.conversation.id") for s in own}
        assert carried == {None, expected}, tree  # None: only the app's own span
        assert [s.name for s in own if s.name.startswith("request")] == [f"request {index}"]
        storage = {s.context.span_id for s in own if s.name.endswith(" RecordingSession")}
        assert storage == {call.storage_span_id for call in recorder.calls}, tree
        sizes.add(len(own) - len(storage))
    assert len(sizes) == 1, f"runs mirrored different numbers of spans: {sizes}"


async def test_concurrent_pre_trace_reads_link_to_their_own_run(
    bridge: AgentsTracingHandle, exporter: InMemorySpanExporter, make_session: MakeSession
) -> None:
    sessions = [make_session() for _ in range(RUNS)]
    await asyncio.gather(*(run_agent(triage_agent(), s, streamed=False) for s, _ in sessions))

    spans = exporter.get_finished_spans()
    by_span_id = {s.context.span_id: s for s in spans}
    roots = [s for s in spans if s.name.startswith("invoke_workflow")]
    assert len(roots) == RUNS
    for root in roots:
        assert len(root.links) == 1, span_tree(spans)
        linked = by_span_id[root.links[0].context.span_id]
        assert linked.name == "get_items RecordingSession"
        assert linked.attributes["gen_ai.conversation.id"] == root.attributes.get(
            "gen_ai.conversation.id"
        )
        run_spans = [s for s in spans if s.context.trace_id == root.context.trace_id]
        conversations = {s.attributes.get("gen_ai.conversation.id") for s in run_spans}
        assert conversations == {root.attributes["gen_ai.conversation.id"]}, span_tree(run_spans)
