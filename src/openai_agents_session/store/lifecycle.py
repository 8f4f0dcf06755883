"""A session's life: retention by age (``max_age``) and its owner's registration.

Both live in one companion hash next to the list (``…\\xfflife``, same slot), read
and written by the session's own scripts, so they cost no extra round trip:

* ``born`` and ``until`` (= ``born`` + ``max_age``, ms of the server's clock): set by
  the write that starts the session. Every deadline the scripts give the list (or
  the popped items, which are content too) is at most ``until``: re-arming the idle
  TTL never extends a session past its age. The list then expires at ``until`` to
  the millisecond for every read (Redis checks a key's deadline on access).
* the hash itself expires :data:`LIFE_GRACE_MS` after the list's deadline, re-armed
  with it: a script that finds the list gone while the hash remains knows the
  session's age. Past ``until`` the session aged out: the operation reports it, once,
  and a write starts a new session. Before ``until`` the list was emptied (pops,
  clear) or idled out a moment ago, and the session keeps its age, which can only
  end it sooner. An abandoned session's hash (timestamps only) goes soon after its
  list.
* ``erased``: left by :class:`~openai_agents_session.store.owners.OwnerIndex.erase`
  for :data:`TOMBSTONE_MS`: the owner-index score it erased (see below).

Owners. A session created with ``owner=`` is listed in its owner's index (a sorted
set at ``{key_prefix}:\\xffowner:{owner}``, session id -> registration score, the
index node's clock in ms). The index is in another slot than the session, so the
two cannot change together; the protocol that keeps every session known:

1. a write that would create the list (the list does not exist) carries the score
   of a registration made at most :data:`REGISTRATION_MS` ago and newer than any
   ``erased`` mark; otherwise the script refuses, writing nothing, and the store
   registers (``ZADD``, a fresh, strictly greater score) and sends the write again;
2. an erase deletes the session's data, leaves ``erased`` = the score it saw, then
   removes the index entry only if its score is still the one it saw;
3. pruning (of ids whose list is gone) removes an entry only if it is older than
   :data:`PRUNE_AFTER_MS`, which no write can still use to create a list.

So a write that creates a list after an erase of its owner saw the index entry has
a newer registration than the erase's mark, which step 2 leaves in the index; any
write racing the erase either lands before the deletion (and is erased) or is
refused and registers again (and is listed).
"""

from __future__ import annotations

from .oplog import WINDOW_MS

__all__ = [
    "SERVER_CLOCK",
    "LIFE_COMMANDS",
    "LIFE_GRACE_MS",
    "LIFE_PRELUDE",
    "PRUNE_AFTER_MS",
    "REGISTRATION_MS",
    "TOMBSTONE_MS",
]

# How long a registration lets writes create the session's list. Far beyond the
# one round trip between registering and writing; a later creation registers again.
REGISTRATION_MS = 60_000
# An erase's mark must outlive every registration it may have to refuse, allowing
# the two nodes' clocks to differ by up to a minute; the same as the operation log.
TOMBSTONE_MS = WINDOW_MS
# Index entries of gone sessions younger than this may still be used by a write.
PRUNE_AFTER_MS = REGISTRATION_MS + 60_000
# How long after its age deadline a session's life hash stays to report that expiry.
LIFE_GRACE_MS = WINDOW_MS

# server_ms(): the server's clock in ms, for every script that scores or ages by it.
SERVER_CLOCK = """
local function server_ms()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
"""

# Defines now_ms, server_ms(), the `life` of the session and the functions every
# script uses to deadline the list. Expects `max_age` (ms, 0 = none) and
# `registration` ('' = no owner; else the score of the latest registration, '0' =
# none yet) to be set by the script; KEYS[#KEYS] is the life hash when either is.
# Only reads here: each script reads all its keys before its first write.
LIFE_PRELUDE = (
    SERVER_CLOCK
    + f"""
local now_ms = 0
local life_on = max_age > 0 or registration ~= ''
local life = {{}}
local list_exists = true
-- 1 when this operation is the first to find the session aged out.
local expired = 0
if life_on then
  now_ms = server_ms()
  life.key = KEYS[#KEYS]
  list_exists = redis.call('EXISTS', KEYS[1]) == 1
  local f = redis.call('HMGET', life.key, 'born', 'until', 'erased')
  life.born, life['until'], life.erased = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
  if life.born and not list_exists and life['until'] and now_ms >= life['until'] then
    -- Aged out: the session is over; the next write starts another.
    expired = 1
    life.born, life['until'], life.over = nil, nil, true
  end
end
-- Writes that create the list need a fresh registration with the owner's index.
local function unregistered()
  if registration == '' or list_exists then
    return false
  end
  local score = tonumber(registration) or 0
  return score == 0 or now_ms - score > {REGISTRATION_MS}
    or (life.erased ~= nil and score <= life.erased)
end
-- A write is about to store items: a session without an age starts one now.
local function begin_life()
  if max_age == 0 or life.born then
    return
  end
  life.born, life['until'] = now_ms, now_ms + max_age
  redis.call('HSET', life.key, 'born', life.born, 'until', life['until'])
end
-- An operation that starts no session clears the ended one's age (reported once).
local function end_life()
  if life.over then
    redis.call('HDEL', life.key, 'born', 'until')
  end
end
-- Re-arms the list's deadline: the idle TTL (ms, 0 = none) capped by the age.
-- The list must exist. Returns 1 when the idle TTL was re-armed.
local function rearm(ttl)
  if life['until'] then
    local deadline = life['until']
    if ttl > 0 and now_ms + ttl < deadline then
      deadline = now_ms + ttl
    end
    redis.call('PEXPIREAT', KEYS[1], deadline)
    redis.call('PEXPIREAT', life.key, deadline + {LIFE_GRACE_MS})
    return ttl > 0 and 1 or 0
  end
  if ttl > 0 then
    return redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return 0
end
-- The popped items (KEYS[3]) live with the operation log, never past the age.
local function arm_popped(window)
  if life['until'] and life['until'] < now_ms + window then
    return redis.call('PEXPIREAT', KEYS[3], life['until'])
  end
  return redis.call('PEXPIRE', KEYS[3], window)
end
"""
)

LIFE_COMMANDS = ("time", "exists", "hmget", "hset", "hdel", "pexpire", "pexpireat")
