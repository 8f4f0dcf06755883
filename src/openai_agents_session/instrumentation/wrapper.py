"""Public faces of instrumentation: ``instrument()``, ``InstrumentedSession``, ``@instrumented``."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from agents.memory import SessionABC
from agents.memory.session_settings import SessionSettings
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .options import InstrumentationOptions
from .privacy import DEFAULT_HASH_KEY, SessionIdMode
from .session import NO_SPAN, SessionTelemetry, accepts_wrapper

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

__all__ = ["InstrumentedSession", "instrument", "instrumented"]

S = TypeVar("S")


class InstrumentedSession(SessionABC):
    """A session that emits spans, metrics and logs around another session.

    Results and exceptions are exactly those of the inner session. ``session_id``
    and ``session_settings`` are the inner session's; any other attribute (``close``,
    ``key``, ``run_compaction``...) is looked up on the inner session.
    Build it with :func:`instrument`.
    """

    def __init__(self, inner: Any, telemetry: SessionTelemetry) -> None:
        self._inner = inner
        self._telemetry = telemetry

    @property
    def inner(self) -> Any:
        """The wrapped session."""
        return self._inner

    @property
    def session_id(self) -> str:  # type: ignore[override]
        return str(self._inner.session_id)

    @property
    def session_settings(self) -> SessionSettings | None:
        return getattr(self._inner, "session_settings", None)

    @session_settings.setter
    def session_settings(self, value: SessionSettings | None) -> None:
        self._inner.session_settings = value

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found on the wrapper itself.
        if name.startswith("__") or name in ("_inner", "_telemetry"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        inner = self._inner
        result: list[TResponseInputItem] = await self._telemetry.observe(
            "get_items", inner.session_id, inner.get_items(limit), limit=limit
        )
        return result

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        inner = self._inner
        await self._telemetry.observe(
            "add_items", inner.session_id, inner.add_items(items), items_in=items
        )

    async def pop_item(self) -> TResponseInputItem | None:
        inner = self._inner
        result: TResponseInputItem | None = await self._telemetry.observe(
            "pop_item", inner.session_id, inner.pop_item()
        )
        return result

    async def clear_session(self) -> None:
        await self._telemetry.observe(
            "clear_session", self._inner.session_id, self._inner.clear_session()
        )

    def __repr__(self) -> str:
        return f"instrument({self._inner!r})"


class _ContextAwareInstrumentedSession(InstrumentedSession):
    """Declares the SDK's ``wrapper`` keyword, for inner sessions that take it.

    The SDK passes ``wrapper`` only to sessions whose four methods all declare it,
    so the wrapper declares it exactly when the inner session does.
    """

    async def get_items(
        self, limit: int | None = None, *, wrapper: Any = None
    ) -> list[TResponseInputItem]:
        inner = self._inner
        # Only passed when given: a plain call is cheaper on the hot path.
        call = (
            inner.get_items(limit) if wrapper is None else inner.get_items(limit, wrapper=wrapper)
        )
        result: list[TResponseInputItem] = await self._telemetry.observe(
            "get_items",
            inner.session_id,
            call,
            limit=limit,
            wrapper=wrapper,
        )
        return result

    async def add_items(self, items: list[TResponseInputItem], *, wrapper: Any = None) -> None:
        inner = self._inner
        call = (
            inner.add_items(items) if wrapper is None else inner.add_items(items, wrapper=wrapper)
        )
        await self._telemetry.observe(
            "add_items",
            inner.session_id,
            call,
            items_in=items,
            wrapper=wrapper,
        )

    async def pop_item(self, *, wrapper: Any = None) -> TResponseInputItem | None:
        inner = self._inner
        call = inner.pop_item() if wrapper is None else inner.pop_item(wrapper=wrapper)
        result: TResponseInputItem | None = await self._telemetry.observe(
            "pop_item", inner.session_id, call, wrapper=wrapper
        )
        return result

    async def clear_session(self, *, wrapper: Any = None) -> None:
        inner = self._inner
        call = inner.clear_session() if wrapper is None else inner.clear_session(wrapper=wrapper)
        await self._telemetry.observe("clear_session", inner.session_id, call, wrapper=wrapper)


class _StoreInstrumentedSession(_ContextAwareInstrumentedSession):
    """Around our own ``RedisSession``: calls its operations' private twins.

    They return the store's event with the result, so no context variable is set
    and two coroutines less run per call; the event still reaches the store's
    observer (``SessionTelemetry.completed`` reports it). Used only when the public
    methods are ``RedisSession``'s own. The four methods spell out what
    ``SessionTelemetry.observe`` does, on purpose: a shared coroutine would put back
    a coroutine per call on the hot path of the common set-up.
    """

    async def get_items(
        self, limit: int | None = None, *, wrapper: Any = None
    ) -> list[TResponseInputItem]:
        inner, telemetry = self._inner, self._telemetry
        lean = telemetry.is_lean
        span, token = (
            NO_SPAN if lean else telemetry.start_span("get_items", inner.session_id, limit)
        )
        begin = time.perf_counter()
        try:
            items, event = await inner._get_items(limit)
        except BaseException as exc:
            duration = time.perf_counter() - begin
            telemetry.failed(
                "get_items", duration, exc, (), span, token, inner.session_id, limit, wrapper
            )
            raise
        telemetry.completed(
            "get_items", time.perf_counter() - begin, (event,), span, token, inner.session_id,
            limit, None, items, wrapper, lean, inner,
        )  # fmt: skip
        return items  # type: ignore[no-any-return]

    async def add_items(self, items: list[TResponseInputItem], *, wrapper: Any = None) -> None:
        inner, telemetry = self._inner, self._telemetry
        lean = telemetry.is_lean
        span, token = NO_SPAN if lean else telemetry.start_span("add_items", inner.session_id, None)
        begin = time.perf_counter()
        try:
            event = await inner._add_items(items)
        except BaseException as exc:
            duration = time.perf_counter() - begin
            telemetry.failed(
                "add_items", duration, exc, (), span, token, inner.session_id, None, wrapper
            )
            raise
        telemetry.completed(
            "add_items", time.perf_counter() - begin, () if event is None else (event,), span,
            token, inner.session_id, None, items, None, wrapper, lean, inner,
        )  # fmt: skip

    async def pop_item(self, *, wrapper: Any = None) -> TResponseInputItem | None:
        inner, telemetry = self._inner, self._telemetry
        lean = telemetry.is_lean
        span, token = NO_SPAN if lean else telemetry.start_span("pop_item", inner.session_id, None)
        begin = time.perf_counter()
        try:
            item, event = await inner._pop_item()
        except BaseException as exc:
            duration = time.perf_counter() - begin
            telemetry.failed(
                "pop_item", duration, exc, (), span, token, inner.session_id, None, wrapper
            )
            raise
        telemetry.completed(
            "pop_item", time.perf_counter() - begin, (event,), span, token, inner.session_id,
            None, None, item, wrapper, lean, inner,
        )  # fmt: skip
        return item  # type: ignore[no-any-return]

    async def clear_session(self, *, wrapper: Any = None) -> None:
        inner, telemetry = self._inner, self._telemetry
        lean = telemetry.is_lean
        span, token = (
            NO_SPAN if lean else telemetry.start_span("clear_session", inner.session_id, None)
        )
        begin = time.perf_counter()
        try:
            event = await inner._clear_session()
        except BaseException as exc:
            duration = time.perf_counter() - begin
            telemetry.failed(
                "clear_session", duration, exc, (), span, token, inner.session_id, None, wrapper
            )
            raise
        telemetry.completed(
            "clear_session", time.perf_counter() - begin, (event,), span, token,
            inner.session_id, None, None, None, wrapper, lean, inner,
        )  # fmt: skip


def instrument(
    session: S,
    *,
    tracer_provider: TracerProvider | None = None,
    registry: CollectorRegistry | None = None,
    logger: Any | None = None,
    session_id_mode: SessionIdMode = "hashed",
    session_id_key: bytes | str = DEFAULT_HASH_KEY,
    slow_threshold_seconds: float = 0.25,
    capture_content: bool = False,
    labels: Mapping[str, str] | None = None,
    labels_from_context: Callable[[Any], Mapping[str, str]] | None = None,
) -> S:
    """Wrap any Agents SDK session so every operation emits spans, metrics and logs.

    Args:
        session: any object with the SDK's ``Session`` methods (our ``RedisSession``,
            the SDK's ``RedisSession``/``SQLiteSession``, ``EncryptedSession``...).
        tracer_provider: OTel provider for spans; default the global one.
        registry: Prometheus ``CollectorRegistry``; default the global ``REGISTRY``.
        logger: a structlog logger; default ``structlog.get_logger("openai_agents_session")``.
        session_id_mode: ``"hashed"`` (default: keyed HMAC, 16 hex chars), ``"raw"``
            (the id itself: opt-in) or ``"none"`` in spans and logs. Metrics never
            carry a session id.
        session_id_key: key of that hash; set your own to make it unguessable.
        slow_threshold_seconds: operations at least this slow log a warning and
            count in ``slow_operations_total``.
        capture_content: put item content into span events and log events (off).
        labels: extra metric labels with their values, e.g. ``{"service": "chat"}``;
            keep them few and bounded.
        labels_from_context: ``f(run_context_wrapper) -> {label: value}`` to set
            those labels per call from the run context (e.g. the tenant); only the
            names declared in ``labels`` are used.

    Returns:
        An ``InstrumentedSession`` (typed as the session you passed). Instrumenting an
        instrumented session returns it unchanged.
    """
    if isinstance(session, InstrumentedSession) or getattr(session, "_instrumented", False):
        return session
    for method in ("get_items", "add_items", "pop_item", "clear_session"):
        if not callable(getattr(session, method, None)):
            raise TypeError(f"instrument() needs a Session; {session!r:.80} has no {method}()")
    options = InstrumentationOptions(
        tracer_provider=tracer_provider,
        registry=registry,
        logger=logger,
        session_id_mode=session_id_mode,
        session_id_key=session_id_key,  # type: ignore[arg-type]
        slow_threshold_seconds=slow_threshold_seconds,
        capture_content=capture_content,
        labels=labels,
        labels_from_context=labels_from_context,
    )
    telemetry = SessionTelemetry(session, options)
    kind: type[InstrumentedSession] = InstrumentedSession
    if _is_plain_store(session):
        kind = _StoreInstrumentedSession
    elif accepts_wrapper(session):
        kind = _ContextAwareInstrumentedSession
    return kind(session, telemetry)  # type: ignore[return-value]


def _is_plain_store(session: Any) -> bool:
    """A ``RedisSession`` whose operations are its own (no subclass overrides them)."""
    from ..redis import RedisSession

    cls = type(session)
    return issubclass(cls, RedisSession) and all(
        getattr(cls, name) is getattr(RedisSession, name)
        for name in ("get_items", "add_items", "pop_item", "clear_session")
    )


C = TypeVar("C", bound=type)


def instrumented(**options: Any) -> Callable[[C], C]:
    """Class decorator: every instance of the decorated session class is instrumented.

    Takes the keyword options of :func:`instrument`::

        @instrumented(registry=registry)
        class MySession(SessionABC):
            ...

    The methods keep their signatures (including the SDK's opt-in ``wrapper``).
    """
    settings = InstrumentationOptions(**options)

    def decorate(cls: C) -> C:
        telemetry_attr = "_openai_agents_session_telemetry"

        def telemetry_of(self: Any) -> SessionTelemetry:
            telemetry = self.__dict__.get(telemetry_attr)
            if telemetry is None:
                telemetry = SessionTelemetry(self, settings)
                self.__dict__[telemetry_attr] = telemetry
            return telemetry  # type: ignore[no-any-return]

        def wrap(name: str, operation: Any) -> Any:
            original = getattr(cls, name)

            @functools.wraps(original)
            async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                limit = kwargs.get("limit", args[0] if args else None)
                items = kwargs.get("items", args[0] if args else None)
                return await telemetry_of(self).observe(
                    operation,
                    self.session_id,
                    original(self, *args, **kwargs),
                    limit=limit if name == "get_items" else None,
                    items_in=items if name == "add_items" else None,
                    wrapper=kwargs.get("wrapper"),
                )

            return method

        namespace: dict[str, Any] = {
            name: wrap(name, name)
            for name in ("get_items", "add_items", "pop_item", "clear_session")
        }
        namespace["_instrumented"] = True
        namespace["__module__"] = cls.__module__
        namespace["__qualname__"] = cls.__qualname__
        namespace["__doc__"] = cls.__doc__
        return type(cls.__name__, (cls,), namespace)  # type: ignore[return-value]

    return decorate
