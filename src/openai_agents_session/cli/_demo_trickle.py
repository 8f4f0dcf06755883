"""``demo --keep-running``: a steady trickle of agent traffic, so a dashboard stays alive.

Every ``interval`` seconds one agent turn runs on the current conversation (a history
read and the turn's writes), and one of the events a real service meets now and then
follows, in turn:

* ``pop_item``: the user takes back their last message;
* a big import into a session capped at ``max_items`` (items trimmed in the same
  round trip), instrumented with a 1 µs slow threshold: it counts as a slow call;
* a failing read: the id of a key another program filled with a string (an error,
  classified by type);
* ``clear_session``: the conversation ends, the next one starts on a new id.

So within a few rounds every operation, outcome and rare-event series moves, and each
dashboard panel has something to show.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import secrets
import signal
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

__all__ = ["TrickleSettings", "keep_trickling", "run_trickle"]

# The import session keeps this many items, so every import trims.
IMPORT_MAX_ITEMS = 10
IMPORT_ITEMS = 60
IMPORT_ITEM_BYTES = 2048
# An SLO no call can meet: every import shows on the slow-operations panel (a demo
# cannot rely on its machine being slow).
IMPORT_SLOW_THRESHOLD_SECONDS = 1e-6
# Finished spans are kept in memory for the span tree; a long trickle must not grow them.
SPANS_KEPT = 5_000


@dataclass(frozen=True)
class TrickleSettings:
    interval: float
    key_prefix: str
    ttl: int
    max_items: int
    model_delay: float
    model_name: str | None


def quiet_logger() -> Any:
    """A structlog logger that drops everything: the trickle's slow calls and failures are
    on purpose, and a line for each would bury the terminal."""
    import structlog

    return structlog.wrap_logger(
        structlog.ReturnLogger(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
    )


async def run_trickle(
    settings: TrickleSettings,
    client: Any,
    telemetry: Any,
    stop: asyncio.Event | None = None,
    rounds: int | None = None,
) -> int:
    """Run rounds until ``stop`` is set (or ``rounds`` of them); returns how many ran.

    A stop request ends the trickle after the round in flight: cancelling an agent
    run halfway is not reliably seen through the SDK, an event between rounds is.
    """
    stop = stop or asyncio.Event()
    from .. import RedisSession, instrument
    from ._demo_agents import ConversationPlan, run_conversation

    run_tag = secrets.token_hex(3)
    logger = quiet_logger()
    tracer = telemetry.tracer_provider.get_tracer("openai_agents_session.demo")

    def session(session_id: str, **options: Any) -> Any:
        slow = options.pop("slow_threshold_seconds", 0.25)
        store = RedisSession(
            session_id, client, key_prefix=settings.key_prefix, ttl=settings.ttl, **options
        )
        return instrument(
            store,
            tracer_provider=telemetry.tracer_provider,
            registry=telemetry.registry,
            logger=logger,
            slow_threshold_seconds=slow,
            session_id_key=telemetry.session_id_key,
        )

    broken_id = f"trickle-{run_tag}-not-a-list"
    await client.set(f"{settings.key_prefix}:{broken_id}", "written by another program")
    broken = session(broken_id)
    importer = session(
        f"trickle-{run_tag}-import",
        max_items=IMPORT_MAX_ITEMS,
        slow_threshold_seconds=IMPORT_SLOW_THRESHOLD_SECONDS,
    )
    conversation_ids = (f"trickle-{run_tag}-{n:05d}" for n in itertools.count())
    current = session(next(conversation_ids), max_items=settings.max_items)

    async def import_batch() -> None:
        padding = "x" * IMPORT_ITEM_BYTES
        batch = [
            {"role": "user", "content": f"imported {n} {padding}"} for n in range(IMPORT_ITEMS)
        ]
        with tracer.start_as_current_span("import history"):
            await importer.add_items(batch)

    async def failing_read() -> None:
        # The error is counted by the instrumentation: that is the point of this call.
        with tracer.start_as_current_span("read another program's key"), suppress(RedisError):
            await broken.get_items()

    async def end_conversation() -> None:
        nonlocal current
        await current.clear_session()
        current = session(next(conversation_ids), max_items=settings.max_items)

    async def take_back() -> None:
        await current.pop_item()

    events: tuple[Callable[[], Any], ...] = (
        take_back,
        import_batch,
        failing_read,
        end_conversation,
    )
    done = 0
    try:
        for index in itertools.count():
            if stop.is_set() or (rounds is not None and done >= rounds):
                break
            plan = ConversationPlan(
                index=index,
                session_id=current.session_id,
                turns=1,
                model_delay=settings.model_delay,
                model_name=settings.model_name,
                agent_tracing=telemetry.agents_bridge,
            )
            await run_conversation(plan, current, tracer, lambda: None)
            await events[index % len(events)]()
            done += 1
            if len(telemetry.exporter.get_finished_spans()) > SPANS_KEPT:
                telemetry.exporter.clear()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.interval)
    finally:
        await client.delete(f"{settings.key_prefix}:{broken_id}")
    return done


def keep_trickling(
    args: argparse.Namespace, out: Any, metrics_url: str, redis_url: str, telemetry: Any
) -> None:
    """Run the trickle until Ctrl-C or SIGTERM, saying what it does."""
    from ._demo_view import say

    settings = TrickleSettings(
        interval=args.traffic_interval,
        key_prefix=args.key_prefix,
        ttl=args.ttl,
        max_items=args.max_items,
        model_delay=args.model_delay,
        model_name=args.model,
    )

    async def trickle() -> None:
        from .._clients import client_from_url
        from ._connection import TIMEOUT_SECONDS

        stop = asyncio.Event()
        _stop_on_signals(stop)
        client = client_from_url(redis_url, socket_connect_timeout=TIMEOUT_SECONDS)
        try:
            await run_trickle(settings, client, telemetry, stop)
        finally:
            await client.aclose()

    try:
        # Announced inside the try: a Ctrl-C right after the message is a clean stop too.
        say(
            out,
            f"serving {metrics_url} until Ctrl-C, with one agent turn every "
            f"{args.traffic_interval:g} s and, in turn, a pop, a big trimmed (slow) import, "
            "a failing read and a new conversation",
        )
        asyncio.run(trickle())
    except (KeyboardInterrupt, asyncio.CancelledError):  # a signal outside the loop, or twice
        # As in run_demo: a turn cancelled halfway leaves an SDK coroutine unawaited,
        # and its warning at exit would only confuse someone who pressed Ctrl-C.
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
    out.print("stopping")


def _stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C or SIGTERM sets ``stop`` (the round in flight finishes); a second one cancels."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()

    def request_stop() -> None:
        if stop.is_set() and main_task is not None:
            main_task.cancel()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on Windows: Ctrl-C then interrupts as usual.
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
            loop.add_signal_handler(signum, request_stop)
