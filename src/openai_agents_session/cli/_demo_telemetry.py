"""The demo's own telemetry back ends: spans kept in memory, /metrics over HTTP, quiet logs.

The demo is the application here, so unlike the library it installs providers and
servers; they are private to the demo and torn down with it.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from ._errors import CliError

__all__ = ["DemoTelemetry", "MetricsServer", "start_metrics_server"]


@dataclass
class MetricsServer:
    host: str
    port: int
    requested_port: int
    _shutdown: Callable[[], None]

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "127.0.0.1", "::") else self.host
        return f"http://{host}:{self.port}/metrics"

    @property
    def fell_back(self) -> bool:
        """The requested port was taken (0 asks for any free port: never a fallback)."""
        return self.requested_port != 0 and self.port != self.requested_port

    def stop(self) -> None:
        self._shutdown()


def start_metrics_server(registry: CollectorRegistry, host: str, port: int) -> MetricsServer:
    """Serve ``registry`` on ``host:port``, or on a free port when that one is taken."""
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError:
        try:
            server, thread = start_http_server(0, addr=host, registry=registry)
        except OSError as exc:
            raise CliError(
                f"cannot serve /metrics on {host} ({exc.strerror}); pass --metrics-host"
            ) from exc

    def shutdown() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return MetricsServer(host, int(server.server_port), port, shutdown)


class DemoTelemetry:
    """Spans kept in memory, the Agents SDK bridge, and the key hashing session ids."""

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
        except ImportError as exc:
            raise CliError(
                "the demo needs opentelemetry-sdk: pip install 'openai-agents-session[demo]'"
            ) from exc
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.registry = CollectorRegistry()
        self.session_id_key = _session_id_key()
        self.agents_bridge = False
        self._disable_bridge: Callable[[], None] | None = None

    def bridge_agents_tracing(self, logger: Any) -> bool:
        """Mirror the Agents SDK's traces into our provider, when this version can.

        The SDK's default processor (an upload to the OpenAI dashboard) is set aside
        while the demo runs: its traces stay on this machine.
        """
        enable = _find_enable_agents_tracing()
        if enable is None:
            return False
        try:
            handle = enable(
                tracer_provider=self.tracer_provider,
                replace_default_processors=True,
                registry=self.registry,
                logger=logger,
            )
        except (ValueError, RuntimeError):
            return False  # already enabled elsewhere in this process, differently
        self._disable_bridge = handle.uninstall
        self.agents_bridge = True
        return True

    def finished_spans(self) -> list[Any]:
        return list(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        if self._disable_bridge is not None:
            self._disable_bridge()
        self.tracer_provider.shutdown()


def _session_id_key() -> bytes | str:
    """The key that hashes session ids: the environment's, as a service uses, else a new one.

    The demo is one process, so a key of its own joins all of its telemetry, and
    ``instrument()`` has nothing to warn about.
    """
    from ..instrumentation.privacy import KEY_ENVIRONMENT_VARIABLE

    return os.environ.get(KEY_ENVIRONMENT_VARIABLE) or secrets.token_bytes(32)


def _find_enable_agents_tracing() -> Callable[..., Any] | None:
    try:
        from .. import enable_agents_tracing
    except ImportError:  # an install without the Agents SDK bridge
        return None
    return enable_agents_tracing


def warnings_logger() -> Any:
    """A structlog logger that prints only warnings and errors (slow ops, corrupt items)."""
    import structlog

    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        processors=[
            structlog.processors.add_log_level,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
