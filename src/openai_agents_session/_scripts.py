"""The server-side scripts: each session operation is one of these, one round trip.

KEYS[1] is the session list. Writes and pops also declare KEYS[2], the session's
operation log (see :mod:`._keys`: same prefix, same cluster slot). Reads and
clears declare the list only, so they run wherever the list is, even while its
cluster slot migrates.

Two rules keep a script whole while its slot migrates between cluster nodes. A
node runs a script only when it holds every declared key (else it answers ASK or
TRYAGAIN and nothing runs); inside the script, touching a key the node does not
hold aborts the script, and the server does not undo what it already did. So:

* every key is read before the first write, and
* no key is touched after a command that may have deleted it (the list after its
  last item is popped, the log after it is pruned).

Scripts are sent by digest (EVALSHA); when the server does not know a script
(restart, SCRIPT FLUSH, a new cluster node) the store sends its body once (EVAL),
which also caches it. That costs one extra round trip, once per server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["ADD", "CLEAR", "GET", "LOG_FULL", "POP", "REPLACE", "Script"]

# The first reply element of a write refused because its log is full.
LOG_FULL = -1


@dataclass(frozen=True)
class Script:
    name: str
    body: str
    # Every command the script may run: what its Redis user must be allowed.
    commands: tuple[str, ...]
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.body.encode("utf-8")).hexdigest())


# The operation log (KEYS[2]) is a sorted set of the ids of recent writes and pops,
# scored by the server's clock (TIME) in ms. An id found there means the command
# is a copy re-sent (or delivered late) by the client library: it is acknowledged
# without being applied again. A pop also logs "<id>\n<item>" so its copy returns
# the very item it removed, whatever other pops ran in between (for a minute, far
# beyond the client's retries); a pop that found nothing logs its id too, so its
# late copy removes nothing.
# Ids leave the log only when older than the window (ARGV[2] ms), never to make
# room: when ARGV[3] ids are younger than the window the write is refused instead
# (reply LOG_FULL), so memory stays bounded and the window stays a time.
# ARGV[1] = operation id ("" = none: no log, KEYS[2] not declared).
_LOG = """
local op_id = ARGV[1]
local logged = op_id ~= ''
local window = tonumber(ARGV[2])
local now_ms = 0
if logged then
  local now = redis.call('TIME')
  now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
local function seen()
  return logged and redis.call('ZSCORE', KEYS[2], op_id)
end
local function log_full()
  return logged and redis.call('ZCOUNT', KEYS[2], now_ms - window, '+inf') >= tonumber(ARGV[3])
end
local function remember(payload)
  if not logged then
    return
  end
  redis.call('ZADD', KEYS[2], now_ms, op_id)
  if payload then
    -- Scored as if a minute older: pruned a minute from now, once the client's
    -- retries of this pop are long over, rather than kept for the whole window.
    redis.call('ZADD', KEYS[2], now_ms - window + 60000, op_id .. '\\n' .. payload)
  end
  -- After the ZADD, so the prune never empties (deletes) the log.
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now_ms - window))
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

_LOG_COMMANDS = ("evalsha", "eval", "time", "zscore", "zcount", "zadd", "zremrangebyscore")

# ARGV[4..]: ttl ms (0 = no TTL), max items (0 = unbounded), then the encoded items.
# Returns {length after, items trimmed, flags}: flags 1 = TTL refreshed,
# 2 = duplicate batch (already applied; nothing appended).
ADD = Script(
    "add_items",
    _LOG
    + """
local ttl = tonumber(ARGV[4])
local max_items = tonumber(ARGV[5])
if seen() then
  local length = redis.call('LLEN', KEYS[1])
  local refreshed = 0
  if ttl > 0 then
    refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return {length, 0, refreshed + 2}
end
if log_full() then
  return {-1, 0, 0}
end
local length = push(6, #ARGV)
local trimmed = 0
if max_items > 0 and length > max_items then
  redis.call('LTRIM', KEYS[1], -max_items, -1)
  trimmed = length - max_items
  length = max_items
end
local refreshed = 0
if ttl > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
remember(false)
return {length, trimmed, refreshed}
""",
    (*_LOG_COMMANDS, "pexpire", "llen", "rpush", "ltrim"),
)

# ARGV: ttl ms to re-arm (0 = leave the TTL alone), LRANGE start, LRANGE stop.
# Returns {length, ttl refreshed (0/1), {items...}}.
GET = Script(
    "get_items",
    """
local items = redis.call('LRANGE', KEYS[1], ARGV[2], ARGV[3])
local length = redis.call('LLEN', KEYS[1])
local ttl = tonumber(ARGV[1])
local refreshed = 0
if ttl > 0 and length > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
return {length, refreshed, items}
""",
    ("evalsha", "eval", "lrange", "llen", "pexpire"),
)

# ARGV[4]: ttl ms to re-arm (0 = leave the TTL alone).
# Returns {length after, flags} plus the popped element when there was one;
# flags 1 = TTL refreshed, 2 = replayed (a copy of a pop already applied).
POP = Script(
    "pop_item",
    _LOG
    + """
local ttl = tonumber(ARGV[4])
local length = redis.call('LLEN', KEYS[1])
if seen() then
  local cursor = '0'
  repeat
    local page = redis.call('ZSCAN', KEYS[2], cursor, 'MATCH', op_id .. '\\n*', 'COUNT', 100)
    cursor = page[1]
    if #page[2] > 0 then
      return {length, 2, string.sub(page[2][1], #op_id + 2)}
    end
  until cursor == '0'
  return {length, 2}
end
if log_full() then
  return {-1, 0}
end
local refreshed = 0
if ttl > 0 and length > 1 then
  -- Before the RPOP: popping the last item deletes the list key.
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
if length == 0 then
  remember(false)
  return {0, refreshed}
end
local item = redis.call('RPOP', KEYS[1])
remember(item)
return {length - 1, refreshed, item}
""",
    (*_LOG_COMMANDS, "pexpire", "llen", "rpop", "zscan"),
)

# Returns the number of items removed. LLEN first so a key of another type
# raises WRONGTYPE before anything is deleted. The operation log stays (it expires
# on its own), so a late copy of a write acknowledged before the clear cannot
# bring its items back.
CLEAR = Script(
    "clear_session",
    """
local length = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return length
""",
    ("evalsha", "eval", "llen", "del"),
)

# Replaces the newest ARGV[6] items (all items when -1) with new ones, only if they
# are still exactly ARGV[7 .. 6 + ARGV[6]]: a write that came in since the caller
# read them makes the script refuse, so it is never lost.
# ARGV[4], ARGV[5]: ttl ms, max items; then the expected items, then the new ones.
# Returns {length after, items trimmed, flags, replaced (0/1)}; flags as for ADD.
REPLACE = Script(
    "replace_items",
    _LOG
    + """
local ttl = tonumber(ARGV[4])
local max_items = tonumber(ARGV[5])
local expected = tonumber(ARGV[6])
local first_new = 7 + math.max(expected, 0)
local length = redis.call('LLEN', KEYS[1])
if seen() then
  return {length, 0, 2, 1}
end
local keep = 0
if expected >= 0 then
  if expected == 0 or expected > length then
    return {length, 0, 0, 0}
  end
  local tail = redis.call('LRANGE', KEYS[1], -expected, -1)
  for index = 1, expected do
    if tail[index] ~= ARGV[6 + index] then
      return {length, 0, 0, 0}
    end
  end
  keep = length - expected
end
if log_full() then
  return {-1, 0, 0, 0}
end
local added = #ARGV - first_new + 1
-- The list is never emptied and then written again: an emptied key is gone, and
-- touching a gone key aborts the script while its slot migrates.
if keep > 0 then
  redis.call('LTRIM', KEYS[1], 0, keep - 1)
  if added > 0 then
    push(first_new, #ARGV)
  end
elseif added > 0 then
  push(first_new, #ARGV)
  redis.call('LTRIM', KEYS[1], -added, -1)
elseif length > 0 then
  redis.call('DEL', KEYS[1])
end
length = keep + added
local trimmed = 0
if max_items > 0 and length > max_items then
  redis.call('LTRIM', KEYS[1], -max_items, -1)
  trimmed = length - max_items
  length = max_items
end
local refreshed = 0
if ttl > 0 and length > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
remember(false)
return {length, trimmed, refreshed, 1}
""",
    (*_LOG_COMMANDS, "pexpire", "llen", "lrange", "rpush", "ltrim", "del"),
)
