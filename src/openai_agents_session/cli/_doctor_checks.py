"""What ``doctor`` concludes from a server's ``INFO``: one finding per assumption of the store.

The store assumes its server keeps what it wrote (no eviction of its keys), says
where durability comes from (persistence, replicas), and runs a version whose
scripts and commands it uses. Each check reads only ``INFO`` fields, so it works
with any user allowed ``INFO``; without that permission it says what it could not
check rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Finding", "clocks", "eviction", "persistence", "replication", "server"]

# The owner index and a session live on different nodes of a cluster, and the data
# lifecycle compares their clocks with a minute of margin (store.lifecycle); warn
# long before that margin is at risk.
CLOCK_WARN_MS = 1_000
CLOCK_PROBLEM_MS = 30_000

Status = Literal["ok", "warn", "problem", "unknown"]


@dataclass(frozen=True)
class Finding:
    """One check's result: what was found, and what to do about it (empty when nothing)."""

    check: str
    status: Status
    found: str
    advice: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "status": self.status,
            "found": self.found,
            "advice": self.advice,
        }


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def server(info: Mapping[str, Any]) -> Finding:
    """Server kind, version and mode; Redis before 7.0 and Valkey before 7.2 are untested."""
    if "valkey_version" in info:
        name, version, floor = "Valkey", str(info["valkey_version"]), (7, 2)
    else:
        name, version, floor = "Redis", str(info.get("redis_version", "?")), (7, 0)
    mode = str(info.get("server_mode") or info.get("redis_mode") or "standalone")
    found = f"{name} {version}, {mode}"
    if _version(version)[:2] < floor:
        return Finding(
            "server",
            "warn",
            found,
            f"the store is tested on {name} {'.'.join(map(str, floor))} and newer; upgrade",
        )
    return Finding("server", "ok", found)


def eviction(info: Mapping[str, Any]) -> Finding:
    """``maxmemory-policy``: only ``noeviction`` (or no memory limit) keeps what was written."""
    policy = str(info.get("maxmemory_policy", "?"))
    limit = int(info.get("maxmemory", 0) or 0)
    found = f"maxmemory-policy {policy}, maxmemory {_size(limit) if limit else 'unlimited'}"
    if policy == "noeviction":
        return Finding("eviction", "ok", found)
    if limit == 0:
        return Finding(
            "eviction",
            "warn",
            found,
            "nothing is evicted while no maxmemory is set; if one is ever set (managed "
            "services often do), set maxmemory-policy noeviction too",
        )
    if policy.startswith("volatile-"):
        why = (
            "keys with a TTL are evicted first: the operation logs (exactly-once silently "
            "ends) and, with ttl=, the conversations themselves"
        )
    else:
        why = "any key may be evicted: acknowledged conversations vanish with no error"
    return Finding(
        "eviction",
        "problem",
        found,
        f"{why}; set maxmemory-policy noeviction (full memory then fails writes loudly, "
        "counted as errors) and size maxmemory for the sessions",
    )


def persistence(info: Mapping[str, Any], save_schedule: str | None = None) -> Finding:
    """AOF, RDB snapshots, or nothing: what survives a restart.

    ``save_schedule`` is ``CONFIG GET save`` when the user may read it; without it a
    snapshot schedule shows only once a snapshot was taken.
    """
    if str(info.get("aof_enabled", "0")) == "1":
        return Finding("persistence", "ok", "AOF enabled")
    snapshots = (
        bool(save_schedule)
        if save_schedule is not None
        else (int(info.get("rdb_saves", 0) or 0) > 0)
    )
    if snapshots:
        return Finding(
            "persistence",
            "warn",
            "RDB snapshots only" + (f" (save {save_schedule})" if save_schedule else ""),
            "a crash loses what was written since the last snapshot; enable AOF "
            "(appendonly yes, appendfsync everysec) if conversations must survive it",
        )
    found = (
        "no AOF and no snapshots"
        if save_schedule is not None
        else ("no AOF, and no snapshot taken since start (the save schedule could not be read)")
    )
    return Finding(
        "persistence",
        "warn",
        found,
        "a restart loses every conversation; enable AOF (appendonly yes) or snapshots, "
        "unless sessions are disposable",
    )


def replication(info: Mapping[str, Any]) -> Finding:
    """The node's role and replicas: a replica refuses writes; no replica, no failover."""
    role = str(info.get("role", "?"))
    if role in ("slave", "replica"):
        return Finding(
            "replicas",
            "problem",
            "this node is a replica",
            "writes are refused (READONLY): point the URL at the primary, or use a "
            "redis+sentinel:// or redis+cluster:// URL that finds it",
        )
    replicas = int(info.get("connected_slaves", 0) or 0)
    found = f"primary with {replicas} connected replica{'s' if replicas != 1 else ''}"
    if replicas == 0:
        return Finding(
            "replicas",
            "warn",
            found,
            "a failure of this node loses the sessions until it is back (and, without "
            "persistence, for good); add a replica, and durability=Durability(replicas=1) "
            "to wait for it",
        )
    return Finding("replicas", "ok", found)


def clocks(offsets: Mapping[str, float]) -> Finding:
    """How far apart the primaries' clocks are (ms, each corrected by half its round trip).

    ``max_age`` deadlines are each node's own; owners' indexes are kept with scores of
    one node's clock checked against another's, with a minute of margin.
    """
    if len(offsets) < 2:
        return Finding("clocks", "ok", "one primary: nothing to compare")
    spread = max(offsets.values()) - min(offsets.values())
    found = f"{len(offsets)} primaries' clocks within {spread:.0f} ms of each other"
    if spread >= CLOCK_PROBLEM_MS:
        return Finding(
            "clocks",
            "problem",
            found,
            "owner indexes need the nodes' clocks within a minute of each other (a write "
            "could create a session its owner's erase misses); run NTP on every node",
        )
    if spread >= CLOCK_WARN_MS:
        return Finding(
            "clocks", "warn", found, "run NTP (or chrony) on every node: clocks drift apart"
        )
    return Finding("clocks", "ok", found)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
