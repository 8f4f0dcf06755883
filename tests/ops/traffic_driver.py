"""Drives real session traffic and serves its metrics, for the real-Prometheus check.

Run as a subprocess by ``test_live_prometheus.py``::

    python tests/ops/traffic_driver.py --redis-url redis://127.0.0.1:PORT/0 \
        --ready-file ready.json --seconds 90

It serves ``/metrics`` (OpenMetrics when Prometheus asks, so exemplars are scraped)
for one registry that every instrumented session shares, and a second, empty
``/metrics`` standing for a service that is up but never touches its sessions.
With ``--otel`` the sessions send their metrics through the OpenTelemetry path only
(``otel_metrics=True, prometheus=False``) to an SDK ``MeterProvider`` whose reader
is the OTel SDK's Prometheus exporter, serving that same ``/metrics``.
The traffic covers every signal the dashboard and the rules read: normal reads,
writes, pops and clears with a TTL; trims by ``max_items``; a key of the wrong type
(errors); corrupt items pushed with a raw RPUSH; a logger that raises (telemetry
errors); a tiny slow threshold (slow operations); traced calls (exemplars); large
items popped in quick succession (operation-log evictions).
Loops are bounded by ``--seconds`` and stop at SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import redis.asyncio
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, start_http_server

from openai_agents_session import RedisSession, SessionKeyTypeError, instrument

PREFIX = "ops-check"
# Three popped items of this size pass the 1 MiB of popped items an operation log
# keeps, so from the third pop on each pop evicts one inside its window.
LARGE_ITEM_CHARS = 400_000
# Marks failures the traffic did not ask for; the live test fails if the log has one.
UNEXPECTED = "UNEXPECTED ERROR"


class QuietLogger:
    """Accepts every structlog call and prints nothing (keeps the driver's output small)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class BrokenLogger:
    """A logger whose every call fails, as a misconfigured logging pipeline would."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("log sink unavailable")

        return fail


def message(turn: int) -> dict[str, str]:
    return {"role": "user", "content": f"turn {turn}"}


class Traffic:
    def __init__(
        self,
        client: redis.asyncio.Redis,
        registry: CollectorRegistry,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.client = client
        tracer_provider = TracerProvider()
        # One path at a time, as a service would run: prometheus_client or OTel.
        metrics: dict[str, Any] = {"registry": registry}
        if meter_provider is not None:
            metrics = {"otel_metrics": True, "meter_provider": meter_provider, "prometheus": False}

        def session(name: str, *, logger: Any = None, slow: float = 0.25, **options: Any) -> Any:
            store = RedisSession(name, client, key_prefix=PREFIX, **options)
            return instrument(
                store,
                tracer_provider=tracer_provider,
                logger=logger or QuietLogger(),
                slow_threshold_seconds=slow,
                **metrics,
            )

        self.conversations = [session(f"conversation-{n}", ttl=300) for n in range(4)]
        self.capped = session("capped", ttl=300, max_items=3, slow=1e-6)
        self.corrupted = session("corrupted", ttl=300)
        self.wrong_type = session("wrong-type")
        self.broken_telemetry = session("broken-telemetry", logger=BrokenLogger())
        self.large_pops = session("large-pops", ttl=300)

    async def prepare(self) -> None:
        # Another program's string value on a session key: every call on it fails.
        await self.client.set(self.wrong_type.key, "not a list")

    async def turn(self, turn: int) -> None:
        conversation = self.conversations[turn % len(self.conversations)]
        await conversation.add_items([message(turn)])
        await conversation.get_items()
        await conversation.get_items(limit=2)
        if turn % 3 == 0:
            await conversation.pop_item()
        if turn % 25 == 24:
            await conversation.clear_session()
        await self.capped.add_items([message(turn), message(turn)])
        if turn % 4 == 0:
            await self.client.rpush(self.corrupted.key, b"{not json")
            await self.corrupted.add_items([message(turn)])
            await self.corrupted.get_items()
            await self.corrupted.pop_item()
        if turn % 5 == 0:
            with contextlib.suppress(SessionKeyTypeError):
                await self.wrong_type.get_items()
        await self.broken_telemetry.add_items([message(turn)])
        await self.broken_telemetry.get_items(limit=1)
        await self.large_pops.add_items([{"role": "user", "content": "x" * LARGE_ITEM_CHARS}])
        await self.large_pops.pop_item()

    async def safe_turn(self, turn: int) -> None:
        """One turn; an unexpected failure is reported and the traffic goes on."""
        try:
            await self.turn(turn)
        except Exception:
            print(f"{UNEXPECTED} in turn {turn}:", file=sys.stderr)
            traceback.print_exc()


async def drive(redis_url: str, ready_file: Path, seconds: float, otel: bool) -> None:
    registry = CollectorRegistry()
    meter_provider = None
    if otel:
        reader = PrometheusMetricReader(registry=registry)
        resource = Resource.create({"service.name": "ops-check"})
        meter_provider = MeterProvider(metric_readers=[reader], resource=resource)
    metrics_server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    idle_server, _ = start_http_server(0, addr="127.0.0.1", registry=CollectorRegistry())
    client = redis.asyncio.Redis.from_url(redis_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        traffic = Traffic(client, registry, meter_provider)
        await traffic.prepare()
        await traffic.safe_turn(0)  # metric families exist before anyone scrapes
        ready = {
            "metrics_port": metrics_server.server_port,
            "idle_port": idle_server.server_port,
        }
        # Written last and whole: the test polls for this file.
        await asyncio.to_thread(ready_file.write_text, json.dumps(ready))
        deadline = loop.time() + seconds
        turn = 1
        while not stop.is_set() and loop.time() < deadline:
            await traffic.safe_turn(turn)
            turn += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.1)
    finally:
        await client.aclose()
        if meter_provider is not None:
            meter_provider.shutdown()
        metrics_server.shutdown()
        idle_server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--otel", action="store_true", help="metrics through OpenTelemetry")
    args = parser.parse_args()
    asyncio.run(drive(args.redis_url, args.ready_file, args.seconds, args.otel))


if __name__ == "__main__":
    main()
