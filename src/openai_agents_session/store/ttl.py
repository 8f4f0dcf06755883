"""When a read must re-arm the session's TTL: at most once per refresh interval.

Writes and pops re-arm the TTL inside their script, which costs little there. A
read that re-arms it must run a script too, and a script costs a read about a
third more than a bare ``LRANGE`` (on the server, every returned item passes
through the script engine). So a read re-arms the TTL only when no read of this
session through the same client has re-armed it for ``interval`` seconds; otherwise
it is a bare ``LRANGE``. The time is kept per client and key, not per session
object, so an app that builds a new session object for each request still reads
with a bare ``LRANGE``. Only reads count: a read right after a write still
re-arms, which keeps "every read re-arms" true at the granularity of the interval.

The guarantee that results: a session read at time *t* lives at least until
*t* + ``ttl`` - ``interval``. Proof: the read either re-arms the TTL itself, or
a read's re-arm sent at *s* > *t* - ``interval`` set the expiry to at least
*s* + ``ttl`` (the server ran it after *s*), and later operations only push it
further or delete the key. Times are the client's monotonic clock, taken before
each request is sent, so a slow reply only makes the bound safer.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

__all__ = ["RearmClock", "default_interval", "rearm_times_of"]

# Share of the TTL a read may leave un-refreshed by default: a session read at t
# lives until at least t + 99 % of its TTL.
DEFAULT_SHARE = 0.01


def default_interval(ttl_seconds: int) -> float:
    return ttl_seconds * DEFAULT_SHARE


# Keys whose latest re-arm one client remembers; past this the memory starts over
# (forgetting only makes the next reads re-arm, never fewer).
_REMEMBERED_KEYS = 100_000
_by_client: weakref.WeakKeyDictionary[Any, dict[str, float]] = weakref.WeakKeyDictionary()


def rearm_times_of(client: Any) -> dict[str, float]:
    """The re-arm times kept for ``client``'s keys, shared by every session using it."""
    try:
        return _by_client.setdefault(client, {})
    except TypeError:  # a client that cannot be weakly referenced: times of its own
        return {}


class RearmClock:
    """The client-side time of the latest read of one key that re-armed its TTL."""

    __slots__ = ("_key", "_times", "interval")

    def __init__(self, interval: float, key: str, times: dict[str, float]) -> None:
        self.interval = interval
        self._key = key
        self._times = times

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def due(self) -> bool:
        """True when a read must re-arm the TTL itself."""
        armed_at = self._times.get(self._key)
        return armed_at is None or time.monotonic() - armed_at >= self.interval

    def armed(self, sent_at: float) -> None:
        """A read sent at ``sent_at`` re-armed the TTL (its reply said so)."""
        times = self._times
        armed_at = times.get(self._key)
        if armed_at is None or sent_at > armed_at:
            if len(times) >= _REMEMBERED_KEYS:
                times.clear()
            times[self._key] = sent_at

    def forget(self) -> None:
        """The key is gone (cleared): the next read re-arms whatever key it finds."""
        self._times.pop(self._key, None)
