"""An example agent service with every signal of openai-agents-session switched on.

It keeps ``CONVERSATIONS`` conversations going, one turn every ``TURN_INTERVAL_SECONDS``:
each turn reads the history, then appends the user's message and a canned assistant
reply, all inside an "agent turn" span so the storage spans nest under it. No model
is called; the point is the storage traffic and its telemetry:

* Prometheus metrics on ``http://0.0.0.0:$METRICS_PORT/metrics`` (exemplars included),
* traces over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the compose stack
  sends them through an OpenTelemetry Collector to Tempo),
* structlog JSON logs on stderr.

Environment: ``REDIS_URL`` (redis://localhost:6379/0), ``METRICS_PORT`` (8000),
``CONVERSATIONS`` (20), ``TURN_INTERVAL_SECONDS`` (0.5), ``MAX_ITEMS`` (200),
``TTL_SECONDS`` (3600), ``OTEL_SERVICE_NAME`` (agent-app).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import start_http_server

from openai_agents_session import RedisSession, configure_logging, instrument


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


def tracer_provider() -> TracerProvider:
    """The app owns its provider; the library only asks for tracers."""
    os.environ.setdefault("OTEL_SERVICE_NAME", "agent-app")
    provider = TracerProvider(resource=Resource.create())
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


async def converse(
    number: int, redis_url: str, stop: asyncio.Event, provider: TracerProvider
) -> None:
    tracer = provider.get_tracer("example-agent-app")
    interval = float(setting("TURN_INTERVAL_SECONDS", "0.5"))
    store = RedisSession.from_url(
        f"conversation-{number}",
        redis_url,
        ttl=int(setting("TTL_SECONDS", "3600")),
        max_items=int(setting("MAX_ITEMS", "200")),
    )
    session: Any = instrument(store, tracer_provider=provider)
    turn = 0
    async with store:
        while not stop.is_set():
            turn += 1
            with tracer.start_as_current_span("agent turn"):
                await session.get_items(limit=50)
                await session.add_items(
                    [
                        {"role": "user", "content": f"question {turn}"},
                        {"role": "assistant", "content": f"answer {turn}"},
                    ]
                )
            # Conversations end now and then; a new one starts in the same slot.
            if random.random() < 0.01:
                await session.clear_session()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval * random.uniform(0.5, 1.5))


async def main() -> None:
    configure_logging("INFO")
    provider = tracer_provider()
    start_http_server(int(setting("METRICS_PORT", "8000")))
    redis_url = setting("REDIS_URL", "redis://localhost:6379/0")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    conversations = int(setting("CONVERSATIONS", "20"))
    try:
        await asyncio.gather(
            *(converse(n, redis_url, stop, provider) for n in range(conversations))
        )
    finally:
        provider.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
