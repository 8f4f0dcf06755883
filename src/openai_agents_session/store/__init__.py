"""The store: ``RedisSession`` and what it needs, knowing nothing of telemetry.

* :mod:`.session`: the ``Session`` methods, each encode -> run -> event;
* :mod:`.options`: the session's options, checked once;
* :mod:`.scripts` and :mod:`.replies`: the table of server-side scripts and the
  named types of their replies;
* :mod:`.oplog`: operation ids and the log that applies each write and pop once;
* :mod:`.keys`: the list key and its companions, in one cluster slot;
* :mod:`.codec` and :mod:`.stack`: items to JSON and back, whatever the stack depth;
* :mod:`.execution`: one script, one round trip, and what can go wrong with it;
* :mod:`.ttl`: when a read re-arms the TTL;
* :mod:`.compaction`: the snapshot behind the SDK's compaction hooks;
* :mod:`.durability`: waiting for replicas in the same round trip.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import RedisSession


def __getattr__(name: str) -> Any:
    # Lazy: the keys and codec modules serve the operator CLI, which needs no Agents SDK.
    if name == "RedisSession":
        from .session import RedisSession

        return RedisSession
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RedisSession"]
