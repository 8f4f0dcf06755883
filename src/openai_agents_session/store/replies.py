"""What each script answers, as named types: the only place reply layouts are known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..events import ExpiryReason

# What a write script answers, alone, when it refused to create an unregistered session.
UNREGISTERED = -1

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
    # This write found the session aged out (max_age) and started a new one.
    expired: ExpiryReason | None = None
    # Refused, nothing written: the session must be registered with its owner first.
    unregistered: bool = False


_UNREGISTERED_WRITE = WriteReply(0, 0, False, False, 0, unregistered=True)


@dataclass(frozen=True, slots=True)
class ReadReply:
    length: int
    ttl_refreshed: bool
    items: list[Any]
    expired: ExpiryReason | None = None


@dataclass(frozen=True, slots=True)
class PopReply:
    length: int
    ttl_refreshed: bool
    replayed: bool
    log_evictions: int
    # The stored element removed (or, for a replay, the one the original removed).
    item: bytes | str | None
    expired: ExpiryReason | None = None


@dataclass(frozen=True, slots=True)
class ReplaceReply:
    length: int
    trimmed: int
    ttl_refreshed: bool
    replayed: bool
    log_evictions: int
    # False: the expected items had changed, nothing was written.
    replaced: bool
    expired: ExpiryReason | None = None
    unregistered: bool = False


_UNREGISTERED_REPLACE = ReplaceReply(0, 0, False, False, 0, False, unregistered=True)


def _expiry(flag: Any) -> ExpiryReason | None:
    # The scripts flag one reason only: the session outlived its max_age.
    return "max_age" if int(flag) else None


def _unregistered(reply: Any) -> bool:
    return len(reply) == 1 and int(reply[0]) == UNREGISTERED


def write(reply: Any) -> WriteReply:
    if _unregistered(reply):
        return _UNREGISTERED_WRITE
    length, trimmed, refreshed, replayed, evicted, expired = reply
    return WriteReply(
        int(length), int(trimmed), bool(refreshed), bool(replayed), int(evicted), _expiry(expired)
    )


def read(reply: Any) -> ReadReply:
    expired = _expiry(reply[3]) if len(reply) > 3 else None
    return ReadReply(int(reply[0]), bool(reply[1]), list(reply[2]), expired)


def pop(reply: Any) -> PopReply:
    # No sixth element when nothing was popped; None when a replay finds no kept item.
    item = reply[5] if len(reply) > 5 else None
    return PopReply(
        int(reply[0]), bool(reply[1]), bool(reply[2]), int(reply[3]), item, _expiry(reply[4])
    )


def replace(reply: Any) -> ReplaceReply:
    if _unregistered(reply):
        return _UNREGISTERED_REPLACE
    length, trimmed, refreshed, replayed, evicted, replaced, expired = reply
    return ReplaceReply(
        int(length),
        int(trimmed),
        bool(refreshed),
        bool(replayed),
        int(evicted),
        bool(replaced),
        _expiry(expired),
    )
