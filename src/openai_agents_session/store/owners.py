"""Every session of one owner: listed, exported, erased (see :mod:`.lifecycle`).

``RedisSession(..., owner="user-42")`` registers the session in its owner's index
when a write creates it; :class:`OwnerIndex` answers for an owner:

* :meth:`OwnerIndex.sessions`: the ids of the owner's sessions that hold items now
  (ids whose list is gone are pruned from the index as they are found);
* :meth:`OwnerIndex.export`: each of those sessions with its items;
* :meth:`OwnerIndex.erase`: every session of the owner deleted, and the index with
  them. Idempotent and resumable: the index entry of a session goes only after its
  data, so a run stopped half-way leaves the rest listed and a second run finishes.

The index lives in its own cluster slot; the sessions in theirs. Nothing here needs
more than the ACL rule of the store: keys under ``{key_prefix}:``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from .._clients import RedisClient
from .codec import decode_items
from .execution import DEFAULT_MIGRATION_WAIT, run_command, run_script
from .keys import DEFAULT_KEY_PREFIX, life_key, owner_index_key, popped_items_key, session_key
from .lifecycle import PRUNE_AFTER_MS, REGISTRATION_MS, SERVER_CLOCK, TOMBSTONE_MS
from .scripts import Script
from .validate import check_text

__all__ = ["ERASE", "FORGET", "REGISTER", "OwnerIndex", "register"]

T = TypeVar("T")

# Sessions handled at once by an erase, an export or a listing: enough to hide
# round-trip time, few enough not to crowd other clients of the server.
_CONCURRENCY = 16
# Index entries per FORGET script: a script blocks the server while it runs.
_FORGET_BATCH = 500

# KEYS[1]: the owner's index. ARGV[1]: session id, ARGV[2]: ms the index must live at
# least (0: for ever). Returns the new score, strictly above the entry's previous
# one: an erase that saw the previous score cannot remove this registration.
REGISTER = Script(
    "register_owner",
    SERVER_CLOCK
    + """
local score = server_ms()
local previous = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if previous and previous >= score then
  score = previous + 1
end
redis.call('ZADD', KEYS[1], score, ARGV[1])
local keep = tonumber(ARGV[2])
if keep == 0 then
  redis.call('PERSIST', KEYS[1])
else
  local left = redis.call('PTTL', KEYS[1])
  if left >= 0 and left < keep then
    redis.call('PEXPIRE', KEYS[1], keep)
  end
end
return score
""",
    ("evalsha", "eval", "time", "zscore", "zadd", "persist", "pttl", "pexpire"),
    int,
)

# KEYS: the session's list, popped items and life hash. ARGV[1]: the index score the
# erase saw. Deletes the content and marks the life hash so that a registration no
# newer than the score creates nothing (see .lifecycle). The operation log stays: a
# late copy of a write acknowledged before the erase is recognised and not applied.
# Returns the number of items deleted. HSET before HDEL: the hash is never emptied
# (deleted) and then written, which a migrating slot would abort.
ERASE = Script(
    "erase_session",
    """
local length = redis.call('LLEN', KEYS[1])
local previous = tonumber(redis.call('HGET', KEYS[3], 'erased'))
redis.call('DEL', KEYS[1], KEYS[2])
local mark = tonumber(ARGV[1])
if previous and previous > mark then
  mark = previous
end
redis.call('HSET', KEYS[3], 'erased', mark)
redis.call('HDEL', KEYS[3], 'born', 'until')
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return length
""",
    ("evalsha", "eval", "llen", "hget", "del", "hset", "hdel", "pexpire"),
    int,
)

# KEYS[1]: the owner's index; ARGV[1]: ms an entry must be older than (by this node's
# clock, the one that scored it; 0: any age), then session id, score, session id,
# score... Removes each entry still at the score it was seen with; returns how many.
FORGET = Script(
    "forget_sessions",
    SERVER_CLOCK
    + """
local older_than = tonumber(ARGV[1])
local now_ms = 0
if older_than > 0 then
  now_ms = server_ms()
end
local removed = 0
for index = 2, #ARGV, 2 do
  local score = tonumber(ARGV[index + 1])
  if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[index])) == score
      and (older_than == 0 or now_ms - score > older_than) then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[index])
  end
end
return removed
""",
    ("evalsha", "eval", "time", "zscore", "zrem"),
    int,
)


async def register(
    client: RedisClient,
    key_prefix: str,
    owner: str,
    session_id: str,
    *,
    max_age_ms: int,
    migration_wait: float,
) -> int:
    """Record ``session_id`` under ``owner``; returns the registration's score.

    With ``max_age_ms`` every session of the index is gone ``max_age`` after its
    registration at the latest, so the index expires when its newest entry is that
    old (plus the registration window, covering clocks that differ between nodes).
    """
    keep = max_age_ms + 2 * REGISTRATION_MS if max_age_ms else 0
    score, _ = await run_script(
        client,
        REGISTER,
        (owner_index_key(key_prefix, owner),),
        (session_id, keep),
        key_prefix=key_prefix,
        migration_wait=migration_wait,
    )
    return int(score)


class OwnerIndex:
    """The sessions of each owner under one key prefix.

    Args:
        client: a ``redis.asyncio`` client (``Redis``, ``RedisCluster``, Sentinel's
            ``master_for``); never closed here.
        key_prefix: the sessions' key prefix.
        migration_wait: on a Redis Cluster, seconds each step keeps retrying while
            a slot migrates or a primary fails over.

    Example::

        index = OwnerIndex(client)
        for session_id in await index.sessions("user-42"):
            ...
        async for session_id, items in index.export("user-42"):
            ...
        erased = await index.erase("user-42")
    """

    def __init__(
        self,
        client: RedisClient,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        migration_wait: float = DEFAULT_MIGRATION_WAIT,
    ) -> None:
        if client is None:
            raise TypeError("client is required: a redis.asyncio client")
        self.client = client
        self.key_prefix = check_text("key_prefix", key_prefix)
        self.migration_wait = migration_wait

    def __repr__(self) -> str:
        return f"OwnerIndex(key_prefix={self.key_prefix!r})"

    async def sessions(self, owner: str) -> list[str]:
        """Ids of ``owner``'s sessions that hold items now, in registration order.

        Ids whose session is gone (expired, erased, emptied) are never returned, and
        are removed from the index once no write can still be creating them.
        """
        entries = await self._entries(owner)
        live = await self._live([session_id for session_id, _ in entries])
        gone = [entry for entry, alive in zip(entries, live, strict=True) if not alive]
        # Only old enough entries: a younger one may be a write creating its session now.
        await self._forget(owner, gone, older_than_ms=PRUNE_AFTER_MS)
        return [session_id for (session_id, _), alive in zip(entries, live, strict=True) if alive]

    async def export(self, owner: str) -> AsyncIterator[tuple[str, list[Any]]]:
        """Each of ``owner``'s sessions with its items (oldest first), one at a time.

        Stored elements that are not JSON are skipped, as ``get_items`` skips them.
        A session that ends between the listing and its read is left out.
        """
        for session_id in await self.sessions(owner):
            raw = await self._command("export", ("lrange",), self._reader(session_id))
            if raw:
                items, _, _ = decode_items(raw)
                yield session_id, items

    async def erase(self, owner: str) -> int:
        """Delete every session of ``owner`` and its index; returns the sessions that
        held items.

        Run it again after a failure or a crash and it finishes the job. A session
        created while it runs is either erased or listed by the next
        :meth:`sessions`; a late copy of a write acknowledged before the erase brings
        nothing back.
        """
        entries = await self._entries(owner)

        async def erase_one(entry: tuple[str, int]) -> int:
            session_id, score = entry
            key = session_key(self.key_prefix, session_id)
            keys = (key, popped_items_key(key), life_key(key))
            removed, _ = await run_script(
                self.client,
                ERASE,
                keys,
                (score, TOMBSTONE_MS),
                key_prefix=self.key_prefix,
                migration_wait=self.migration_wait,
            )
            return int(removed)

        removed = await _bounded(erase_one, entries)
        # Only now, after every session's data is gone: a crash before this line
        # leaves the index whole, and the next run erases what is left.
        await self._forget(owner, entries, older_than_ms=0)
        return sum(1 for items in removed if items > 0)

    # ------------------------------------------------------------------ internals

    async def _entries(self, owner: str) -> list[tuple[str, int]]:
        index = owner_index_key(self.key_prefix, check_text("owner", owner))
        found = await self._command(
            "list owner", ("zrange",), lambda: self.client.zrange(index, 0, -1, withscores=True)
        )
        return [(_text(member), int(score)) for member, score in found]

    async def _live(self, session_ids: Sequence[str]) -> list[bool]:
        async def exists(session_id: str) -> bool:
            key = session_key(self.key_prefix, session_id)
            found = await self._command("list owner", ("exists",), lambda: self.client.exists(key))
            return bool(found)

        return await _bounded(exists, session_ids)

    async def _forget(
        self, owner: str, entries: Sequence[tuple[str, int]], *, older_than_ms: int
    ) -> None:
        index = owner_index_key(self.key_prefix, owner)
        for start in range(0, len(entries), _FORGET_BATCH):
            batch = entries[start : start + _FORGET_BATCH]
            args = [older_than_ms, *(part for entry in batch for part in entry)]
            await run_script(
                self.client,
                FORGET,
                (index,),
                args,
                key_prefix=self.key_prefix,
                migration_wait=self.migration_wait,
            )

    def _reader(self, session_id: str) -> Callable[[], Awaitable[Any]]:
        key = session_key(self.key_prefix, session_id)
        return lambda: self.client.lrange(key, 0, -1)

    async def _command(
        self, name: str, commands: Sequence[str], call: Callable[[], Awaitable[Any]]
    ) -> Any:
        async def attempt() -> tuple[Any, int]:
            return await call(), 1

        reply, _ = await run_command(
            self.client,
            attempt,
            name=name,
            commands=commands,
            key_prefix=self.key_prefix,
            migration_wait=self.migration_wait,
        )
        return reply


async def _bounded(work: Callable[[T], Awaitable[Any]], inputs: Sequence[T]) -> list[Any]:
    """``work`` on every input, at most ``_CONCURRENCY`` at a time, results in order."""
    gate = asyncio.Semaphore(_CONCURRENCY)

    async def one(value: T) -> Any:
        async with gate:
            return await work(value)

    return list(await asyncio.gather(*(one(value) for value in inputs)))


def _text(member: bytes | str) -> str:
    return member.decode("utf-8") if isinstance(member, bytes) else member
