"""The server-side scripts: each session operation is one of these, one round trip.

Every script touches only the session list (KEYS[1]) and its companion key of
recent batch ids (KEYS[2]), which share a cluster slot, so the store works
unchanged on Redis Cluster, Enterprise proxies and managed services.

Scripts are sent by digest (EVALSHA); when the server does not know a script
(restart, SCRIPT FLUSH, a new cluster node) the store sends its body once (EVAL),
which also caches it. That costs one extra round trip, once per server.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["ADD", "CLEAR", "GET", "POP", "Script"]


@dataclass(frozen=True)
class Script:
    name: str
    body: str

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.body.encode("utf-8")).hexdigest()


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

# ARGV: ttl ms to re-arm (0 = leave the TTL alone).
# Returns {length after, ttl refreshed (0/1)} plus the popped element when there was one.
# An emptied session takes its batch ids with it, so no key outlives the session.
POP = Script(
    "pop_item",
    """
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
redis.call('DEL', KEYS[1], KEYS[2])
return length
""",
)
