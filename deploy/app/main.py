"""An example agent service: FastAPI, the Agents SDK, and openai-agents-session.

One endpoint runs an agent turn on a conversation kept in Redis; ``/metrics``
serves Prometheus metrics, from every worker process when it runs under gunicorn
with ``PROMETHEUS_MULTIPROC_DIR`` (see ``gunicorn.conf.py``).

    POST /conversations/{conversation_id}/turns   {"message": "Hello"}
    GET  /metrics

Run it with one process::

    uvicorn main:app --port 8000

or with several workers, as in production::

    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics gunicorn -c gunicorn.conf.py main:app

Environment: ``REDIS_URL`` (redis://localhost:6379/0), ``TTL_SECONDS`` (3600),
``MAX_ITEMS`` (200), ``OPENAI_AGENTS_SESSION_ID_KEY`` (the key of hashed session ids,
the same in every worker), ``OTEL_EXPORTER_OTLP_ENDPOINT`` (export traces over OTLP),
``OTEL_METRICS_EXPORTER`` (``otlp``: the session metrics go over OTLP through the
OpenTelemetry metrics API instead of ``/metrics``), ``MODEL`` (an OpenAI model;
without it, or without ``OPENAI_API_KEY``, an offline scripted model answers so the
service runs anywhere).

Metrics over OTLP: with ``OTEL_METRICS_EXPORTER=otlp`` each worker process has its own
meter provider, exporting every ``OTEL_METRIC_EXPORT_INTERVAL`` ms (60000) to
``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/metrics``,
and once more when the worker stops (the lifespan's shutdown), so a restarted or
scaled-down worker loses nothing. Each worker is its own ``service.instance.id``: a
collector or backend adds the workers up. The OTel specification makes ``otlp`` the
default of ``OTEL_METRICS_EXPORTER``; this app keeps ``/metrics`` unless asked, so an
endpoint set for traces alone does not move its metrics.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis
from agents import Agent, RunConfig, Runner, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message
from fastapi import FastAPI, Request, Response
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from pydantic import BaseModel, Field

from openai_agents_session import RedisSession, configure_logging, instrument

AGENT = Agent(name="assistant", instructions="Answer in one short sentence.")


class Turn(BaseModel):
    message: str = Field(min_length=1, max_length=8000)


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


def setup_tracing() -> TracerProvider:
    """The app owns its provider; the library only asks for tracers."""
    os.environ.setdefault("OTEL_SERVICE_NAME", "agent-app")
    provider = TracerProvider(resource=Resource.create())
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def setup_metrics() -> MeterProvider | None:
    """A meter provider exporting over OTLP when ``OTEL_METRICS_EXPORTER=otlp``, else None.

    Created in each worker (the lifespan runs after gunicorn forks): a provider's
    export thread does not survive a fork.
    """
    if os.environ.get("OTEL_METRICS_EXPORTER", "").strip().lower() != "otlp":
        return None
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    os.environ.setdefault("OTEL_SERVICE_NAME", "agent-app")
    reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create())
    return provider


def session_metrics(app: FastAPI) -> dict[str, Any]:
    """``instrument``'s metric options: one path, so dashboards never count a call twice."""
    provider = app.state.meter_provider
    if provider is None:
        return {}
    return {"meter_provider": provider, "prometheus": False}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    configure_logging(setting("LOG_LEVEL", "INFO"))
    provider = setup_tracing()
    app.state.meter_provider = setup_metrics()
    # The SDK's own trace export goes to OpenAI's dashboard: off unless a key is set.
    set_tracing_disabled(not os.environ.get("OPENAI_API_KEY"))
    app.state.redis = redis.Redis.from_url(setting("REDIS_URL", "redis://localhost:6379/0"))
    try:
        yield
    finally:
        await app.state.redis.aclose()
        provider.shutdown()
        if app.state.meter_provider is not None:
            # Exports what this worker counted since the last export, before it exits.
            app.state.meter_provider.shutdown()


app = FastAPI(title="agent-app", lifespan=lifespan)


def model_for(message: str) -> Any:
    """A real OpenAI model when configured, else an offline one that answers once."""
    if os.environ.get("MODEL") and os.environ.get("OPENAI_API_KEY"):
        return os.environ["MODEL"]
    return ScriptedModel([[assistant_message(f"You said {len(message)} characters.")]])


@app.post("/conversations/{conversation_id}/turns")
async def take_turn(conversation_id: str, turn: Turn, request: Request) -> dict[str, Any]:
    store = RedisSession(
        conversation_id,
        request.app.state.redis,
        ttl=int(setting("TTL_SECONDS", "3600")),
        max_items=int(setting("MAX_ITEMS", "200")),
    )
    result = await Runner.run(
        AGENT,
        turn.message,
        session=instrument(store, **session_metrics(request.app)),
        run_config=RunConfig(model=model_for(turn.message)),
    )
    return {"reply": str(result.final_output)}


@app.get("/metrics")
def metrics(request: Request) -> Response:
    """Every worker's metrics under PROMETHEUS_MULTIPROC_DIR, else this process's."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    if "application/openmetrics-text" in request.headers.get("accept", ""):
        # OpenMetrics carries exemplars: the trace id of a sampled call per bucket.
        return Response(openmetrics_latest(REGISTRY), media_type=OPENMETRICS)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
