"""A session's options, checked once, each error naming the bad value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.memory.session_settings import SessionSettings, coerce_session_settings
from redis.asyncio import RedisCluster

from .._clients import InjectedClient, OwnedClients
from .durability import Durability
from .execution import DEFAULT_MIGRATION_WAIT
from .keys import DEFAULT_KEY_PREFIX, session_key
from .ttl import RearmClock, default_interval, rearm_times_of
from .validate import MAX_TTL_SECONDS, check_optional_positive_int, check_seconds, check_text

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_ITEM_BYTES",
    "DEFAULT_MIGRATION_WAIT",
    "StoreOptions",
]

DEFAULT_MAX_ITEM_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class StoreOptions:
    """What one ``RedisSession`` was asked to do.

    Attributes:
        session_id: the conversation's id (a non-empty string).
        key_prefix: the list lives at ``{key_prefix}:{session_id}``. Prefixes nest:
            session ``"x:y"`` under prefix ``"app"`` and session ``"y"`` under
            prefix ``"app:x"`` are the same key, so give tenants prefixes that are
            not prefixes of one another's keys (``app-a``, ``app-b``).
        ttl: seconds of inactivity after which the session expires (sliding);
            ``None`` keeps it forever.
        session_settings: the SDK's ``SessionSettings`` (or a dict of them);
            ``get_items()`` without a limit uses ``session_settings.limit``.
        max_items: keep at most this many newest items; older ones are trimmed in
            the same round trip as the write.
        refresh_ttl_on_read: re-arm the TTL on reads and pops too (default).
            ``False`` refreshes on writes only, like the SDK's own ``RedisSession``.
        read_refresh_interval: seconds; a read re-arms the TTL only when no read
            through the same client has re-armed it for that long, so most reads
            are a bare ``LRANGE``. A session read at time *t* lives at least until
            *t* + ``ttl`` - ``read_refresh_interval``. ``None``: 1 % of ``ttl``;
            ``0``: every read re-arms.
        idempotent_writes: log the id of every write and pop (see
            :mod:`~openai_agents_session.store.oplog`) so a copy re-sent by the
            client library, delivered late or retried by the caller is applied once.
        max_item_bytes: largest serialised item accepted (default 4 MiB); ``None``
            for no limit. Larger items raise ``ItemTooLargeError``.
        max_batch_bytes: largest serialised ``add_items`` batch (default 32 MiB).
        durability: wait for replicas (``Durability(replicas=1)``) in the same
            round trip as each write (not on ``RedisCluster`` clients).
        migration_wait: on a Redis Cluster, seconds an operation keeps retrying
            while its slot migrates or a primary fails over (default 10).
        max_age: seconds after its first write at which the session is deleted,
            however active it is (the idle ``ttl`` still applies before that). A write
            after that starts a new session. See :mod:`.lifecycle`.
        owner: the user (or tenant) the session belongs to: a write that creates
            the session records it in the owner's index, which
            :class:`~openai_agents_session.store.owners.OwnerIndex` lists, exports
            and erases. Never sent to telemetry.
    """

    session_id: str
    key_prefix: str = DEFAULT_KEY_PREFIX
    ttl: int | None = None
    session_settings: SessionSettings | None = None
    max_items: int | None = None
    refresh_ttl_on_read: bool = True
    read_refresh_interval: float = 0.0
    idempotent_writes: bool = True
    max_item_bytes: int | None = DEFAULT_MAX_ITEM_BYTES
    max_batch_bytes: int | None = DEFAULT_MAX_BATCH_BYTES
    durability: Durability | None = None
    migration_wait: float = DEFAULT_MIGRATION_WAIT
    max_age: int | None = None
    owner: str | None = None

    @classmethod
    def checked(
        cls,
        session_id: Any,
        *,
        key_prefix: Any = DEFAULT_KEY_PREFIX,
        ttl: Any = None,
        session_settings: Any = None,
        max_items: Any = None,
        refresh_ttl_on_read: Any = True,
        read_refresh_interval: Any = None,
        idempotent_writes: Any = True,
        max_item_bytes: Any = DEFAULT_MAX_ITEM_BYTES,
        max_batch_bytes: Any = DEFAULT_MAX_BATCH_BYTES,
        durability: Any = None,
        migration_wait: Any = DEFAULT_MIGRATION_WAIT,
        max_age: Any = None,
        owner: Any = None,
        client: Any = None,
    ) -> StoreOptions:
        """Every option checked; raises ``TypeError``/``ValueError`` naming the bad one."""
        ttl = check_optional_positive_int("ttl", ttl, maximum=MAX_TTL_SECONDS)
        if read_refresh_interval is None:
            interval = 0.0 if ttl is None else default_interval(ttl)
        else:
            interval = check_seconds("read_refresh_interval", read_refresh_interval)
            if ttl is not None and interval > ttl:
                raise ValueError(
                    f"read_refresh_interval must be at most ttl ({ttl} s), got {interval!r}: "
                    "reads would otherwise let a session expire however often it is read"
                )
        if durability is not None and not isinstance(durability, Durability):
            raise TypeError(f"durability must be a Durability or None, got {durability!r:.80}")
        if durability is not None and isinstance(client, RedisCluster):
            raise TypeError(
                "durability is not available with RedisCluster clients: WAIT must reach the "
                "node that took the write; use replica settings of the cluster instead"
            )
        return cls(
            session_id=check_text("session_id", session_id),
            key_prefix=check_text("key_prefix", key_prefix),
            ttl=ttl,
            session_settings=_settings(session_settings),
            max_items=check_optional_positive_int("max_items", max_items),
            refresh_ttl_on_read=bool(refresh_ttl_on_read),
            read_refresh_interval=interval,
            idempotent_writes=bool(idempotent_writes),
            max_item_bytes=check_optional_positive_int("max_item_bytes", max_item_bytes),
            max_batch_bytes=check_optional_positive_int("max_batch_bytes", max_batch_bytes),
            durability=durability,
            migration_wait=check_seconds("migration_wait", migration_wait),
            max_age=check_optional_positive_int("max_age", max_age, maximum=MAX_TTL_SECONDS),
            owner=None if owner is None else check_text("owner", owner),
        )

    @property
    def key(self) -> str:
        return session_key(self.key_prefix, self.session_id)

    @property
    def max_age_ms(self) -> int:
        """The session's age bound in ms (0: none)."""
        return 0 if self.max_age is None else self.max_age * 1000

    @property
    def lifecycle(self) -> bool:
        """Whether the scripts read and keep the session's life hash."""
        return self.max_age is not None or self.owner is not None

    @property
    def ttl_ms(self) -> int:
        """What writes and pops re-arm the TTL to (0: no TTL)."""
        return 0 if self.ttl is None else self.ttl * 1000

    @property
    def read_ttl_ms(self) -> int:
        """What reads and pops re-arm the TTL to (0: leave it alone)."""
        return self.ttl_ms if self.refresh_ttl_on_read else 0

    def rearm_clock(self, clients: InjectedClient | OwnedClients) -> RearmClock:
        """When reads re-arm the TTL, shared by every session object on one client."""
        if isinstance(clients, OwnedClients):
            # Its clients are its own, and so are the times its reads re-armed the TTL.
            return RearmClock(self.read_refresh_interval, self.key, {})
        return RearmClock(self.read_refresh_interval, self.key, rearm_times_of(clients.client))


def _settings(value: Any) -> SessionSettings:
    if value is None:
        return SessionSettings()
    if isinstance(value, SessionSettings):
        return value
    if isinstance(value, dict):
        return coerce_session_settings(value)
    raise TypeError(
        f"session_settings must be SessionSettings, a dict or None, got {type(value).__name__}"
    )
