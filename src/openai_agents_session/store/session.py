"""RedisSession: conversation history in one Redis list per session.

Storage model (data-compatible with the ``openai-agents-session`` 0.1 package):
the key ``{key_prefix}:{session_id}`` holds a list, one JSON document per item,
oldest at the head. Every operation is one script from the table in
:mod:`.scripts` (a read that need not re-arm the TTL is a bare ``LRANGE``), so each
call is one round trip, atomic, and touches a single cluster slot. Writes and pops
carry an operation id so that a copy re-sent by the client library, delivered
late, or retried by the caller is applied once (:mod:`.oplog`). Each public method
reads encode -> run -> event. There is never a moment where the key exists
without its TTL.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from agents.memory import SessionABC
from agents.memory.session import _CompactionSnapshot
from agents.memory.session_settings import SessionSettings, resolve_session_limit
from redis.exceptions import ResponseError

from .._clients import InjectedClient, OwnedClients, RedisClient
from .._server import server_of_client, server_of_url
from ..errors import DurabilityError, SessionKeyTypeError
from ..events import ExpiryReason, StoreEvent, StoreInfo, StoreObserver, report
from . import replies
from .codec import CorruptItem, decode_item, decode_items, encode_items, stored_size
from .compaction import snapshot_of
from .execution import check_waitaof, run_command, run_script
from .keys import life_key, operation_log_key, popped_items_key
from .oplog import OperationIds, log_arguments
from .options import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_ITEM_BYTES,
    DEFAULT_MIGRATION_WAIT,
    StoreOptions,
)
from .owners import register
from .scripts import ADD, CLEAR, GET, POP, REPLACE, Script
from .validate import check_limit

if TYPE_CHECKING:
    from collections.abc import Callable

    from agents.items import TResponseInputItem
    from agents.run_context import RunContextWrapper

    from .durability import Durability

__all__ = ["RedisSession"]

Reply = TypeVar("Reply")
WriteReplyT = TypeVar("WriteReplyT", replies.WriteReply, replies.ReplaceReply)
# A write refused for want of a registration registers and tries again; only clocks
# far apart make a fresh registration look old, so a few attempts settle it.
_REGISTRATION_ATTEMPTS = 3
# LRANGE takes signed 64-bit indexes; a larger limit means "everything" anyway.
_LARGEST_WINDOW = 2**62


class RedisSession(SessionABC):
    """Agents SDK session stored in a Redis list, one round trip per operation.

    Args:
        session_id: the conversation's id (a non-empty string).
        redis_client: a ``redis.asyncio`` client: ``Redis`` (with or without
            ``decode_responses``), ``RedisCluster``, or a Sentinel ``master_for``
            client. The session never closes it.
        key_prefix: the list lives at ``{key_prefix}:{session_id}``.
        ttl: seconds of inactivity after which the session expires (sliding);
            ``None`` keeps it forever.

    Every further option is keyword-only and documented on
    :class:`~openai_agents_session.store.options.StoreOptions` (``max_items``,
    ``refresh_ttl_on_read``, ``read_refresh_interval``, ``idempotent_writes``,
    ``max_item_bytes``, ``max_batch_bytes``, ``durability``, ``migration_wait``,
    ``session_settings``, ``observer``, and the data lifecycle's ``max_age`` and
    ``owner``).

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
        key_prefix: str = DEFAULT_KEY_PREFIX,
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
        max_age: int | None = None,
        owner: str | None = None,
    ) -> None:
        if redis_client is None:
            raise TypeError("redis_client is required; use RedisSession.from_url(...) to build one")
        self._setup(
            StoreOptions.checked(
                session_id,
                key_prefix=key_prefix,
                ttl=ttl,
                session_settings=session_settings,
                max_items=max_items,
                refresh_ttl_on_read=refresh_ttl_on_read,
                read_refresh_interval=read_refresh_interval,
                idempotent_writes=idempotent_writes,
                max_item_bytes=max_item_bytes,
                max_batch_bytes=max_batch_bytes,
                durability=durability,
                migration_wait=migration_wait,
                max_age=max_age,
                owner=owner,
                client=redis_client,
            ),
            InjectedClient(redis_client),
            observer,
        )

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
        observer = options.pop("observer", None)
        checked = StoreOptions.checked(session_id, **options)
        session = cls.__new__(cls)
        session._setup(checked, OwnedClients(url, redis_options), observer)
        return session

    def _setup(
        self,
        options: StoreOptions,
        clients: InjectedClient | OwnedClients,
        observer: StoreObserver | None,
    ) -> None:
        self.options = options
        self.session_id = options.session_id
        self.key_prefix = options.key_prefix
        self.key = options.key
        self.session_settings = options.session_settings
        # The options as attributes, as earlier releases offered them.
        self.max_items = options.max_items
        self.refresh_ttl_on_read = options.refresh_ttl_on_read
        self.read_refresh_interval = options.read_refresh_interval
        self.idempotent_writes = options.idempotent_writes
        self.max_item_bytes = options.max_item_bytes
        self.max_batch_bytes = options.max_batch_bytes
        self.durability = options.durability
        self.migration_wait = options.migration_wait
        self.operation_log_key = operation_log_key(self.key)
        self.popped_items_key = popped_items_key(self.key)
        self.life_key = life_key(self.key)
        self.max_age = options.max_age
        self.owner = options.owner
        # The score of this object's latest registration with the owner's index
        # (0: none yet); a write that creates the session needs a recent one.
        self._registration = 0
        # A read found the session empty: the next write probably creates it, so it
        # registers first rather than be refused once (a new conversation's first
        # turn: two round trips instead of three).
        self._probably_new = False
        self._clients = clients
        self._observer = observer
        self._rearm = options.rearm_clock(clients)
        self._ids = OperationIds(options.idempotent_writes)
        self._closed = False

    @property
    def ttl(self) -> int | None:
        """Sliding time-to-live in seconds, or ``None``."""
        return self.options.ttl

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
        limit = resolve_session_limit(check_limit(limit), self.session_settings)
        if limit is not None and limit <= 0:
            report(StoreEvent("get_items", round_trips=0), self._observer)
            return []
        window = None if limit is None or limit >= _LARGEST_WINDOW else limit
        rearm = self.options.read_ttl_ms > 0 and self._rearm.due()
        refreshed = False
        expired: ExpiryReason | None = None
        round_trips = 0
        length: int | None
        while True:
            start = 0 if window is None else -window
            if rearm:
                sent_at = self._rearm.now()
                read, trips = await self._execute(
                    GET, "", self.options.read_ttl_ms, start, -1, self.options.max_age_ms
                )
                raw_items, length, refreshed = read.items, read.length, read.ttl_refreshed
                expired = expired or read.expired
                if refreshed:
                    self._rearm.armed(sent_at)
                    rearm = False
            else:
                raw_items, trips = await self._read_range(start, -1)
                # The length is known when the range reached the head of the list.
                whole = window is None or len(raw_items) < window
                length = len(raw_items) if whole else None
            round_trips += trips
            items, corrupt, size = decode_items(raw_items)
            complete = length is not None and len(raw_items) >= length
            self._probably_new = length == 0 and self.owner is not None
            if limit is None or window is None or len(items) >= limit or complete:
                items = items if limit is None else items[-limit:]
                event = StoreEvent(
                    "get_items",
                    items=len(items),
                    bytes=size,
                    session_length=length,
                    ttl_refreshed=refreshed,
                    corrupt_skipped=corrupt,
                    round_trips=round_trips,
                    expired=expired,
                )
                report(event, self._observer)
                return items
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
        encoded = self._encode(items)
        if not encoded:
            return
        with self._ids.call("add_items", encoded) as operation_id:
            written, trips = await self._write(
                ADD, operation_id, self.options.ttl_ms, self.max_items or 0, *encoded
            )
        report(_write_event("add_items", written, encoded, trips), self._observer)

    async def pop_item(
        self,
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> TResponseInputItem | None:
        """Remove and return the newest item; ``None`` when the session is empty.

        Corrupt elements at the tail are dropped (and reported) until a valid item
        or the head is reached, as the SDK's own sessions do.
        """
        corrupt = round_trips = evictions = 0
        refreshed = replayed = False
        expired: ExpiryReason | None = None
        while True:
            with self._ids.call("pop_item") as operation_id:
                popped, trips = await self._execute(POP, operation_id, self.options.read_ttl_ms)
            round_trips += trips
            evictions += popped.log_evictions
            refreshed = refreshed or popped.ttl_refreshed
            replayed = replayed or popped.replayed
            expired = expired or popped.expired
            item: TResponseInputItem | None = None
            if popped.item is not None:
                try:
                    item = decode_item(popped.item)
                except CorruptItem:
                    corrupt += 1
                    continue
            event = StoreEvent(
                "pop_item",
                items=0 if popped.item is None else 1,
                bytes=0 if popped.item is None else stored_size(popped.item),
                session_length=popped.length,
                ttl_refreshed=refreshed,
                corrupt_skipped=corrupt,
                replayed=replayed,
                log_evictions=evictions,
                round_trips=round_trips,
                expired=expired,
            )
            report(event, self._observer)
            return item

    async def clear_session(
        self,
        *,
        wrapper: RunContextWrapper[Any] | None = None,
    ) -> None:
        """Delete every item of this session.

        The operation log stays until it expires, so a late copy of a write
        acknowledged before the clear is recognised and cannot bring erased items back.
        """
        removed, trips = await self._execute(CLEAR, "")
        self._rearm.forget()
        event = StoreEvent("clear_session", items=removed, session_length=0, round_trips=trips)
        report(event, self._observer)

    # ------------------------------------------------ the SDK's compaction hooks

    async def _get_compaction_snapshot(
        self,
        limit: int,
        *,
        prune_prefix: Callable[[TResponseInputItem], bool] | None = None,
    ) -> _CompactionSnapshot | None:
        """The newest ``limit`` items, replaceable from any index in one script.

        ``None`` (the SDK then reads everything) for a subclass, for a
        ``prune_prefix`` (a Python predicate cannot run in the server's script),
        or when a stored item is not valid JSON. See :mod:`.compaction`.
        """
        if type(self) is not RedisSession or prune_prefix is not None or limit <= 0:
            return None
        # Never re-arms the TTL here: the replacement that may follow does.
        read, _ = await self._execute(GET, "", 0, -limit, -1, self.options.max_age_ms)
        return snapshot_of(read, limit, self._replace)

    async def _atomic_replace_items(self, items: list[TResponseInputItem]) -> bool:
        """Replace the whole history with ``items`` in one script; ``False`` for subclasses."""
        if type(self) is not RedisSession:
            return False
        return await self._replace(items, None)

    async def _replace(
        self, items: list[TResponseInputItem], expected: list[bytes | str] | None
    ) -> bool:
        encoded = self._encode(items)
        expected_args: list[Any] = [-1] if expected is None else [len(expected), *expected]
        call_parts: list[bytes | str] = [str(expected_args[0]), *encoded]
        with self._ids.call("replace_items", call_parts) as operation_id:
            replaced, trips = await self._write(
                REPLACE,
                operation_id,
                self.options.ttl_ms,
                self.max_items or 0,
                *expected_args,
                *encoded,
            )
        written = encoded if replaced.replaced else []
        report(_write_event("replace_items", replaced, written, trips), self._observer)
        return replaced.replaced

    # ------------------------------------------------------------------ internals

    def _encode(self, items: list[TResponseInputItem]) -> list[bytes]:
        return encode_items(
            items,
            max_item_bytes=self.options.max_item_bytes,
            max_batch_bytes=self.options.max_batch_bytes,
        )

    async def _write(
        self, script: Script[WriteReplyT], operation_id: str, *args: Any
    ) -> tuple[WriteReplyT, int]:
        """Run a write script; registers the session with its owner first when the
        script says the write would create it unregistered (then sends it again)."""
        trips = 0
        if self._probably_new:
            self._probably_new = False
            await self._register()
            trips += 1
        reply, more = await self._execute(script, operation_id, *args)
        trips += more
        attempts = 1
        while reply.unregistered:
            if attempts >= _REGISTRATION_ATTEMPTS:
                raise RuntimeError(
                    f"the server refused {_REGISTRATION_ATTEMPTS} registrations of a new "
                    "session with its owner's index in a row; the clocks of the nodes "
                    "holding the session and the index may differ by more than a minute"
                )
            await self._register()
            reply, more = await self._execute(script, operation_id, *args)
            trips, attempts = trips + more + 1, attempts + 1
        return reply, trips

    async def _register(self) -> None:
        assert self.owner is not None  # only sessions with an owner register
        self._registration = await register(
            self._client(),
            self.key_prefix,
            self.owner,
            self.session_id,
            max_age_ms=self.options.max_age_ms,
            migration_wait=self.options.migration_wait,
        )

    async def _execute(
        self, script: Script[Reply], operation_id: str, *args: Any
    ) -> tuple[Reply, int]:
        """Run ``script`` on this session's keys; returns (parsed reply, round trips)."""
        client = self._client()
        keys: tuple[str | bytes, ...] = (self.key,)
        options = self.options
        if script.logs_operation:
            registration = "" if options.owner is None else str(self._registration)
            args = (*log_arguments(operation_id), options.max_age_ms, registration, *args)
            if operation_id:
                keys = (self.key, self.operation_log_key, self.popped_items_key)
            if options.lifecycle:
                keys = (*keys, self.life_key)
        elif script is GET and options.max_age is not None:
            keys = (self.key, self.life_key)
        durability = self.durability if script.logs_operation else None
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
                migration_wait=self.options.migration_wait,
            )
        except DurabilityError as exc:
            # Applied but unconfirmed: a pop hands its item over, never drops it.
            handed = script.parse(exc.item) if exc.item else None
            kept = handed.item if isinstance(handed, replies.PopReply) else None
            exc.item = _decode_or_none(kept)
            raise
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise await self._wrong_type_error(client) from exc
            raise
        return script.parse(reply), trips

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
                name=GET.name,
                commands=GET.commands,
                key_prefix=self.key_prefix,
                migration_wait=self.options.migration_wait,
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
        """Name the key that holds an unexpected type: the list or a companion."""
        expected = (
            (self.key, "list"),
            (self.operation_log_key, "zset"),
            (self.popped_items_key, "hash"),
            (self.life_key, "hash"),
        )
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
            f"{type(self).__name__}(key_prefix={self.key_prefix!r}, ttl={self.ttl!r}, "
            f"max_items={self.max_items!r})"
        )


def _write_event(
    operation: str,
    reply: replies.WriteReply | replies.ReplaceReply,
    written: list[bytes],
    round_trips: int,
) -> StoreEvent:
    sizes = tuple(map(len, written))
    return StoreEvent(
        "add_items" if operation == "add_items" else "replace_items",
        items=len(sizes),
        bytes=sum(sizes),
        session_length=reply.length,
        trimmed=reply.trimmed,
        ttl_refreshed=reply.ttl_refreshed,
        replayed=reply.replayed,
        log_evictions=reply.log_evictions,
        item_sizes=sizes,
        round_trips=round_trips,
        expired=reply.expired,
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
