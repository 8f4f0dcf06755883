"""RedisSession: conversation history in one Redis list per session.

Storage model (data-compatible with the ``openai-agents-session`` 0.1 package):
the key ``{key_prefix}:{session_id}`` holds a list, one JSON document per item,
oldest at the head. Every operation is one command or server-side script, so each
call is one round trip, atomic, and touches a single cluster slot:

* ``add_items``: append, trim to ``max_items``, re-arm the TTL, and log the
  operation id so a write re-sent by the client library after a lost reply (or
  delivered late) is acknowledged without being applied twice;
* ``get_items``: read the newest ``limit`` items: a script that also re-arms the
  TTL on at most one read per ``read_refresh_interval`` of this session object, a
  bare ``LRANGE`` on the others (see ``_ttl``);
* ``pop_item``: remove the newest item, re-arm the TTL, and log the id with the
  item, so a re-sent pop returns that same item and removes nothing else;
* ``clear_session``: delete the list. The operation log stays until it expires,
  so a late copy of an earlier write cannot bring erased items back;
* ``_get_compaction_snapshot`` / ``_atomic_replace_items``: the Agents SDK's
  compaction hooks, replacing history in one script (see ``_compaction``).

There is never a moment where the key exists without its TTL.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agents.memory import SessionABC
from agents.memory.session_settings import (
    SessionSettings,
    coerce_session_settings,
    resolve_session_limit,
)
from redis.asyncio import RedisCluster
from redis.exceptions import ResponseError

from . import _scripts
from ._clients import InjectedClient, OwnedClients, RedisClient
from ._codec import CorruptItem, decode_item, decode_items, encode_items, stored_size
from ._compaction import CompactionHooks
from ._execution import check_waitaof, run_command, run_script
from ._keys import operation_log_key, session_key
from ._server import server_of_client, server_of_url
from ._ttl import RearmClock, default_interval, rearm_times_of
from ._validate import (
    MAX_TTL_SECONDS,
    check_limit,
    check_optional_positive_int,
    check_seconds,
    check_text,
)
from .durability import Durability
from .errors import DurabilityError, OperationLogFullError, SessionKeyTypeError
from .events import StoreEvent, StoreInfo, StoreObserver, report

if TYPE_CHECKING:
    from agents.items import TResponseInputItem
    from agents.run_context import RunContextWrapper

__all__ = ["RedisSession"]

# How long a session remembers the ids of its recent writes and pops, so a copy
# re-sent by the client library (or delivered late) is not applied twice. It must
# outlast the client's retries and backoff; two minutes is far beyond redis-py's.
OPERATION_WINDOW_MS = 120_000
# The most ids a session remembers within the window (under 100 bytes each in a
# sorted set, so under 1 MB, plus the items of pops, kept a minute for their
# re-sent copies). Past it
# the session refuses writes until ids age out (OperationLogFullError) rather
# than forget one early: 83 writes a second, sustained for two minutes, on one
# conversation.
OPERATION_LOG_LIMIT = 10_000
DEFAULT_MIGRATION_WAIT = 10.0
# LRANGE takes signed 64-bit indexes; a larger limit means "everything" anyway.
_LARGEST_WINDOW = 2**62
DEFAULT_MAX_ITEM_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024


class RedisSession(CompactionHooks, SessionABC):
    """Agents SDK session stored in a Redis list, one round trip per operation.

    Args:
        session_id: the conversation's id (a non-empty string).
        redis_client: a ``redis.asyncio`` client: ``Redis`` (with or without
            ``decode_responses``), ``RedisCluster``, or a Sentinel ``master_for``
            client. The session never closes it.
        key_prefix: the list lives at ``{key_prefix}:{session_id}``.
        ttl: seconds of inactivity after which the session expires (sliding);
            ``None`` keeps it forever.
        session_settings: the SDK's ``SessionSettings`` (or a dict of them);
            ``get_items()`` without a limit uses ``session_settings.limit``.
        max_items: keep at most this many newest items; older ones are trimmed in
            the same round trip as the write.
        refresh_ttl_on_read: re-arm the TTL on reads and pops too (default, like
            the seed package). ``False`` refreshes on writes only, like the SDK's
            own ``RedisSession``: a session then expires ``ttl`` after its last write
            however often it is read.
        read_refresh_interval: seconds; a read re-arms the TTL only when no read
            of this session object has re-armed it for that long, so most reads
            are a bare ``LRANGE``. A session read at time *t* then lives at least
            until *t* + ``ttl`` - ``read_refresh_interval``; writes and pops always
            re-arm. ``None`` (default): 1 % of ``ttl``. ``0``: every read re-arms
            (a script per read, about a third slower). The first read of each
            session object re-arms, so reuse one object per conversation where
            reads are frequent.
        idempotent_writes: log the id of every write and pop for two minutes in
            the session's operation log (a sorted set next to the list: same key
            prefix, same cluster slot) so a write or pop that the client library
            re-sends after a lost reply, or that arrives late, is not applied twice;
            a pop's log entry keeps its item so the re-sent copy returns it. At
            most 10,000 ids within the window: past that, writes and pops raise
            ``OperationLogFullError`` until ids age out. On by default.
        max_item_bytes: largest serialised item accepted (default 4 MiB);
            ``None`` for no limit. Larger items raise ``ItemTooLargeError``.
        max_batch_bytes: largest serialised ``add_items`` batch (default 32 MiB).
        durability: wait for replicas (``Durability(replicas=1)``) in the same
            round trip as each write; a write that is applied but not confirmed
            raises ``DurabilityError`` (a pop's item is in its ``item``); see
            :mod:`openai_agents_session.durability`. Not on ``RedisCluster`` clients.
        migration_wait: on a Redis Cluster, how many seconds an operation keeps
            retrying while its slot migrates or a primary fails over (default 10);
            writes and pops wait for a migration to finish when their keys are
            split between the two nodes. ``0`` raises at once.
        observer: receives a :class:`~openai_agents_session.events.StoreEvent`
            after every operation.

    Example::

        import redis.asyncio as redis
        from openai_agents_session import RedisSession

        client = redis.Redis.from_url("redis://localhost:6379/0")
        session = RedisSession("user-123", client, ttl=3600, max_items=500)
        result = await Runner.run(agent, "Hello", session=session)
    """

    session_settings: SessionSettings | None = None

    def __init__(
        self,
        session_id: str,
        redis_client: RedisClient,
        *,
        key_prefix: str = "openai_agents_session",
        ttl: int | None = None,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        max_items: int | None = None,
        refresh_ttl_on_read: bool = True,
        read_refresh_interval: float | None = None,
        idempotent_writes: bool = True,
        max_item_bytes: int | None = DEFAULT_MAX_ITEM_BYTES,
        max_batch_bytes: int | None = DEFAULT_MAX_BATCH_BYTES,
        durability: Durability | None = None,
        migration_wait: float = DEFAULT_MIGRATION_WAIT,
        observer: StoreObserver | None = None,
    ) -> None:
        self.session_id = check_text("session_id", session_id)
        check_text("key_prefix", key_prefix)
        self._ttl = check_optional_positive_int("ttl", ttl, maximum=MAX_TTL_SECONDS)
        self.max_items = check_optional_positive_int("max_items", max_items)
        self.refresh_ttl_on_read = bool(refresh_ttl_on_read)
        if read_refresh_interval is None:
            interval = 0.0 if self._ttl is None else default_interval(self._ttl)
        else:
            interval = check_seconds("read_refresh_interval", read_refresh_interval)
            if self._ttl is not None and interval > self._ttl:
                raise ValueError(
                    f"read_refresh_interval must be at most ttl ({self._ttl} s), got {interval!r}: "
                    "reads would otherwise let a session expire however often it is read"
                )
        self.read_refresh_interval = interval
        self.idempotent_writes = bool(idempotent_writes)
        self.max_item_bytes = check_optional_positive_int("max_item_bytes", max_item_bytes)
        self.max_batch_bytes = check_optional_positive_int("max_batch_bytes", max_batch_bytes)
        if durability is not None and not isinstance(durability, Durability):
            raise TypeError(f"durability must be a Durability or None, got {durability!r:.80}")
        if durability is not None and isinstance(redis_client, RedisCluster):
            raise TypeError(
                "durability is not available with RedisCluster clients: WAIT must reach the "
                "node that took the write; use replica settings of the cluster instead"
            )
        self.durability = durability
        self.migration_wait = check_seconds("migration_wait", migration_wait)
        self.session_settings = _settings(session_settings)
        self.key = session_key(key_prefix, session_id)
        self.key_prefix = key_prefix
        # Scripts address them as KEYS[1] and KEYS[2].
        self.operation_log_key = operation_log_key(self.key)
        # Shared with every session object on this client: see _ttl.
        self._rearm = RearmClock(interval, self.key, rearm_times_of(redis_client))
        self._observer = observer
        self._clients: InjectedClient | OwnedClients
        if redis_client is None:
            raise TypeError("redis_client is required; use RedisSession.from_url(...) to build one")
        self._clients = InjectedClient(redis_client)
        self._closed = False

    @classmethod
    def from_url(cls, session_id: str, url: str, **options: Any) -> RedisSession:
        """A session that owns its client, built from ``url``; ``close()`` releases it.

        ``options`` are this class's keyword options; ``redis_options`` (a dict) goes
        to the client. Schemes: ``redis://``, ``rediss://``, ``unix://``,
        ``redis+cluster://`` and ``redis+sentinel://host:port[,host:port]/service``.
        The session keeps one client per event loop, so it survives repeated
        ``Runner.run_sync`` calls.
        """
        redis_options = dict(options.pop("redis_options", None) or {})
        owned = OwnedClients(url, redis_options)
        owned_session = cls.__new__(cls)
        # Validate everything through the normal constructor with a placeholder,
        # then swap in the owned clients.
        cls.__init__(owned_session, session_id, _PLACEHOLDER_CLIENT, **options)
        owned_session._clients = owned
        # Its clients are its own, and so are the times its reads re-armed the TTL.
        owned_session._rearm = RearmClock(
            owned_session.read_refresh_interval, owned_session.key, {}
        )
        return owned_session

    @property
    def ttl(self) -> int | None:
        """Sliding time-to-live in seconds, or ``None``."""
        return self._ttl

    async def close(self) -> None:
        """Release the client if the session owns it (``from_url``); idempotent."""
        self._closed = True
        await self._clients.aclose()

    async def __aenter__(self) -> RedisSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ protocol
    # Each public method reports, through events.report, the StoreEvent its private
    # twin returns with the result; instrumentation learns store facts only that way.

    async def get_items(
        self,
        limit: int | None = None,
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> list[TResponseInputItem]:
        """The newest ``limit`` items in chronological order (all when ``None``).

        ``limit <= 0`` returns ``[]``. Stored elements that are not JSON are skipped
        and reported; a limited read still returns ``limit`` valid items when that
        many exist.
        """
        items, event = await self._get_items(limit)
        report(event, self._observer)
        return items

    async def _get_items(self, limit: int | None) -> tuple[list[TResponseInputItem], StoreEvent]:
        limit = resolve_session_limit(check_limit(limit), self.session_settings)
        if limit is not None and limit <= 0:
            return [], StoreEvent("get_items", round_trips=0)
        window = None if limit is None or limit >= _LARGEST_WINDOW else limit
        rearm = self._read_ttl_ms() > 0 and self._rearm.due()
        refreshed = False
        round_trips = 0
        while True:
            start = 0 if window is None else -window
            length: int | None
            if rearm:
                sent_at = self._rearm.now()
                reply, trips = await self._run(_scripts.GET, self._read_ttl_ms(), start, -1)
                length, refreshed, raw_items = int(reply[0]), bool(reply[1]), reply[2]
                if refreshed:
                    self._rearm.armed(sent_at)
                    rearm = False
            else:
                raw_items, trips = await self._read_range(start, -1)
                # The length is known when the range reached the head of the list.
                length = len(raw_items) if window is None or len(raw_items) < window else None
            round_trips += trips
            items, corrupt, size = decode_items(raw_items)
            complete = length is not None and len(raw_items) >= length
            if limit is None or window is None or len(items) >= limit or complete:
                items = items if limit is None else items[-limit:]
                return items, StoreEvent(
                    "get_items",
                    items=len(items),
                    bytes=size,
                    session_length=length,
                    ttl_refreshed=refreshed,
                    corrupt_skipped=corrupt,
                    round_trips=round_trips,
                )
            # Corrupt elements among the newest: widen the window and read again.
            assert limit is not None  # a window exists only for a limited read
            window = min(max(window * 2, limit + corrupt), _LARGEST_WINDOW)

    async def add_items(
        self,
        items: list[TResponseInputItem],
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> None:
        """Append ``items`` atomically: all of them or, on error, none.

        Raises ``TypeError``/``ValueError`` naming the first item that cannot be
        stored as JSON, before anything is sent.
        """
        event = await self._add_items(items)
        if event is not None:
            report(event, self._observer)

    async def _add_items(self, items: list[TResponseInputItem]) -> StoreEvent | None:
        encoded = encode_items(
            items, max_item_bytes=self.max_item_bytes, max_batch_bytes=self.max_batch_bytes
        )
        if not encoded:
            return None
        reply, trips = await self._run(
            _scripts.ADD, *self._operation_id_args(), self._ttl_ms(), self.max_items or 0, *encoded
        )
        sizes = tuple(len(e) for e in encoded)
        flags = int(reply[2])
        return StoreEvent(
            "add_items",
            items=len(encoded),
            bytes=sum(sizes),
            session_length=int(reply[0]),
            trimmed=int(reply[1]),
            ttl_refreshed=bool(flags & 1),
            duplicate_batch=bool(flags & 2),
            item_sizes=sizes,
            round_trips=trips,
        )

    async def pop_item(
        self,
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> TResponseInputItem | None:
        """Remove and return the newest item; ``None`` when the session is empty.

        Corrupt elements at the tail are dropped (and reported) until a valid item
        or the head is reached, as the SDK's own sessions do.
        """
        item, event = await self._pop_item()
        report(event, self._observer)
        return item

    async def _pop_item(self) -> tuple[TResponseInputItem | None, StoreEvent]:
        corrupt = 0
        round_trips = 0
        refreshed = replayed = False
        while True:
            try:
                reply, trips = await self._run(
                    _scripts.POP, *self._operation_id_args(), self._read_ttl_ms()
                )
            except DurabilityError as exc:
                # Removed on the primary but unconfirmed: hand the item over, never drop it.
                raw = exc.item[2] if isinstance(exc.item, list) and len(exc.item) > 2 else None
                exc.item = _decode_or_none(raw)
                raise
            round_trips += trips
            length, flags = int(reply[0]), int(reply[1])
            refreshed = refreshed or bool(flags & 1)
            replayed = replayed or bool(flags & 2)
            raw = reply[2] if len(reply) > 2 else None
            item: Any = None
            if raw is not None:
                try:
                    item = decode_item(raw)
                except CorruptItem:
                    corrupt += 1
                    continue
            return item, StoreEvent(
                "pop_item",
                items=0 if raw is None else 1,
                bytes=0 if raw is None else stored_size(raw),
                session_length=length,
                ttl_refreshed=refreshed,
                corrupt_skipped=corrupt,
                duplicate_batch=replayed,
                round_trips=round_trips,
            )

    async def clear_session(
        self,
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> None:
        """Delete every item of this session.

        The operation log stays until it expires (two minutes after the last
        write), so a late copy of a write acknowledged before the clear is
        recognised and cannot bring erased items back.
        """
        report(await self._clear_session(), self._observer)

    async def _clear_session(self) -> StoreEvent:
        removed, trips = await self._run(_scripts.CLEAR)
        self._rearm.forget()
        return StoreEvent("clear_session", items=int(removed), session_length=0, round_trips=trips)

    # ------------------------------------------------------------------ internals

    def _ttl_ms(self) -> int:
        return 0 if self._ttl is None else self._ttl * 1000

    def _read_ttl_ms(self) -> int:
        return self._ttl_ms() if self.refresh_ttl_on_read else 0

    def _operation_id_args(self) -> tuple[str, int, int]:
        operation_id = os.urandom(8).hex() if self.idempotent_writes else ""
        return operation_id, OPERATION_WINDOW_MS, OPERATION_LOG_LIMIT

    async def _run(self, script: _scripts.Script, *args: Any) -> tuple[Any, int]:
        """Run ``script`` on this session's keys; returns (reply, round trips).

        Scripts that log operations get the log as KEYS[2] when an id is given
        (``args[0]``); reads and clears touch the list alone.
        """
        client = self._client()
        logs = script is not _scripts.GET and script is not _scripts.CLEAR
        keys: tuple[str | bytes, ...] = (self.key,)
        if logs and args[0]:
            keys = (self.key, self.operation_log_key)
        durability = self.durability if logs else None
        if durability is not None and durability.aof:
            await check_waitaof(client)
        try:
            reply, trips = await run_script(
                client,
                script,
                keys,
                args,
                key_prefix=self.key_prefix,
                durability=durability,
                migration_wait=self.migration_wait,
            )
        except DurabilityError as exc:
            if script is not _scripts.POP:
                exc.item = None  # only a pop has something to hand over
            raise
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise await self._wrong_type_error(client) from exc
            raise
        if logs and int(reply[0]) == _scripts.LOG_FULL:
            raise OperationLogFullError(
                script.name, self.key, OPERATION_LOG_LIMIT, OPERATION_WINDOW_MS / 1000
            )
        return reply, trips

    async def _read_range(self, start: int, stop: int) -> tuple[list[Any], int]:
        """``LRANGE`` of the list alone: a read that leaves the TTL as it is."""
        client = self._client()
        key = self.key

        async def attempt() -> tuple[Any, int]:
            return await client.lrange(key, start, stop), 1

        try:
            return await run_command(
                client,
                attempt,
                name=_scripts.GET.name,
                commands=_scripts.GET.commands,
                key_prefix=self.key_prefix,
                migration_wait=self.migration_wait,
            )
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise await self._wrong_type_error(client) from exc
            raise

    def _client(self) -> RedisClient:
        if self._closed and isinstance(self._clients, OwnedClients):
            raise RuntimeError(f"RedisSession for {self.key!r} is closed")
        return self._clients.get()

    async def _wrong_type_error(self, client: RedisClient) -> SessionKeyTypeError:
        """Name the key that holds an unexpected type: the list or its log."""
        expected = ((self.key, "list"), (self.operation_log_key, "zset"))
        for key, wanted in expected:
            actual = await _key_type(client, key)
            if actual not in (wanted, "none"):
                name = key if isinstance(key, str) else key.decode("utf-8", "backslashreplace")
                return SessionKeyTypeError(name, actual, expected=wanted)
        return SessionKeyTypeError(self.key, await _key_type(client, self.key))

    def store_info(self) -> StoreInfo:
        """What this store is and where it connects (see :mod:`~openai_agents_session.events`)."""
        clients = self._clients
        if isinstance(clients, OwnedClients):
            address, port = server_of_url(clients.url)
        else:
            address, port = server_of_client(clients.client)
        return StoreInfo("redis", self.key_prefix, address, port)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key_prefix={self.key_prefix!r}, ttl={self._ttl!r}, "
            f"max_items={self.max_items!r})"
        )


def _settings(value: SessionSettings | dict[str, Any] | None) -> SessionSettings:
    if value is None:
        return SessionSettings()
    if isinstance(value, SessionSettings):
        return value
    if isinstance(value, dict):
        return coerce_session_settings(value)
    raise TypeError(
        f"session_settings must be SessionSettings, a dict or None, got {type(value).__name__}"
    )


def _decode_or_none(raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return decode_item(raw)
    except CorruptItem:
        return None


async def _key_type(client: RedisClient, key: str | bytes) -> str:
    kind = await client.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)


class _PlaceholderClient:
    """Stands in for the client while ``from_url`` validates the options."""


_PLACEHOLDER_CLIENT: Any = _PlaceholderClient()
