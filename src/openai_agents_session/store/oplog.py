"""The operation log: a write or pop applied once, however often it reaches the server.

redis-py re-sends a command after a connection error, so a command whose reply was
lost can arrive twice, sometimes late; a caller that catches a timeout and calls
again sends it a third time. Each write and pop therefore carries an operation id,
and its script records the id in the session's operation log (a sorted set next to
the list, scored by the server's clock). A copy whose id is in the log is
acknowledged without being applied again. A pop also keeps the item it removed
(in a hash next to the log, by id) so its copy answers with that same item.

The log never refuses work. It is bounded three ways, each evicting its oldest
entries first:

* time: ids older than ``WINDOW_MS`` leave the log (and the log expires with them);
* count: at most ``MAX_IDS`` ids, so one very busy conversation holds a bounded log;
* bytes: popped items are kept up to ``MAX_POPPED_BYTES`` and ``MAX_POPPED_ITEMS``
  (the newest one always, whatever its size).

An entry evicted while still inside the window is the one way the guarantee
weakens: a copy of that operation arriving later would apply again (or a replayed
pop would find no item). Every such eviction is reported (``StoreEvent.log_evictions``).

The caller's own retry: when a call ends without knowing whether the server
applied it (timeout, lost connection, cancellation), :class:`OperationIds`
remembers its id, and the next call of the same operation with the same items on
the same session object reuses it, so the retry is recognised like any copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from redis.exceptions import ClusterError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = [
    "LOG_COMMANDS",
    "LOG_PRELUDE",
    "MAX_IDS",
    "MAX_POPPED_BYTES",
    "MAX_POPPED_ITEMS",
    "POPPED_PRELUDE",
    "WINDOW_MS",
    "OperationIds",
    "log_arguments",
]

# How long an id is remembered: far beyond redis-py's retries and a caller's own.
WINDOW_MS = 120_000
# Ids per session: 12,000 writes and pops in a row are each recognised. About 77
# bytes each on the server (benchmarks/RESULTS.md), so ~906 KiB for the busiest
# session; at 100 operations a second sustained on one conversation the count, not
# the time, starts to bound the log.
MAX_IDS = 12_000
# Popped items kept for replays, by count and bytes (whichever binds first): a pop's
# copy comes within seconds, so these outlast any retry for pops up to a few a second.
MAX_POPPED_ITEMS = 1_000
MAX_POPPED_BYTES = 1024 * 1024


def log_arguments(operation_id: str) -> tuple[str, int, int, int, int]:
    """ARGV[1..5] of every logging script."""
    return operation_id, WINDOW_MS, MAX_IDS, MAX_POPPED_BYTES, MAX_POPPED_ITEMS


# ARGV[1] = operation id ("" = none: no log, KEYS[2] not declared), ARGV[2] = window
# ms, ARGV[3] = most ids kept. `evicted` counts entries dropped inside the window.
# Runs after the life prelude (.lifecycle), which defines now_ms, server_ms() and
# arm_popped(): the popped items, being content, never outlive the session's max_age.
LOG_PRELUDE = """
local op_id = ARGV[1]
local logged = op_id ~= ''
local window = tonumber(ARGV[2])
local max_ids = tonumber(ARGV[3])
local evicted = 0
if logged and now_ms == 0 then
  now_ms = server_ms()
end
local function seen()
  return logged and redis.call('ZSCORE', KEYS[2], op_id)
end
-- KEYS[3], the popped items (see below), live and expire with the log, so both keys
-- exist whenever either does: a script declaring both then never waits for a slot
-- migration just because one of them was not created yet. Re-armed here, the first
-- touch of KEYS[3] and before any other write; created by remember() if missing.
local popped_exists = false
if logged then
  popped_exists = arm_popped(window) == 1
end
local function remember()
  if not logged then
    return
  end
  if not popped_exists then
    redis.call('HSET', KEYS[3], '#head', 0, '#next', 0, '#bytes', 0)
    arm_popped(window)
    popped_exists = true
  end
  redis.call('ZADD', KEYS[2], now_ms, op_id)
  -- After the ZADD, so neither prune empties (deletes) the log.
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now_ms - window))
  local excess = redis.call('ZCARD', KEYS[2]) - max_ids
  if excess > 0 then
    redis.call('ZPOPMIN', KEYS[2], excess)
    evicted = evicted + excess
  end
  redis.call('PEXPIRE', KEYS[2], window)
end
local function push(first, last)
  local length = 0
  for chunk = first, last, 1000 do
    length = redis.call('RPUSH', KEYS[1], unpack(ARGV, chunk, math.min(chunk + 999, last)))
  end
  return length
end
"""

# KEYS[3], the popped items: a hash holding each kept item under its pop's id, and a
# first-in first-out ring of those ids ("#<n>" -> id, "#head" .. "#next"), with their
# bytes in "#bytes" (ids are hex, so no id starts with "#"). ARGV[4] = bytes kept,
# ARGV[5] = items kept. Only pops read and fill it; keep_popped runs after remember().
POPPED_PRELUDE = """
local popped = {0, 0, 0}
if logged then
  local meta = redis.call('HMGET', KEYS[3], '#head', '#next', '#bytes')
  popped = {tonumber(meta[1]) or 0, tonumber(meta[2]) or 0, tonumber(meta[3]) or 0}
end
local function keep_popped(item)
  if not logged then
    return
  end
  local head, nxt, bytes = popped[1], popped[2], popped[3]
  local max_bytes, max_items = tonumber(ARGV[4]), tonumber(ARGV[5])
  redis.call('HSET', KEYS[3], op_id, item, '#' .. nxt, op_id)
  nxt = nxt + 1
  bytes = bytes + #item
  -- Oldest first, never the item just kept; an item whose id left the log is
  -- unreachable and goes first whatever the budget.
  while nxt - head > 1 do
    local old = redis.call('HGET', KEYS[3], '#' .. head)
    local live = old and redis.call('ZSCORE', KEYS[2], old)
    if live and nxt - head <= max_items and bytes <= max_bytes then
      break
    end
    if old then
      bytes = bytes - redis.call('HSTRLEN', KEYS[3], old)
      redis.call('HDEL', KEYS[3], old, '#' .. head)
      if live then
        evicted = evicted + 1
      end
    end
    head = head + 1
  end
  redis.call('HSET', KEYS[3], '#head', head, '#next', nxt, '#bytes', bytes)
end
"""

LOG_COMMANDS = (
    *("evalsha", "eval", "time", "pexpire", "pexpireat"),
    *("zscore", "zadd", "zremrangebyscore", "zcard", "zpopmin"),
    *("hset",),
)

# Exceptions after which nobody knows whether the server applied the call.
_OUTCOME_UNKNOWN = (
    RedisConnectionError,
    RedisTimeoutError,
    TimeoutError,
    ConnectionError,
    ClusterError,
    asyncio.CancelledError,
)
# Unsettled calls one session object remembers; the oldest is forgotten first.
_UNSETTLED_KEPT = 64


def fingerprint(operation: str, parts: Sequence[bytes | str] = ()) -> bytes:
    """What makes two calls "the same call": the operation and its encoded arguments."""
    digest = hashlib.blake2b(operation.encode(), digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.digest()


class OperationIds:
    """Operation ids of one session object, reused by a call repeated after an unknown outcome.

    Several calls that look the same (pops; writes of equal items) may end unsettled
    on one session object shared by several tasks: each keeps its own id, and the
    repeats take them back oldest first, so every retry is recognised as the copy
    of exactly one earlier call.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        # Ids in the order their calls ended; the oldest is forgotten first.
        self._unsettled: OrderedDict[int, tuple[bytes, str, float]] = OrderedDict()
        self._serial = 0

    @contextmanager
    def call(self, operation: str, parts: Sequence[bytes | str] = ()) -> Iterator[str]:
        """The id for one call ("" when ids are off); kept if the call's outcome is unknown.

        ``operation`` and its encoded arguments ``parts`` tell which calls are the same;
        they are hashed only when an earlier call is unsettled or this one ends so,
        never on the common path.
        """
        if not self.enabled:
            yield ""
            return
        operation_id = self._take(operation, parts)
        try:
            yield operation_id
        except _OUTCOME_UNKNOWN:
            self._serial += 1
            call = fingerprint(operation, parts)
            self._unsettled[self._serial] = (call, operation_id, time.monotonic())
            while len(self._unsettled) > _UNSETTLED_KEPT:
                self._unsettled.popitem(last=False)
            raise

    def _take(self, operation: str, parts: Sequence[bytes | str]) -> str:
        if not self._unsettled:
            return os.urandom(8).hex()
        call_fingerprint = fingerprint(operation, parts)
        now = time.monotonic()
        for serial, (fingerprint_, operation_id, ended) in list(self._unsettled.items()):
            # Past the window the server has forgotten the id anyway.
            if now - ended >= WINDOW_MS / 1000:
                del self._unsettled[serial]
            elif fingerprint_ == call_fingerprint:
                del self._unsettled[serial]
                return operation_id
        return os.urandom(8).hex()
