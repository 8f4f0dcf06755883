"""The server-side scripts: each session operation is one of these, one round trip.

Every script touches only the session list (KEYS[1]) and its two companion keys,
recent batch ids (KEYS[2]) and the last popped element (KEYS[3]), which all share
the list's cluster slot, so the store works unchanged on Redis Cluster, Enterprise
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


# KEYS[2] holds the ids of the most recent batches as one string, newest first:
# ",id,id,...," with fixed-width ids, so membership is one plain substring search
# and bounding it is one truncation at an entry boundary (GET + SET, no list ops).
# ARGV: ttl ms (0 = no TTL), max items (0 = unbounded), batch id ("" = none),
#       number of batch ids to remember, then the encoded items.
# Returns {length after, items trimmed, flags}: flags 1 = TTL refreshed,
# 2 = duplicate batch (already applied; nothing appended).
ADD = Script(
    "add_items",
    """
local ttl = tonumber(ARGV[1])
local max_items = tonumber(ARGV[2])
local batch_id = ARGV[3]
local seen = ','
if batch_id ~= '' then
  seen = redis.call('GET', KEYS[2]) or ','
  if string.find(seen, ',' .. batch_id .. ',', 1, true) then
    local refreshed = 0
    if ttl > 0 then
      refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
    end
    return {redis.call('LLEN', KEYS[1]), 0, refreshed + 2}
  end
end
local length = 0
for first = 5, #ARGV, 1000 do
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
if batch_id ~= '' then
  local keep = 1 + tonumber(ARGV[4]) * (#batch_id + 1)
  local ids = string.sub(',' .. batch_id .. seen, 1, keep)
  if ttl > 0 then
    redis.call('SET', KEYS[2], ids, 'PX', ttl)
  else
    redis.call('SET', KEYS[2], ids)
  end
end
return {length, trimmed, refreshed}
""",
)

# ARGV: ttl ms to re-arm (0 = leave the TTL alone), LRANGE start, LRANGE stop.
# Returns {length, ttl refreshed (0/1), {items...}}. The batch ids keep the TTL of
# the last write: they only matter while a write may still be re-sent.
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

# KEYS[3] holds the last popped element for a minute, tagged with the pop's id,
# so a pop re-sent by the client library after a lost reply returns the same
# element instead of removing a second one.
# ARGV: ttl ms to re-arm (0 = leave the TTL alone), pop id ("" = none),
#       ms to remember the popped element.
# Returns {length after, flags} plus the popped element when there was one;
# flags 1 = TTL refreshed, 2 = replayed (a re-sent pop). An emptied session drops
# its batch ids.
POP = Script(
    "pop_item",
    """
local pop_id = ARGV[2]
if pop_id ~= '' then
  local last = redis.call('GET', KEYS[3])
  if last and string.sub(last, 1, #pop_id + 1) == pop_id .. '\\n' then
    return {redis.call('LLEN', KEYS[1]), 2, string.sub(last, #pop_id + 2)}
  end
end
local item = redis.call('RPOP', KEYS[1])
local length = redis.call('LLEN', KEYS[1])
local ttl = tonumber(ARGV[1])
local refreshed = 0
if length == 0 then
  redis.call('DEL', KEYS[2])
elseif ttl > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
end
if item then
  if pop_id ~= '' then
    redis.call('SET', KEYS[3], pop_id .. '\\n' .. item, 'PX', tonumber(ARGV[3]))
  end
  return {length, refreshed, item}
end
return {length, refreshed}
""",
)

# Returns the number of items removed. LLEN first so a key of another type
# raises WRONGTYPE before anything is deleted.
CLEAR = Script(
    "clear_session",
    """
local length = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return length
""",
)
