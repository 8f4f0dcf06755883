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


# ARGV: ttl ms (0 = no TTL), max items (0 = unbounded), batch id ("" = none),
#       number of batch ids to remember, then the encoded items.
# Returns {length after, items trimmed, ttl refreshed (0/1), duplicate batch (0/1)}.
ADD = Script(
    "add_items",
    """
local ttl = tonumber(ARGV[1])
local max_items = tonumber(ARGV[2])
local batch_id = ARGV[3]
if batch_id ~= '' and redis.call('LPOS', KEYS[2], batch_id) then
  local refreshed = 0
  if ttl > 0 then
    refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
  return {redis.call('LLEN', KEYS[1]), 0, refreshed, 1}
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
if batch_id ~= '' then
  redis.call('LPUSH', KEYS[2], batch_id)
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
local refreshed = 0
if ttl > 0 then
  refreshed = redis.call('PEXPIRE', KEYS[1], ttl)
  if batch_id ~= '' then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return {length, trimmed, refreshed, 0}
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
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {length, refreshed, items}
""",
)

# KEYS[3] holds the last popped element for a minute, tagged with the pop's id,
# so a pop re-sent by the client library after a lost reply returns the same
# element instead of removing a second one.
# ARGV: ttl ms to re-arm (0 = leave the TTL alone), pop id ("" = none),
#       ms to remember the popped element.
# Returns {length after, ttl refreshed (0/1), replayed (0/1)} plus the popped
# element when there was one. An emptied session drops its batch ids.
POP = Script(
    "pop_item",
    """
local pop_id = ARGV[2]
if pop_id ~= '' then
  local last = redis.call('GET', KEYS[3])
  if last and string.sub(last, 1, #pop_id + 1) == pop_id .. '\\n' then
    return {redis.call('LLEN', KEYS[1]), 0, 1, string.sub(last, #pop_id + 2)}
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
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if item then
  if pop_id ~= '' then
    redis.call('SET', KEYS[3], pop_id .. '\\n' .. item, 'PX', tonumber(ARGV[3]))
  end
  return {length, refreshed, 0, item}
end
return {length, refreshed, 0}
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
