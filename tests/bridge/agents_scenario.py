"""A three-turn agent run (function tool, handoff) on a recorded, instrumented session.

``RecordingSession`` notes, inside each storage span, which SDK span and trace were
current: the test's ground truth for where the storage span must hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import agents
from agents import Agent, Runner, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

from openai_agents_session.instrumentation.agents_bridge_attributes import (
    SDK_SPAN_ID,
    SDK_TRACE_ID,
)


@dataclass(frozen=True)
class StorageCall:
    operation: str
    storage_span_id: int  # the OTel span of the call (current while the store runs)
    sdk_span_id: str | None  # agents.get_current_span() during the call
    sdk_trace_id: str | None  # agents.get_current_trace() during the call


class RecordingSession:
    """Delegates to ``inner`` and records the SDK span current at each call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.session_id = inner.session_id
        self.session_settings = inner.session_settings
        self.calls: list[StorageCall] = []

    def _note(self, operation: str) -> None:
        sdk_span = agents.get_current_span()
        sdk_trace = agents.get_current_trace()
        self.calls.append(
            StorageCall(
                operation,
                trace.get_current_span().get_span_context().span_id,
                sdk_span.span_id if sdk_span is not None else None,
                sdk_trace.trace_id if sdk_trace is not None else None,
            )
        )

    async def get_items(self, limit: int | None = None) -> Any:
        self._note("get_items")
        return await self.inner.get_items(limit)

    async def add_items(self, items: Any) -> None:
        self._note("add_items")
        await self.inner.add_items(items)

    async def pop_item(self) -> Any:
        self._note("pop_item")
        return await self.inner.pop_item()

    async def clear_session(self) -> None:
        self._note("clear_session")
        await self.inner.clear_session()


@function_tool
def lookup_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def triage_agent(*, turns: int = 3) -> Agent[Any]:
    """Turn 1 calls the tool; turn 2 hands off (3 turns) or answers (2 turns)."""
    steps: list[Any] = [[function_call("lookup_weather", {"city": "Oslo"}, call_id="call-1")]]
    if turns == 3:
        steps.append([function_call("transfer_to_forecaster", {}, call_id="call-2")])
    steps.append([assistant_message("Sunny in Oslo.")])
    model = ScriptedModel(steps, emit_traces=True)
    forecaster = Agent(name="forecaster", model=model)
    return Agent(name="triage", model=model, tools=[lookup_weather], handoffs=[forecaster])


async def run_agent(agent: Agent[Any], session: Any, *, streamed: bool) -> Any:
    if streamed:
        result = Runner.run_streamed(agent, "Weather in Oslo?", session=session)
        async for _ in result.stream_events():
            pass
        return result.final_output
    return (await Runner.run(agent, "Weather in Oslo?", session=session)).final_output


def sdk_processors() -> list[Any]:
    """The Agents SDK's trace processors (no public getter: its default provider's list)."""
    return list(agents.tracing.get_trace_provider()._multi_processor._processors)  # type: ignore[attr-defined]


def span_tree(spans: Sequence[ReadableSpan]) -> str:
    """Spans as an indented tree (trace id, span id, name, links): for failure messages."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(span)
    lines: list[str] = []

    def walk(span: ReadableSpan, depth: int) -> None:
        assert span.context is not None
        links = [f"{link.context.span_id:016x}" for link in span.links]
        lines.append(
            f"{span.context.trace_id:032x} {span.context.span_id:016x} "
            f"{'  ' * depth}{span.name}" + (f"  links={links}" if links else "")
        )
        for child in sorted(children.get(span.context.span_id, []), key=_start):
            walk(child, depth + 1)

    for root in sorted(children.get(None, []), key=_start):
        walk(root, 0)
    return "\n".join(lines)


def _start(span: ReadableSpan) -> int:
    return span.start_time or 0


def mirror_of_sdk_span(spans: Sequence[ReadableSpan], sdk_span_id: str) -> ReadableSpan | None:
    return next((s for s in spans if s.attributes.get(SDK_SPAN_ID) == sdk_span_id), None)


def root_of_sdk_trace(spans: Sequence[ReadableSpan], sdk_trace_id: str) -> ReadableSpan | None:
    return next((s for s in spans if s.attributes.get(SDK_TRACE_ID) == sdk_trace_id), None)
