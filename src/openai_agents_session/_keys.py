"""Key names: the session list and its companion key in the same cluster slot.

Redis Cluster hashes only the *hash tag* of a key when it has one: the text between
the first ``{`` and the first ``}`` after it, if that text is not empty. The list key
keeps the seed's layout, ``{key_prefix}:{session_id}``, so existing data reads with
no migration. The companion key (recent batch ids, for idempotent writes) must land
in the same slot so one script can touch both on a Cluster.
"""

from __future__ import annotations

import binascii
from functools import lru_cache

__all__ = [
    "BATCH_IDS",
    "COMPANION_SUFFIXES",
    "LAST_POP",
    "companion_key",
    "hash_slot",
    "session_key",
]

_SLOTS = 16384

# The store's companion keys, next to each session list in the same slot. Anything
# that deletes a session (clear_session, the CLI's rm) must delete all of them.
BATCH_IDS = "batches"
LAST_POP = "lastpop"
COMPANION_SUFFIXES = (BATCH_IDS, LAST_POP)


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


def hash_slot(key: str) -> int:
    """The Redis Cluster slot of ``key``."""
    return _crc16(_hash_input(key.encode("utf-8"))) % _SLOTS


@lru_cache(maxsize=1024)
def _tag_for_slot(slot: int) -> str:
    # A short hash tag that lands in `slot`: found by search (tens of thousands
    # of CRC computations in C at worst, a few ms), once per slot per process.
    candidate = 0
    while True:
        tag = f"s{candidate}"
        if _crc16(tag.encode()) % _SLOTS == slot:
            return tag
        candidate += 1


def companion_key(list_key: str, suffix: str) -> str:
    """A key unique to ``list_key`` that hashes to the same cluster slot.

    It starts with ``{``, so it is never the list key of another session (those
    start with the key prefix; the store refuses a prefix that would allow it).
    """
    raw = list_key.encode("utf-8")
    tag = _hash_input(raw)
    if tag != raw:
        # The list key has a hash tag of its own: lead with the same tag. Merely
        # appending to the list key would give the list key of the session
        # "<id>:<suffix>" under the same prefix.
        return f"{{{tag.decode('utf-8')}}}{list_key}:{suffix}"
    if "}" not in list_key:
        return f"{{{list_key}}}:{suffix}"
    # A key with a stray "}" cannot be wrapped in braces; use another tag that
    # hashes to the same slot, followed by the full key to stay unique.
    return f"{{{_tag_for_slot(hash_slot(list_key))}}}{list_key}:{suffix}"
