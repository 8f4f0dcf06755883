"""The server-side scripts: each session operation is one of these, one round trip.

Every script touches only the session list (KEYS[1]) and its two companion keys,
recent operation ids (KEYS[2]) and the last popped element (KEYS[3]), which all
share the list's cluster slot, so the store works unchanged on Redis Cluster, Enterprise
proxies and managed services.

Scripts are sent by digest (EVALSHA); when the server does not know a script
(restart, SCRIPT FLUSH, a new cluster node) the store sends its body once (EVAL),
which also caches it. That costs one extra round trip, once per server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = ["ADD", "CLEAR", "GET", "POP", "Script"]


@dataclass(frozen=True)
class Script:
    name: str
    body: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.body.encode("utf-8")).hexdigest())


# KEYS[2] is a sorted set of the ids of recent writes and pops, scored by the
# server's clock in ms. An id seen within the window means the command is a copy
# re-sent (or delivered late) by the client library: it is acknowledged without
# being applied again. The window is a time, not a count, so a copy held back by
# retry backoff is recognised however many other writes came in between; ids are
# pruned past the window (and capped in number), and the key itself expires one
# window after the last write, whatever the session's own TTL.
# Shared preamble, ARGV[1] = operation id ("" = none), ARGV[2] = window ms,
# ARGV[3] = most ids to keep.
_SEEN = """
local op_id = ARGV[1]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function seen()
  return op_id ~= '' and redis.call('ZSCORE', KEYS[2], op_id)
end
local function remember()
  if op_id == '' then
    return
  end
  local window = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[2], now_ms, op_id)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms - window)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[3]) - 1)
  redis.call('PEXPIRE', KEYS[2], window)
end
"""

# ARGV[4..]: ttl ms (0 = no TTL), max items (0 = unbounded), then the encoded items.
# Returns {length after, items trimmed, flags}: flags 1 = TTL refreshed,
# 2 = duplicate batch (already applied; nothing appended).
ADD = Script(
    "add_items",
    _SEEN
    + """
local ttl = tonumber(ARGV[4])
local max_items = tonumber(ARGV[5])
if seen() then
  local refreshed = 0
  if ttl > 0 then
    refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return {redis.call('LLEN', KEYS[1]), 0, refreshed + 2}
end
local length = 0
for first = 6, #ARGV, 1000 do
  length = redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
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
remember()
return {length, trimmed, refreshed}
""",
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
)

# KEYS[3] keeps the newest popped element for one window, tagged with its pop's
# id, so the immediate retry of a pop whose reply was lost gets that element.
# ARGV[4]: ttl ms to re-arm (0 = leave the TTL alone).
# Returns {length after, flags} plus the popped element when there was one;
# flags 1 = TTL refreshed, 2 = replayed (a copy of a pop already applied).
POP = Script(
    "pop_item",
    _SEEN
    + """
if seen() then
  local last = redis.call('GET', KEYS[3])
  local length = redis.call('LLEN', KEYS[1])
  if last and string.sub(last, 1, #op_id + 1) == op_id .. '\\n' then
    return {length, 2, string.sub(last, #op_id + 2)}
  end
  return {length, 2}
end
local item = redis.call('RPOP', KEYS[1])
local length = redis.call('LLEN', KEYS[1])
local ttl = tonumber(ARGV[4])
local refreshed = 0
if ttl > 0 and length > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
if item then
  remember()
  if op_id ~= '' then
    redis.call('SET', KEYS[3], op_id .. '\\n' .. item, 'PX', tonumber(ARGV[2]))
  end
  return {length, refreshed, item}
end
return {length, refreshed}
""",
)

# Returns the number of items removed. LLEN first so a key of another type
# raises WRONGTYPE before anything is deleted. The recent operation ids stay (they
# expire on their own), so a late copy of a write acknowledged before the clear
# cannot bring its items back.
CLEAR = Script(
    "clear_session",
    """
local length = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[3])
return length
""",
)
