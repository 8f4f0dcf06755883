"""What each script answers, as named types: the only place reply layouts are known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PopReply", "ReadReply", "ReplaceReply", "WriteReply", "pop", "read", "replace", "write"]


@dataclass(frozen=True, slots=True)
class WriteReply:
    length: int
    trimmed: int
    ttl_refreshed: bool
    # A copy of a write already applied: acknowledged, not applied again.
    replayed: bool
    # Operation-log entries dropped while still inside the window.
    log_evictions: int


@dataclass(frozen=True, slots=True)
class ReadReply:
    length: int
    ttl_refreshed: bool
    items: list[Any]


@dataclass(frozen=True, slots=True)
class PopReply:
    length: int
    ttl_refreshed: bool
    replayed: bool
    log_evictions: int
    # The stored element removed (or, for a replay, the one the original removed).
    item: bytes | str | None


@dataclass(frozen=True, slots=True)
class ReplaceReply:
    length: int
    trimmed: int
    ttl_refreshed: bool
    replayed: bool
    log_evictions: int
    # False: the expected items had changed, nothing was written.
    replaced: bool


def write(reply: Any) -> WriteReply:
    length, trimmed, refreshed, replayed, evicted = reply
    return WriteReply(int(length), int(trimmed), bool(refreshed), bool(replayed), int(evicted))


def read(reply: Any) -> ReadReply:
    return ReadReply(int(reply[0]), bool(reply[1]), list(reply[2]))


def pop(reply: Any) -> PopReply:
    # No fifth element when nothing was popped; None when a replay finds no kept item.
    item = reply[4] if len(reply) > 4 else None
    return PopReply(int(reply[0]), bool(reply[1]), bool(reply[2]), int(reply[3]), item)


def replace(reply: Any) -> ReplaceReply:
    length, trimmed, refreshed, replayed, evicted, replaced = reply
    return ReplaceReply(
        int(length), int(trimmed), bool(refreshed), bool(replayed), int(evicted), bool(replaced)
    )
