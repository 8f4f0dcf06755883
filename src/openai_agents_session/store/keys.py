"""Key names: the session list and its companion keys, in one cluster slot.

Three rules hold for every key a session uses, for any session id:

* it starts with ``{key_prefix}:``, so the operator's ACL pattern
  ``~{key_prefix}:*`` covers it;
* it hashes to the list's Redis Cluster slot, so one script can touch all of them;
* it is never a key of another session.

The list key keeps the seed's layout, ``{key_prefix}:{session_id}``, so existing
data reads with no migration. A companion key (the operation log, ``ops``; the
items kept for replayed pops, ``popped``; the session's age and erase marks,
``life``) is the list key followed by the byte ``0xFF`` and its name. ``0xFF``
never occurs in UTF-8 text, and prefixes and session ids are text, so no list key
contains it and the list key of a companion is the part before its first ``0xFF``:
companions of two sessions differ, and no companion is a list.

Redis Cluster hashes only the *hash tag* of a key when it has one: the text between
the first ``{`` and the first ``}`` after it, if that text is not empty. When the
list key has a tag a companion, which starts with the list key, has the same one.
When it has none, the companion gets a tag of its own chosen to land in the list's
slot.
"""

from __future__ import annotations

import binascii
import threading
from functools import lru_cache

__all__ = [
    "COMPANIONS",
    "DEFAULT_KEY_PREFIX",
    "LIFE",
    "companion_key",
    "life_key",
    "owner_index_key",
    "OPERATION_LOG",
    "POPPED_ITEMS",
    "hash_slot",
    "operation_log_key",
    "popped_items_key",
    "session_key",
]

DEFAULT_KEY_PREFIX = "openai_agents_session"
_SLOTS = 16384
# Never part of UTF-8 text: separates a log key from the list key it belongs to.
_SEPARATOR = b"\xff"
OPERATION_LOG = "ops"
POPPED_ITEMS = "popped"
LIFE = "life"
COMPANIONS = (OPERATION_LOG, POPPED_ITEMS, LIFE)


def session_key(key_prefix: str, session_id: str) -> str:
    return f"{key_prefix}:{session_id}"


def _hash_input(key: bytes) -> bytes:
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def _crc16(data: bytes) -> int:
    # CRC16-CCITT (XMODEM), the checksum Redis Cluster uses for key slots.
    return binascii.crc_hqx(data, 0)


def hash_slot(key: str | bytes) -> int:
    """The Redis Cluster slot of ``key``."""
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return _crc16(_hash_input(raw)) % _SLOTS


# The first tag "s<n>" (smallest n) that lands in each slot, filled in as the
# candidates are tried in order: finding one slot's tag records every other slot
# met on the way, so a process tries about 170,000 candidates in all (a few tens
# of ms, spread over its first sessions) instead of ~16,000 per new slot (~4 ms
# per session built for a new conversation).
_tags_by_slot: dict[int, bytes] = {}
_next_candidate = 0
_tags_lock = threading.Lock()


def _tag_for_slot(slot: int) -> bytes:
    """A short brace-free hash tag that lands in ``slot``: the first ``s<n>`` that does."""
    global _next_candidate
    tag = _tags_by_slot.get(slot)
    if tag is not None:
        return tag
    with _tags_lock:
        while slot not in _tags_by_slot:
            candidate = f"s{_next_candidate}".encode()
            _next_candidate += 1
            _tags_by_slot.setdefault(_crc16(candidate) % _SLOTS, candidate)
        return _tags_by_slot[slot]


def operation_log_key(list_key: str) -> bytes:
    """The key of the session's operation log (a sorted set of recent operation ids)."""
    return companion_key(list_key, OPERATION_LOG)


def popped_items_key(list_key: str) -> bytes:
    """The key of the items the session keeps for replayed pops (a hash)."""
    return companion_key(list_key, POPPED_ITEMS)


def life_key(list_key: str) -> bytes:
    """The key of the session's life: its age and owner marks (a hash, see .lifecycle)."""
    return companion_key(list_key, LIFE)


def owner_index_key(key_prefix: str, owner: str) -> bytes:
    """The key of one owner's index of sessions (a sorted set).

    ``{key_prefix}:`` then ``0xFF``: under the ACL pattern, and never a session's list
    (whose id is text) nor a companion (whose list key is ``{key_prefix}:{id}``, with
    at least one character of text before any ``0xFF``).
    """
    return f"{key_prefix}:".encode() + _SEPARATOR + b"owner:" + owner.encode("utf-8")


@lru_cache(maxsize=8192)
def companion_key(list_key: str, name: str) -> bytes:
    """The key of one of the session's companions: same prefix, same slot, unique.

    Returned as bytes: it holds ``0xFF``, which no text key can.
    """
    raw = list_key.encode("utf-8")
    slot = hash_slot(raw)
    base = raw + _SEPARATOR + name.encode()
    if hash_slot(base) == slot:
        # The list key's own hash tag carries over (or the slot matches by chance).
        return base
    if b"{" not in base:
        # No tag anywhere: append one that lands in the list's slot.
        return base + b"{" + _tag_for_slot(slot) + b"}"
    # An unclosed or empty "{...}" in the list key decides how the key hashes;
    # search for a suffix that puts it in the list's slot (rare ids; cached).
    counter = 0
    while True:
        candidate = base + b"{" + str(counter).encode() + b"}"
        if hash_slot(candidate) == slot:
            return candidate
        counter += 1
