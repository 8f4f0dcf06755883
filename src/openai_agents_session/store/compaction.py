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
the way in or out, which an inherited replacement would bypass). The hooks are
methods of ``RedisSession``; this module builds the snapshot they hand out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agents.memory.session import _CompactionSnapshot

from .codec import CorruptItem, decode_item
from .replies import ReadReply

if TYPE_CHECKING:
    from agents.items import TResponseInputItem

__all__ = ["Replace", "snapshot_of"]

# Replaces the expected stored elements (None: the whole history) with new items.
Replace = Callable[["list[TResponseInputItem]", "list[bytes | str] | None"], Awaitable[bool]]


def snapshot_of(read: ReadReply, limit: int, replace: Replace) -> _CompactionSnapshot | None:
    """The SDK's snapshot of a read of the newest ``limit`` items; ``None`` if one is corrupt."""
    raw_items = list(read.items)
    try:
        items = [decode_item(raw) for raw in raw_items]
    except CorruptItem:
        return None

    async def replace_suffix(start: int, output: list[TResponseInputItem]) -> bool:
        expected = raw_items[start:]
        if not expected:
            return False
        return await replace(output, expected)

    return _CompactionSnapshot(items, read.length <= limit, replace_suffix)
