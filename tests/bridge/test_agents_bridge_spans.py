"""What each SDK span kind becomes: GenAI semantic-convention names and attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from agents.tracing import (
    SpanError,
    agent_span,
    custom_span,
    function_span,
    generation_span,
    guardrail_span,
    handoff_span,
    response_span,
    trace,
)
from openai.types.responses import Response, ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from openai_agents_session.instrumentation.agents_bridge import (
    enable_agents_tracing,
    use_agent_span_context,
)


@pytest.fixture(params=[False, True], ids=["no_content", "content"])
def capture_content(
    request: pytest.FixtureRequest, tracer_provider: TracerProvider
) -> Iterator[bool]:
    with enable_agents_tracing(
        tracer_provider, replace_default_processors=True, capture_content=request.param
    ):
        yield bool(request.param)


def only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    matching = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(matching) == 1, [s.name for s in exporter.get_finished_spans()]
    return matching[0]


def test_generation_span_is_a_chat_client_span(
    capture_content: bool, exporter: InMemorySpanExporter
) -> None:
    usage = {
        "input_tokens": 12,
        "output_tokens": 5,
        "output_tokens_details": {"reasoning_tokens": 2},
    }
    with (
        trace("support"),
        generation_span(
            input=[{"role": "user", "content": "secret question"}],
            output=[{"role": "assistant", "content": "secret answer"}],
            model="gpt-4.1-mini",
            model_config={"temperature": 0.2, "base_url": "https://api.openai.com/v1/"},
            usage=usage,
        ),
    ):
        pass

    chat = only(exporter, "chat gpt-4.1-mini")
    assert chat.kind is SpanKind.CLIENT
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.request.temperature": 0.2,
        "server.address": "api.openai.com",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.reasoning.output_tokens": 2,
    }
    assert expected.items() <= dict(chat.attributes).items()
    if capture_content:
        assert json.loads(str(chat.attributes["gen_ai.input.messages"])) == [
            {"role": "user", "parts": [{"type": "text", "content": "secret question"}]}
        ]
        assert "secret answer" in str(chat.attributes["gen_ai.output.messages"])
    else:
        assert "secret" not in repr(dict(chat.attributes))
    assert chat.parent is not None
    assert chat.parent.span_id == only(exporter, "invoke_workflow support").context.span_id


def test_response_span_is_named_after_the_model_that_answered(
    capture_content: bool, exporter: InMemorySpanExporter
) -> None:
    usage = ResponseUsage(
        input_tokens=30,
        output_tokens=7,
        total_tokens=37,
        input_tokens_details=InputTokensDetails(cached_tokens=16, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )
    response = Response.model_construct(
        id="resp_123", model="gpt-4.1", output=[], usage=usage, instructions="be brief"
    )
    with trace("support"), response_span(response=response) as span:
        span.span_data.input = "secret question"

    chat = only(exporter, "chat gpt-4.1")
    assert {
        "gen_ai.provider.name": "openai",
        "gen_ai.response.id": "resp_123",
        "gen_ai.response.model": "gpt-4.1",
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.cache_read.input_tokens": 16,
    }.items() <= dict(chat.attributes).items()
    assert ("gen_ai.system_instructions" in chat.attributes) is capture_content
    assert ("secret question" in repr(dict(chat.attributes))) is capture_content


def test_agent_tool_handoff_guardrail_and_custom_spans(
    capture_content: bool, exporter: InMemorySpanExporter
) -> None:
    with trace("support"), agent_span(name="triage", tools=["lookup"], handoffs=["billing"]):
        with function_span("lookup", input='{"order": 42}', output="shipped"):
            pass
        with guardrail_span("no_pii", triggered=True):
            pass
        with handoff_span(from_agent="triage", to_agent="billing"):
            pass
        with custom_span("rerank", {"query": "secret"}):
            pass

    agent = only(exporter, "invoke_agent triage")
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "triage"
    assert agent.attributes["openai_agents.agent.tools"] == ("lookup",)
    tool = only(exporter, "execute_tool lookup")
    assert tool.attributes["gen_ai.tool.name"] == "lookup"
    assert ("gen_ai.tool.call.arguments" in tool.attributes) is capture_content
    guardrail = only(exporter, "guardrail no_pii")
    assert guardrail.attributes["openai_agents.guardrail.triggered"] is True
    handoff = only(exporter, "handoff triage -> billing")
    assert handoff.attributes["openai_agents.handoff.to_agent"] == "billing"
    custom = only(exporter, "rerank")
    assert ("openai_agents.custom.data" in custom.attributes) is capture_content
    for child in (tool, guardrail, handoff, custom):
        assert child.parent is not None and child.parent.span_id == agent.context.span_id


def test_failed_sdk_span_has_error_status_and_type(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with (
        enable_agents_tracing(tracer_provider, replace_default_processors=True),
        trace("support"),
        function_span("lookup") as tool,
    ):
        tool.set_error(SpanError(message="Error running tool", data={"error": "secret"}))

    span = only(exporter, "execute_tool lookup")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "Error running tool"
    assert "secret" not in repr(dict(span.attributes)) + str(span.status.description)


def test_use_agent_span_context_puts_app_spans_under_the_current_sdk_span(
    tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app_tracer = tracer_provider.get_tracer("app")
    with enable_agents_tracing(tracer_provider, replace_default_processors=True):
        with trace("support"), function_span("lookup"):
            with use_agent_span_context(), app_tracer.start_as_current_span("http GET"):
                pass
            # Outside the block the SDK span is not the OTel context.
            assert not otel_trace.get_current_span().get_span_context().is_valid
        with use_agent_span_context():  # no SDK span: nothing to use, no error
            assert not otel_trace.get_current_span().get_span_context().is_valid

    http = only(exporter, "http GET")
    assert http.parent is not None
    assert http.parent.span_id == only(exporter, "execute_tool lookup").context.span_id
