"""``InstrumentedSession``: any Agents SDK session, with spans, metrics and logs.

Each operation is one line into :meth:`SessionTelemetry.run`. The class surface
mirrors the inner session's exactly where the SDK looks at it:

* the SDK passes its ``wrapper`` keyword only to sessions whose four methods declare
  it, so the wrapper declares it exactly when the inner session does (one subclass);
* the SDK's compaction session replaces history atomically through
  ``_atomic_replace_items`` (looked up on the session's type) or
  ``_get_compaction_snapshot`` (on the instance), else it clears, then adds; the
  wrapper offers each exactly when the inner session has it, and records the
  replacement as the operation ``replace_items``.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from agents.memory import SessionABC
from agents.memory.session_settings import SessionSettings

from .telemetry import SessionTelemetry

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

__all__ = ["SESSION_METHODS", "InstrumentedSession", "accepts_wrapper", "session_class_for"]

# The SDK Session protocol's four operations.
SESSION_METHODS = ("get_items", "add_items", "pop_item", "clear_session")


class InstrumentedSession(SessionABC):
    """A session that emits spans, metrics and logs around another session.

    Results and exceptions are exactly those of the inner session. ``session_id``
    and ``session_settings`` are the inner session's; any other attribute (``close``,
    ``key``...) is looked up on the inner session. Build it with ``instrument()``.
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
        found = getattr(self._inner, name)
        if name == "_get_compaction_snapshot" and callable(found):
            return _snapshot_reader(found, self._telemetry)
        return found

    # Each method hands the inner call to the one path; plain functions returning its
    # coroutine, so a call costs one coroutine frame, not two.
    def get_items(self, limit: int | None = None) -> Coroutine[Any, Any, list[TResponseInputItem]]:
        return self._telemetry.run("get_items", self._inner.get_items(limit), limit=limit)

    def add_items(self, items: list[TResponseInputItem]) -> Coroutine[Any, Any, None]:
        return self._telemetry.run("add_items", self._inner.add_items(items), items=items)

    def pop_item(self) -> Coroutine[Any, Any, TResponseInputItem | None]:
        return self._telemetry.run("pop_item", self._inner.pop_item())

    def clear_session(self) -> Coroutine[Any, Any, None]:
        return self._telemetry.run("clear_session", self._inner.clear_session())

    def __repr__(self) -> str:
        return f"instrument({self._inner!r})"


class _ContextAwareInstrumentedSession(InstrumentedSession):
    """Declares the SDK's ``wrapper`` keyword, for inner sessions that take it."""

    def get_items(
        self, limit: int | None = None, *, wrapper: Any = None
    ) -> Coroutine[Any, Any, list[TResponseInputItem]]:
        return self._telemetry.run(
            "get_items", self._inner.get_items(limit, wrapper=wrapper), limit=limit, wrapper=wrapper
        )

    def add_items(
        self, items: list[TResponseInputItem], *, wrapper: Any = None
    ) -> Coroutine[Any, Any, None]:
        return self._telemetry.run(
            "add_items", self._inner.add_items(items, wrapper=wrapper), items=items, wrapper=wrapper
        )

    def pop_item(self, *, wrapper: Any = None) -> Coroutine[Any, Any, TResponseInputItem | None]:
        return self._telemetry.run(
            "pop_item", self._inner.pop_item(wrapper=wrapper), wrapper=wrapper
        )

    def clear_session(self, *, wrapper: Any = None) -> Coroutine[Any, Any, None]:
        return self._telemetry.run(
            "clear_session", self._inner.clear_session(wrapper=wrapper), wrapper=wrapper
        )


async def _atomic_replace_items(self: InstrumentedSession, items: list[Any]) -> bool:
    """The inner session's atomic replacement of the whole history, as ``replace_items``."""
    replace = type(self._inner)._atomic_replace_items
    return bool(
        await self._telemetry.run("replace_items", replace(self._inner, items), items=items)
    )


def _snapshot_reader(read: Callable[..., Any], telemetry: SessionTelemetry) -> Callable[..., Any]:
    """``_get_compaction_snapshot`` whose suffix replacement is recorded as ``replace_items``."""

    async def read_snapshot(*args: Any, **kwargs: Any) -> Any:
        snapshot = await read(*args, **kwargs)
        if snapshot is None:
            return None
        replace_suffix = snapshot.replace_suffix

        async def replace(start: int, items: list[Any]) -> bool:
            call = replace_suffix(start, items)
            return bool(await telemetry.run("replace_items", call, items=items))

        return dataclasses.replace(snapshot, replace_suffix=replace)

    return read_snapshot


_classes: dict[tuple[bool, bool], type[InstrumentedSession]] = {}


def session_class_for(inner: Any) -> type[InstrumentedSession]:
    """The wrapper class whose surface matches ``inner``'s (``wrapper`` keyword, atomic hook)."""
    context_aware = accepts_wrapper(inner)
    atomic = callable(getattr(type(inner), "_atomic_replace_items", None))
    found = _classes.get((context_aware, atomic))
    if found is None:
        base = _ContextAwareInstrumentedSession if context_aware else InstrumentedSession
        found = base
        if atomic:
            namespace = {"_atomic_replace_items": _atomic_replace_items}
            found = type(base.__name__, (base,), namespace)
        _classes[(context_aware, atomic)] = found
    return found


def accepts_wrapper(session: Any) -> bool:
    """Whether all four methods of ``session`` take the SDK's ``wrapper`` keyword."""
    for name in SESSION_METHODS:
        try:
            parameters = inspect.signature(getattr(session, name)).parameters
        except (AttributeError, TypeError, ValueError):
            return False
        wrapper = parameters.get("wrapper")
        if wrapper is None or wrapper.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            return False
    return True
