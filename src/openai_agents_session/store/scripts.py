"""The table of server-side scripts: each session operation is one of these, one round trip.

Each :class:`Script` declares which keys it needs, whether it logs its operation,
every command it may run (what its Redis user must be allowed) and a parser that
turns its reply into a named type, so a caller reads encode -> run -> event.

Keys (see :mod:`.keys`): KEYS[1] is the session list. Scripts that log their
operation also declare, when the call carries an id, KEYS[2], the operation log,
and KEYS[3], the items kept for replayed pops (created and expired with the log,
so both exist whenever either does). Reads and clears declare the list only, so
they run wherever the list is, even while its cluster slot migrates.

Two rules keep a script whole while its slot migrates between cluster nodes. A
node runs a script only when it holds every declared key (else it answers ASK or
TRYAGAIN and nothing runs); inside the script, touching a key the node does not
hold aborts the script, and the server does not undo what it already did. So:

* every key is read before the first write, and
* no key is touched after a command that may have deleted it (the list after its
  last item is popped).

Scripts are sent by digest (EVALSHA); when the server does not know a script
(restart, SCRIPT FLUSH, a new cluster node) the store sends its body once (EVAL),
which also caches it. That costs one extra round trip, once per server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from . import replies
from .lifecycle import LIFE_COMMANDS, LIFE_PRELUDE
from .oplog import LOG_COMMANDS, LOG_PRELUDE, POPPED_PRELUDE

__all__ = ["ADD", "CLEAR", "GET", "POP", "REPLACE", "SCRIPTS", "Script"]

Reply = TypeVar("Reply")


@dataclass(frozen=True)
class Script(Generic[Reply]):
    """One operation's script and what running it takes."""

    name: str
    body: str
    # Every command the script may run: what its Redis user must be allowed.
    commands: tuple[str, ...]
    parse: Callable[[Any], Reply]
    # Declares the operation log (KEYS[2]) and the popped items (KEYS[3]) when the
    # call carries an operation id.
    logs_operation: bool = False
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.body.encode("utf-8")).hexdigest())


# Keeps the newest max_items of a list of `length` items (0: all) and re-arms its
# deadline (ttl ms, 0: none; never past the session's age, see .lifecycle); returns
# the length, the items trimmed and whether the TTL was re-armed.
_TRIM_AND_REARM = """
local function trim_and_rearm(length, max_items, ttl)
  local trimmed = 0
  if max_items > 0 and length > max_items then
    redis.call('LTRIM', KEYS[1], -max_items, -1)
    trimmed = length - max_items
    length = max_items
  end
  local refreshed = 0
  if length > 0 then
    refreshed = rearm(ttl)
  end
  return length, trimmed, refreshed
end
"""

# ARGV[6], ARGV[7] of logging scripts: max_age ms (0 = none) and the owner
# registration ('' = no owner), read by the life prelude; then their own arguments.
_LIFE_ARGUMENTS = """
local max_age, registration = tonumber(ARGV[6]), ARGV[7]
"""
_WRITE_PRELUDE = _LIFE_ARGUMENTS + LIFE_PRELUDE + LOG_PRELUDE + _TRIM_AND_REARM

# ARGV[8]: ttl ms (0 = no TTL), ARGV[9]: max items (0 = unbounded), then the items.
# Replies {length, trimmed, refreshed, replayed, evicted, expired}.
ADD = Script(
    "add_items",
    _WRITE_PRELUDE
    + """
local ttl = tonumber(ARGV[8])
local max_items = tonumber(ARGV[9])
if seen() then
  local length, _, refreshed = trim_and_rearm(redis.call('LLEN', KEYS[1]), 0, ttl)
  return {length, 0, refreshed, 1, 0, 0}
end
if unregistered() then
  return {UNREGISTERED}
end
begin_life()
local length, trimmed, refreshed = trim_and_rearm(push(10, #ARGV), max_items, ttl)
remember()
return {length, trimmed, refreshed, 0, evicted, expired}
""".replace("UNREGISTERED", str(replies.UNREGISTERED)),
    (*LOG_COMMANDS, *LIFE_COMMANDS, "llen", "rpush", "ltrim"),
    replies.write,
    logs_operation=True,
)

# ARGV: ttl ms to re-arm (0 = leave the TTL alone), LRANGE start, LRANGE stop,
# max_age ms (0 = none: the life hash is not declared).
GET = Script(
    "get_items",
    """
local max_age, registration = tonumber(ARGV[4]), ''
"""
    + LIFE_PRELUDE
    + """
local items = redis.call('LRANGE', KEYS[1], ARGV[2], ARGV[3])
local length = redis.call('LLEN', KEYS[1])
local ttl = tonumber(ARGV[1])
local refreshed = 0
if length > 0 then
  refreshed = rearm(ttl)
end
end_life()
return {length, refreshed, items, expired}
""",
    ("evalsha", "eval", "lrange", "llen", *LIFE_COMMANDS),
    replies.read,
)

# ARGV[8]: ttl ms to re-arm (0 = leave the TTL alone).
# A replayed pop answers with the item the original removed, found by its id
# among the popped items; a pop that found the list empty keeps nothing.
# Replies {length, refreshed, replayed, evicted, expired[, item]}.
POP = Script(
    "pop_item",
    _LIFE_ARGUMENTS
    + LIFE_PRELUDE
    + LOG_PRELUDE
    + POPPED_PRELUDE
    + """
local ttl = tonumber(ARGV[8])
local length = redis.call('LLEN', KEYS[1])
if seen() then
  return {length, 0, 1, 0, 0, redis.call('HGET', KEYS[3], op_id)}
end
local refreshed = 0
if length > 1 then
  -- Before the RPOP: popping the last item deletes the list key.
  refreshed = rearm(ttl)
end
end_life()
if length == 0 then
  remember()
  return {0, refreshed, 0, evicted, expired}
end
local item = redis.call('RPOP', KEYS[1])
remember()
keep_popped(item)
return {length - 1, refreshed, 0, evicted, expired, item}
""",
    (*LOG_COMMANDS, *LIFE_COMMANDS, "llen", "rpop", "hget", "hmget", "hdel", "hstrlen"),
    replies.pop,
    logs_operation=True,
)

# Returns the number of items removed. LLEN first so a key of another type
# raises WRONGTYPE before anything is deleted. The operation log stays (it expires
# on its own), so a late copy of a write acknowledged before the clear cannot
# bring its items back. A session with max_age keeps its age: a clear empties it,
# the next write does not start a new one.
CLEAR = Script(
    "clear_session",
    """
local length = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return length
""",
    ("evalsha", "eval", "llen", "del"),
    int,
)

# Replaces the newest ARGV[10] items (all items when -1) with new ones, only if they
# are still exactly ARGV[11 .. 10 + ARGV[10]]: a write that came in since the caller
# read them makes the script refuse, so it is never lost.
# ARGV[8], ARGV[9]: ttl ms, max items; then the expected items, then the new ones.
# Replies {length, trimmed, refreshed, replayed, evicted, replaced, expired}.
REPLACE = Script(
    "replace_items",
    _WRITE_PRELUDE
    + """
local ttl = tonumber(ARGV[8])
local max_items = tonumber(ARGV[9])
local expected = tonumber(ARGV[10])
local first_new = 11 + math.max(expected, 0)
local length = redis.call('LLEN', KEYS[1])
if seen() then
  return {length, 0, 0, 1, 0, 1, 0}
end
local keep = 0
if expected >= 0 then
  if expected == 0 or expected > length then
    return {length, 0, 0, 0, 0, 0, 0}
  end
  local tail = redis.call('LRANGE', KEYS[1], -expected, -1)
  for index = 1, expected do
    if tail[index] ~= ARGV[10 + index] then
      return {length, 0, 0, 0, 0, 0, 0}
    end
  end
  keep = length - expected
end
local added = #ARGV - first_new + 1
if keep == 0 and added > 0 and unregistered() then
  return {UNREGISTERED}
end
if added > 0 then
  begin_life()
else
  end_life()
end
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
local trimmed, refreshed
length, trimmed, refreshed = trim_and_rearm(keep + added, max_items, ttl)
remember()
return {length, trimmed, refreshed, 0, evicted, 1, expired}
""".replace("UNREGISTERED", str(replies.UNREGISTERED)),
    (*LOG_COMMANDS, *LIFE_COMMANDS, "llen", "lrange", "rpush", "ltrim", "del"),
    replies.replace,
    logs_operation=True,
)

SCRIPTS: tuple[Script[Any], ...] = (ADD, GET, POP, CLEAR, REPLACE)
