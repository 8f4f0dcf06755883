"""A failure inside the bridge never fails the run: it is counted and logged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agents.tracing import SpanData, get_trace_provider, trace
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from openai_agents_session.instrumentation.agents_bridge import enable_agents_tracing

from .agents_scenario import RecordingSession, run_agent, span_tree, triage_agent

MakeSession = Callable[[], tuple[Any, RecordingSession]]


class FailingTracer(otel_trace.Tracer):
    def start_span(self, *args: Any, **kwargs: Any) -> otel_trace.Span:
        raise RuntimeError("exporter pipeline is broken")

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("exporter pipeline is broken")


class FailingTracerProvider(otel_trace.TracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> otel_trace.Tracer:
        return FailingTracer()


class UnreadableSpanData(SpanData):
    """Span data the bridge cannot interpret."""

    @property
    def type(self) -> str:
        raise LookupError("no type")

    def export(self) -> dict[str, Any]:
        return {}


def bridge_errors(registry: CollectorRegistry) -> float:
    value = registry.get_sample_value(
        "openai_agents_session_telemetry_errors_total", {"signal": "bridge"}
    )
    return value or 0.0


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_streamed"])
async def test_a_failing_tracer_does_not_fail_the_run(
    registry: CollectorRegistry,
    exporter: InMemorySpanExporter,
    make_session: MakeSession,
    streamed: bool,
) -> None:
    session, recorder = make_session()
    with (
        capture_logs() as logs,
        enable_agents_tracing(
            FailingTracerProvider(), replace_default_processors=True, registry=registry
        ),
    ):
        output = await run_agent(triage_agent(), session, streamed=streamed)

    assert output == "Sunny in Oslo."
    # One failure per SDK trace and span the bridge could not mirror.
    assert bridge_errors(registry) == 1 + 11  # the trace and its 11 spans
    failures = [e for e in logs if e["event"] == "agents_tracing.bridge_failed"]
    assert {(e["where"], e["error_type"]) for e in failures} == {
        ("on_trace_start", "RuntimeError"),
        ("on_span_start", "RuntimeError"),
    }
    first_of_each = [e for e in failures if e["log_level"] == "error"]
    assert len(first_of_each) == 2, "repeats of a known failure are logged at debug"
    # The storage spans still exist, under the OTel context the app had.
    spans = exporter.get_finished_spans()
    assert len(spans) == len(recorder.calls), span_tree(spans)


def test_span_data_the_bridge_cannot_read_is_counted_and_skipped(
    registry: CollectorRegistry, tracer_provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    with (
        capture_logs() as logs,
        enable_agents_tracing(tracer_provider, replace_default_processors=True, registry=registry),
        trace("workflow with an odd span"),
    ):
        odd = get_trace_provider().create_span(UnreadableSpanData())
        odd.start(mark_as_current=True)
        odd.finish(reset_current=True)

    assert bridge_errors(registry) == 1
    assert [(e["where"], e["error_type"]) for e in logs] == [("on_span_start", "LookupError")]
    assert [s.name for s in exporter.get_finished_spans()] == [
        "invoke_workflow workflow with an odd span"
    ]
