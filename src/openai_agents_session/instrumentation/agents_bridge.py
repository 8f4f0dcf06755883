"""One trace per agent run, storage calls included: Agents SDK tracing to OpenTelemetry.

:func:`enable_agents_tracing` registers a ``TracingProcessor`` with the Agents SDK
that mirrors its traces and spans as OpenTelemetry spans (GenAI semantic
conventions) and makes the SDK span that is current during a storage call the OTel
parent of that call's span (``InstrumentedSession``)::

    from openai_agents_session import enable_agents_tracing, instrument

    enable_agents_tracing()  # after the app has set up its OTel TracerProvider
    session = instrument(RedisSession.from_url(user_id, "redis://localhost:6379"))
    await Runner.run(agent, "hello", session=session)

Where the storage spans of a run land:

* Inside the SDK trace, each storage span is a child of the mirror of the SDK span
  current when the call ran (task, agent, turn or tool span), or of the workflow
  root span when a trace but no span is current.
* ``Runner.run`` (not streamed) reads the session *before* the SDK opens its trace.
  When the app has an OTel span active around the run, that read is a child of the
  app's span: the same trace, a sibling of the run's ``invoke_workflow`` root span.
  Otherwise it is a trace of its own, and the run's root span carries a link to it
  (attribute ``openai_agents_session.link.reason``). ``Runner.run_streamed`` opens
  the trace first, so there every storage call is inside it.
* The run's spans carry ``gen_ai.conversation.id``, the value its storage spans
  carry (hashed unless the session was instrumented with ``session_id_mode="raw"``).
  A storage call sets it on the span that made the call and on each ancestor up
  to the workflow root that has none yet; spans started later inherit it from
  their parent. The pre-trace read of ``Runner.run`` hands it to the root when the
  run starts, so there every span of the run carries it. With
  ``session_id_mode="none"`` here the run's spans never carry it.

The SDK's spans are *not* made the current OTel context for other code, because
the SDK starts some spans without making them current and may end a span on
another task, so attaching there leaks contexts. Code inside a tool that wants its
own spans (or auto-instrumented HTTP calls) under the tool's span wraps itself in
:func:`use_agent_span_context`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import structlog
from agents.tracing import TracingProcessor, get_trace_provider
from agents.tracing.provider import TraceProvider
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .agents_bridge_processor import AgentsTraceMirror
from .logs import LOGGER_NAME
from .parenting import register_parent_resolver
from .privacy import SessionIdMode, check_session_id_mode
from .telemetry_errors import count_telemetry_error

__all__ = [
    "AgentsTracingHandle",
    "agent_span_context",
    "enable_agents_tracing",
    "use_agent_span_context",
]

_SCOPE = "openai_agents_session.agents"


@dataclass(frozen=True)
class _Settings:
    tracer_provider: TracerProvider | None
    replace_default_processors: bool
    capture_content: bool
    session_id_mode: SessionIdMode
    registry: CollectorRegistry | None


class AgentsTracingHandle:
    """An installed bridge. ``uninstall()`` puts the SDK's processors back as they were."""

    def __init__(self, settings: _Settings, logger: Any) -> None:
        from .. import __version__

        self._settings = settings
        self._logger = logger
        self._lock = threading.Lock()
        self._logged: set[tuple[str, str]] = set()
        tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=settings.tracer_provider)
        self.processor = AgentsTraceMirror(
            tracer,
            capture_content=settings.capture_content,
            copy_conversation_id=settings.session_id_mode != "none",
            report_error=self._report_error,
        )
        self._provider: TraceProvider = get_trace_provider()
        self._replaced: list[TracingProcessor] | None = None
        self._unregister_resolver: Callable[[], None] | None = None

    @property
    def installed(self) -> bool:
        return self._unregister_resolver is not None

    def _install(self) -> None:
        if self._settings.replace_default_processors:
            self._replaced = _processors_of(self._provider)
            if self._replaced is None:
                raise RuntimeError(
                    f"replace_default_processors=True needs the SDK's default trace provider "
                    f"to restore its processors later; got {type(self._provider).__name__}. "
                    "Pass replace_default_processors=False, or remove processors yourself "
                    "with agents.set_trace_processors()."
                )
            self._provider.set_processors([self.processor])
        else:
            self._provider.register_processor(self.processor)
        self._unregister_resolver = register_parent_resolver(self.processor.storage_parent)

    def uninstall(self) -> None:
        """Stop mirroring; restore the SDK's processors exactly; end mirrors still open.

        Processors the app added after enabling are kept. Calling it twice is a no-op.
        """
        global _installed
        with _install_lock:
            if self._unregister_resolver is None:
                return
            self._unregister_resolver()
            self._unregister_resolver = None
            self.processor.active = False
            current = _processors_of(self._provider)
            if current is not None:
                others = [p for p in current if p is not self.processor]
                if self._replaced is not None:
                    others = self._replaced + [p for p in others if p not in self._replaced]
                self._provider.set_processors(others)
            # With a provider we cannot read, the processor stays registered, inert.
            self.processor.end_all()
            if _installed is self:
                _installed = None

    def __enter__(self) -> AgentsTracingHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    def _report_error(self, where: str, exc: BaseException) -> None:
        # Called from inside SDK callbacks and storage calls: must never raise.
        with suppress(Exception):
            count_telemetry_error(self._settings.registry, "bridge")
        try:
            key = (where, type(exc).__name__)
            with self._lock:
                first = key not in self._logged
                self._logged.add(key)
            # The first failure of a kind is an error; repeats are debug, not a flood.
            log = self._logger.error if first else self._logger.debug
            log("agents_tracing.bridge_failed", where=where, error_type=type(exc).__name__)
        except Exception:
            return


_install_lock = threading.RLock()
_installed: AgentsTracingHandle | None = None


def enable_agents_tracing(
    tracer_provider: TracerProvider | None = None,
    *,
    replace_default_processors: bool = False,
    capture_content: bool = False,
    session_id_mode: SessionIdMode = "hashed",
    registry: CollectorRegistry | None = None,
    logger: Any | None = None,
) -> AgentsTracingHandle:
    """Mirror Agents SDK traces as OpenTelemetry spans, storage calls nested inside.

    Args:
        tracer_provider: OTel provider for the mirrored spans; default the global one.
        replace_default_processors: drop the SDK's own processors (the exporter to
            the OpenAI dashboard) while enabled, instead of running alongside them.
        capture_content: put prompts, completions, tool arguments/results and
            custom span data on the spans (off: they may hold personal data).
        session_id_mode: ``"none"`` keeps ``gen_ai.conversation.id`` off the run's
            spans; ``"hashed"``/``"raw"`` copy the value of the storage spans, whose
            hashing the session's own ``instrument(session_id_mode=...)`` decides.
        registry: Prometheus registry counting bridge failures in
            ``openai_agents_session_telemetry_errors_total{signal="bridge"}``.
        logger: structlog logger; default ``structlog.get_logger("openai_agents_session")``.

    Returns:
        A handle with ``uninstall()``. Enabling again with the same options returns
        the same handle (no duplicate spans); with other options it raises
        ``ValueError``: uninstall first. A failure inside the bridge never fails a
        run: it is counted and logged.
    """
    global _installed
    settings = _Settings(
        tracer_provider,
        replace_default_processors,
        capture_content,
        check_session_id_mode(session_id_mode),
        registry,
    )
    with _install_lock:
        if _installed is not None:
            if _installed._settings != settings:
                raise ValueError(
                    "agents tracing is already enabled with other options "
                    f"({_installed._settings}); call .uninstall() on its handle first"
                )
            registered = _processors_of(_installed._provider)
            if registered is not None and _installed.processor not in registered:
                # The app replaced the SDK's processors since: put ours back.
                _installed._provider.register_processor(_installed.processor)
            return _installed
        handle = AgentsTracingHandle(
            settings, logger if logger is not None else structlog.get_logger(LOGGER_NAME)
        )
        handle._install()
        _installed = handle
        return handle


def agent_span_context() -> Context | None:
    """The OTel context whose current span mirrors the SDK span current now, if any.

    Pass it as ``context=`` when starting a span by hand inside a tool.
    """
    handle = _installed
    return None if handle is None else handle.processor.current_context()


@contextmanager
def use_agent_span_context() -> Iterator[None]:
    """Make the mirror of the current SDK span the current OTel span for a block::

    @function_tool
    async def lookup(city: str) -> str:
        with use_agent_span_context():  # HTTP client spans nest under execute_tool
            return await weather_api(city)
    """
    context = agent_span_context()
    if context is None:
        yield
        return
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def _processors_of(provider: TraceProvider) -> list[TracingProcessor] | None:
    # The SDK has no public getter for its processor list; its default provider
    # keeps them here. Needed to remove ours and restore theirs on uninstall.
    multi = getattr(provider, "_multi_processor", None)
    processors = getattr(multi, "_processors", None)
    return list(processors) if isinstance(processors, tuple | list) else None
