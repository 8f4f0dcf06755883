"""The Agents SDK's compaction hooks: history replaced in one script, one round trip.

``OpenAIResponsesCompactionSession`` replaces a session's history with the
compacted output. Without these hooks it clears the session and adds the output
in two calls, and a crash between them leaves the conversation empty. With them
the replacement is one script (``REPLACE``), which leaves either the old or the
new history:

* ``_get_compaction_snapshot(limit)`` (automatic compaction after a run): the
  newest ``limit`` items and a ``replace_suffix(start, output)`` that swaps the
  snapshot's items from ``start`` on for ``output`` only if they are still the
  newest items, unchanged. A write that came in since the snapshot (another
  process, another task) makes it return ``False`` and keeps everything.
* ``_atomic_replace_items(items)`` (manual ``run_compaction()``): the whole
  history replaced by ``items``. Like the SDK's own ``RedisSession`` it does not
  check what was read before; the compaction session's lock orders it against
  writes made through that session.

Both log an operation id like any write (a re-sent copy is not applied twice),
re-arm the TTL, trim to ``max_items`` and report a ``replace_items`` event. Like
the SDK's sessions, a subclass gets ``None``/``False`` (it may transform items on
the way in or out, which an inherited replacement would bypass).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agents.memory.session import _CompactionSnapshot

from . import _scripts
from ._codec import CorruptItem, decode_item, encode_items
from .events import StoreEvent, StoreObserver, report

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

__all__ = ["CompactionHooks"]


class CompactionHooks:
    """Mixed into ``RedisSession``; relies on its attributes and ``_run``."""

    max_items: int | None
    max_item_bytes: int | None
    max_batch_bytes: int | None
    _observer: StoreObserver | None

    if TYPE_CHECKING:  # provided by RedisSession

        async def _run(self, script: _scripts.Script, *args: Any) -> tuple[Any, int]: ...

        def _operation_id_args(self) -> tuple[str, int, int]: ...

        def _ttl_ms(self) -> int: ...

    def _is_exact_store(self) -> bool:
        from .redis import RedisSession

        return type(self) is RedisSession

    async def _get_compaction_snapshot(
        self,
        limit: int,
        *,
        prune_prefix: Callable[[TResponseInputItem], bool] | None = None,
    ) -> _CompactionSnapshot | None:
        """The newest ``limit`` items, replaceable from any index in one script.

        Returns ``None`` (the SDK then falls back to a complete read) for a
        subclass, for a ``prune_prefix`` (a Python predicate cannot run in the
        server's script), or when a stored item is not valid JSON.
        """
        if not self._is_exact_store() or prune_prefix is not None or limit <= 0:
            return None
        # Reads never re-arm the TTL here: the replacement that may follow does.
        reply, _ = await self._run(_scripts.GET, 0, -limit, -1)
        length, raw_items = int(reply[0]), list(reply[2])
        try:
            items = [decode_item(raw) for raw in raw_items]
        except CorruptItem:
            return None

        async def replace_suffix(start: int, output: list[TResponseInputItem]) -> bool:
            expected = raw_items[start:]
            if not expected:
                return False
            return await self._replace(output, expected)

        return _CompactionSnapshot(items, length <= limit, replace_suffix)

    async def _atomic_replace_items(self, items: list[TResponseInputItem]) -> bool:
        """Replace the whole history with ``items`` in one script; ``False`` for subclasses."""
        if not self._is_exact_store():
            return False
        return await self._replace(items, None)

    async def _replace(
        self, items: list[TResponseInputItem], expected: Sequence[bytes | str] | None
    ) -> bool:
        encoded = encode_items(
            items, max_item_bytes=self.max_item_bytes, max_batch_bytes=self.max_batch_bytes
        )
        expected_args: list[Any] = [-1] if expected is None else [len(expected), *expected]
        reply, trips = await self._run(
            _scripts.REPLACE,
            *self._operation_id_args(),
            self._ttl_ms(),
            self.max_items or 0,
            *expected_args,
            *encoded,
        )
        replaced = bool(int(reply[3]))
        sizes = tuple(len(e) for e in encoded) if replaced else ()
        report(
            StoreEvent(
                "replace_items",
                items=len(sizes),
                bytes=sum(sizes),
                session_length=int(reply[0]),
                trimmed=int(reply[1]),
                ttl_refreshed=bool(int(reply[2]) & 1),
                duplicate_batch=bool(int(reply[2]) & 2),
                item_sizes=sizes,
                round_trips=trips,
            ),
            self._observer,
        )
        return replaced
