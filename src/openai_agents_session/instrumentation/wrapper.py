"""Public faces of instrumentation: ``instrument()`` and ``@instrumented``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .options import InstrumentationOptions
from .privacy import SessionIdMode
from .session import SESSION_METHODS, InstrumentedSession, session_class_for
from .telemetry import SessionTelemetry

__all__ = ["InstrumentedSession", "instrument", "instrumented"]

S = TypeVar("S")
C = TypeVar("C", bound=type)


def instrument(
    session: S,
    *,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
    logger: Any | None = None,
    session_id_mode: SessionIdMode = "hashed",
    session_id_key: bytes | str | None = None,
    slow_threshold_seconds: float = 0.25,
    capture_content: bool | None = None,
    labels: Mapping[str, str] | None = None,
    labels_from_context: Callable[[Any], Mapping[str, str]] | None = None,
    otel_metrics: bool = False,
    meter_provider: MeterProvider | None = None,
    prometheus: bool = True,
) -> S:
    """Wrap any Agents SDK session so every operation emits spans, metrics and logs.

    Args:
        session: any object with the SDK's ``Session`` methods (our ``RedisSession``,
            the SDK's ``RedisSession``/``SQLiteSession``, ``EncryptedSession``...).
        tracer_provider: OTel provider for spans; default the global one (also when
            it is installed after this call).
        registry: Prometheus ``CollectorRegistry``; default the global ``REGISTRY``
            (the one prometheus_client's multiprocess mode works with).
        logger: a structlog logger; default ``structlog.get_logger("openai_agents_session")``.
        session_id_mode: ``"hashed"`` (default: keyed HMAC, 16 hex chars), ``"raw"``
            (the id itself: opt-in) or ``"none"`` in spans and logs. Metrics never
            carry a session id.
        session_id_key: the key of that hash. Default: the environment variable
            ``OPENAI_AGENTS_SESSION_ID_KEY``, else a random key of this process (hashes
            then differ between processes; a one-time warning says so).
        slow_threshold_seconds: operations at least this slow log a warning and
            count in ``slow_operations_total``.
        capture_content: put item content into span events and log events. Default:
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (off unless ``true``).
        labels: extra metric labels with their values, e.g. ``{"service": "chat"}``;
            keep them few and bounded.
        labels_from_context: ``f(run_context_wrapper) -> {label: value}`` to set
            those labels per call from the run context (e.g. the tenant); only the
            names declared in ``labels`` are used.
        otel_metrics: also send the metrics through the OpenTelemetry metrics API
            (``db.client.operation.duration`` and ``openai_agents_session.*``), to the
            global meter provider (also when it is installed after this call).
        meter_provider: the OTel meter provider for those metrics; passing one turns
            them on.
        prometheus: the prometheus_client metrics (default on); ``False`` for a
            service that only exports OTLP.

    Returns:
        An ``InstrumentedSession`` (typed as the session you passed). Instrumenting an
        instrumented session returns it unchanged, and an instrumented session used
        inside another instrumented call (``instrument(Wrapper(instrument(store)))``)
        leaves the reporting to the outer one: every operation is counted once.
    """
    if isinstance(session, InstrumentedSession) or getattr(session, "_instrumented", False):
        return session
    for method in SESSION_METHODS:
        if not callable(getattr(session, method, None)):
            raise TypeError(f"instrument() needs a Session; {session!r:.80} has no {method}()")
    options = InstrumentationOptions(
        tracer_provider=tracer_provider,
        registry=registry,
        logger=logger,
        session_id_mode=session_id_mode,
        session_id_key=session_id_key,
        slow_threshold_seconds=slow_threshold_seconds,
        capture_content=capture_content,
        labels=labels,
        labels_from_context=labels_from_context,
        otel_metrics=otel_metrics,
        meter_provider=meter_provider,
        prometheus=prometheus,
    )
    kind = session_class_for(session)
    return kind(session, SessionTelemetry(session, options))  # type: ignore[return-value]


def instrumented(**options: Any) -> Callable[[C], C]:
    """Class decorator: every instance of the decorated session class is instrumented.

    Takes the keyword options of :func:`instrument`::

        @instrumented(registry=registry)
        class MySession(SessionABC):
            ...

    The methods keep their signatures (including the SDK's opt-in ``wrapper``) and
    take the same path as :func:`instrument`'s.
    """
    settings = InstrumentationOptions(**options)

    def decorate(cls: C) -> C:
        def telemetry_of(self: Any) -> SessionTelemetry:
            telemetry = self.__dict__.get("_openai_agents_session_telemetry")
            if telemetry is None:
                telemetry = SessionTelemetry(self, settings)
                self.__dict__["_openai_agents_session_telemetry"] = telemetry
            return telemetry  # type: ignore[no-any-return]

        def wrap(name: str) -> Any:
            original = getattr(cls, name)
            # get_items(limit) and add_items(items) take one argument, by position or name.
            argument = {"get_items": "limit", "add_items": "items"}.get(name, "")

            @functools.wraps(original)
            async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                given = kwargs.get(argument, args[0] if args else None)
                return await telemetry_of(self).run(
                    name,  # type: ignore[arg-type]
                    original(self, *args, **kwargs),
                    limit=given if name == "get_items" else None,
                    items=given if name == "add_items" else None,
                    wrapper=kwargs.get("wrapper"),
                )

            return method

        namespace: dict[str, Any] = {name: wrap(name) for name in SESSION_METHODS}
        namespace["_instrumented"] = True
        namespace["__module__"] = cls.__module__
        namespace["__qualname__"] = cls.__qualname__
        namespace["__doc__"] = cls.__doc__
        return type(cls.__name__, (cls,), namespace)  # type: ignore[return-value]

    return decorate
