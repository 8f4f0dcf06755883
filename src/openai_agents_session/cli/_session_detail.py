"""One session as stored: its items (valid or corrupt), TTL and memory, and its removal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..store.codec import CorruptItem, decode_item
from ..store.keys import COMPANIONS, companion_key, life_key, popped_items_key
from ._errors import CliError
from ._keyspace import Keyspace

__all__ = [
    "SessionAge",
    "SessionDetail",
    "StoredItem",
    "count_items",
    "delete_session",
    "load_session",
    "session_keys",
]


@dataclass(frozen=True)
class StoredItem:
    """One list element: its position, its stored bytes, and what it decodes to."""

    index: int
    raw: bytes
    value: Any
    corrupt: bool

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def kind(self) -> str:
        """A short description without content: ``message/user``, ``function_call/get_weather``."""
        if self.corrupt:
            return "not JSON"
        if not isinstance(self.value, dict):
            return type(self.value).__name__
        kind = str(self.value.get("type") or ("message" if "role" in self.value else "item"))
        detail = self.value.get("role") or self.value.get("name")
        return f"{kind}/{detail}" if isinstance(detail, str) else kind

    def as_json(self, *, content: bool) -> dict[str, Any]:
        described: dict[str, Any] = {
            "index": self.index,
            "bytes": self.size,
            "kind": self.kind,
            "corrupt": self.corrupt,
        }
        if content:
            described["content"] = (
                self.raw.decode("utf-8", "replace") if self.corrupt else self.value
            )
        return described

    def export_line(self) -> str:
        """The item as one compact JSON line; a corrupt element as its raw text."""
        if self.corrupt:
            return json.dumps({"corrupt_item": self.raw.decode("utf-8", "replace")})
        return json.dumps(self.value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SessionAge:
    """How old a session with ``max_age`` is, and when its age removes it.

    From the life hash's ``born`` and ``until`` (ms of the server's clock) and the
    server's ``TIME`` of the node holding the session, so no client clock is involved.
    """

    born_ms: int
    until_ms: int
    now_ms: int

    @property
    def age_seconds(self) -> float:
        return max(self.now_ms - self.born_ms, 0) / 1000

    @property
    def remaining_seconds(self) -> float:
        return max(self.until_ms - self.now_ms, 0) / 1000

    @property
    def removed_at(self) -> datetime:
        return datetime.fromtimestamp(self.until_ms / 1000, tz=timezone.utc)

    def removed_at_iso(self) -> str:
        return self.removed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SessionDetail:
    session_id: str
    key: str
    items: tuple[StoredItem, ...]
    ttl_seconds: float | None
    memory_bytes: int | None
    # The store's keys next to the list that exist now ("ops", "popped", "life").
    companions: tuple[str, ...]
    # None: the session has no max_age.
    age: SessionAge | None = None

    @property
    def corrupt_indexes(self) -> list[int]:
        return [item.index for item in self.items if item.corrupt]

    @property
    def payload_bytes(self) -> int:
        return sum(item.size for item in self.items)


async def _require_list(keyspace: Keyspace, session_id: str) -> str:
    key = keyspace.key_for(session_id)
    kind = await keyspace.key_type(key)
    if kind == "none":
        raise CliError(
            f"no session {session_id!r}: key {key!r} does not exist (expired, deleted, or "
            f"another --key-prefix than {keyspace.key_prefix!r}); `sessions ls` lists them"
        )
    if kind != "list":
        raise CliError(
            f"key {key!r} holds a {kind}, not a session list; another program uses it. "
            "Nothing was read or changed; check --key-prefix"
        )
    return key


async def load_session(keyspace: Keyspace, session_id: str) -> SessionDetail:
    """Every item of the session, read in one round trip after the type check."""
    key = await _require_list(keyspace, session_id)
    pipe = keyspace.client.pipeline(transaction=False)
    pipe.lrange(key, 0, -1)
    pipe.pttl(key)
    pipe.memory_usage(key)
    pipe.hmget(life_key(key), "born", "until")
    for name in COMPANIONS:
        pipe.exists(companion_key(key, name))
    raw_items, pttl, memory, life, *found = await pipe.execute(raise_on_error=False)
    for reply in (raw_items, pttl, life):
        if isinstance(reply, Exception):
            raise reply
    items = tuple(_decode(index, raw) for index, raw in enumerate(raw_items))
    return SessionDetail(
        session_id=session_id,
        key=key,
        items=items,
        ttl_seconds=None if int(pttl) < 0 else int(pttl) / 1000,
        memory_bytes=memory if isinstance(memory, int) else None,
        companions=tuple(
            name
            for name, exists in zip(COMPANIONS, found, strict=True)
            if isinstance(exists, int) and exists > 0
        ),
        age=await _age(keyspace, key, life),
    )


async def _age(keyspace: Keyspace, key: str, life: list[bytes | str | None]) -> SessionAge | None:
    born, until = (_milliseconds(value) for value in life)
    if born is None or until is None:
        return None
    return SessionAge(born, until, await keyspace.server_ms(key))


def _milliseconds(value: bytes | str | None) -> int | None:
    # The store writes integers; anything else is not its life hash's field.
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _decode(index: int, raw: bytes | str) -> StoredItem:
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    try:
        return StoredItem(index, data, decode_item(data), corrupt=False)
    except CorruptItem:
        return StoredItem(index, data, None, corrupt=True)


async def count_items(keyspace: Keyspace, session_id: str) -> int:
    """How many items the session holds (raises like ``load_session`` when it is not one)."""
    key = await _require_list(keyspace, session_id)
    return int(await keyspace.client.llen(key))


def session_keys(key: str) -> list[str | bytes]:
    """The list and the companion keys the store keeps next to it (all in one slot)."""
    return [key, *(companion_key(key, name) for name in COMPANIONS)]


async def delete_session(keyspace: Keyspace, session_id: str) -> int:
    """Delete the session's list, the items its recent pops kept and its age; returns
    how many lists existed.

    The operation log stays until it expires (two minutes after the last write): it
    holds operation ids only, no content, and it is what makes a late copy of an
    acknowledged write recognisable, so erased items never come back. Deleting it too
    would let such a copy re-create the session.
    """
    key = await _require_list(keyspace, session_id)
    pipe = keyspace.client.pipeline(transaction=False)
    pipe.delete(key)
    # Content: the items of the last pops, kept for their replays; and the session's
    # age (max_age), so that a new conversation under this id starts a new one.
    pipe.delete(popped_items_key(key), life_key(key))
    deleted, _ = await pipe.execute()
    return int(deleted)
