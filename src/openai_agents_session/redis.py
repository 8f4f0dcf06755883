"""RedisSession: conversation history in one Redis list per session.

Storage model (data-compatible with the ``openai-agents-session`` 0.1 package):
the key ``{key_prefix}:{session_id}`` holds a list, one JSON document per item,
oldest at the head. Every operation is one server-side script, so each call is one
round trip, atomic, and touches a single cluster slot:

* ``add_items``: append, trim to ``max_items``, re-arm the TTL, and record the
  batch id so a write retried by the client library after a lost reply is
  acknowledged without being applied twice;
* ``get_items``: read the newest ``limit`` items and the length, re-arm the TTL;
* ``pop_item``: remove the newest item, re-arm the TTL;
* ``clear_session``: delete the list and its batch ids.

There is never a moment where the key exists without its TTL.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from agents.memory import SessionABC
from agents.memory.session_settings import (
    SessionSettings,
    coerce_session_settings,
    resolve_session_limit,
)
from redis.asyncio import RedisCluster
from redis.exceptions import NoScriptError, ResponseError

from . import _scripts
from ._clients import InjectedClient, OwnedClients, RedisClient
from ._codec import CorruptItem, decode_item, encode_items, stored_size
from ._keys import COMPANION_SUFFIXES, companion_key, session_key
from ._server import server_of_client, server_of_url
from ._validate import MAX_TTL_SECONDS, check_limit, check_optional_positive_int, check_text
from .durability import Durability
from .errors import SessionKeyTypeError
from .events import StoreEvent, StoreInfo, StoreObserver, report

if TYPE_CHECKING:
    from agents.items import TResponseInputItem
    from agents.run_context import RunContextWrapper

__all__ = ["RedisSession"]

# How long a session remembers the ids of its recent writes and pops, so a copy
# re-sent by the client library (or delivered late) is not applied twice. It must
# outlast the client's retries and backoff; two minutes is far beyond redis-py's.
_OPERATION_ID_WINDOW_MS = 120_000
# An upper bound on remembered ids, for sessions written to thousands of times a
# minute; at 16 bytes an id, about 300 KB at most.
_OPERATION_ID_LIMIT = 10_000
# LRANGE takes signed 64-bit indexes; a larger limit means "everything" anyway.
_LARGEST_WINDOW = 2**62
DEFAULT_MAX_ITEM_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024


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
        session_settings: the SDK's ``SessionSettings`` (or a dict of them);
            ``get_items()`` without a limit uses ``session_settings.limit``.
        max_items: keep at most this many newest items; older ones are trimmed in
            the same round trip as the write.
        refresh_ttl_on_read: re-arm the TTL on reads and pops too (default, like
            the seed package). ``False`` refreshes on writes only, like the SDK's
            own ``RedisSession``: a session then expires ``ttl`` after its last write
            however often it is read.
        idempotent_writes: remember the ids of the last 64 batches in a small
            companion key (same cluster slot, same TTL) so a batch that the client
            library re-sends after a lost reply is not stored twice, and the last
            popped item for a minute so a re-sent pop does not remove a second one.
            On by default.
        max_item_bytes: largest serialised item accepted (default 4 MiB);
            ``None`` for no limit. Larger items raise ``ItemTooLargeError``.
        max_batch_bytes: largest serialised ``add_items`` batch (default 32 MiB).
        durability: wait for replicas (``Durability(replicas=1)``) in the same
            round trip as each write; see :mod:`openai_agents_session.durability`.
            Not available on ``RedisCluster`` clients.
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
        idempotent_writes: bool = True,
        max_item_bytes: int | None = DEFAULT_MAX_ITEM_BYTES,
        max_batch_bytes: int | None = DEFAULT_MAX_BATCH_BYTES,
        durability: Durability | None = None,
        observer: StoreObserver | None = None,
    ) -> None:
        self.session_id = check_text("session_id", session_id)
        check_text("key_prefix", key_prefix)
        self._ttl = check_optional_positive_int("ttl", ttl, maximum=MAX_TTL_SECONDS)
        self.max_items = check_optional_positive_int("max_items", max_items)
        self.refresh_ttl_on_read = bool(refresh_ttl_on_read)
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
        self.session_settings = _settings(session_settings)
        self.key = session_key(key_prefix, session_id)
        self.key_prefix = key_prefix
        # Order matters: the scripts address them as KEYS[1..3].
        self._keys = (self.key, *(companion_key(self.key, s) for s in COMPANION_SUFFIXES))
        if any(key.startswith(f"{key_prefix}:") for key in self._keys[1:]):
            raise ValueError(
                f"key_prefix {key_prefix!r} starts like the store's own companion keys "
                "('{...'), so sessions could share keys; choose a prefix that does not "
                "begin with '{' followed by itself"
            )
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
    # Each public method reports the StoreEvent its private twin returns.
    # InstrumentedSession calls the twins directly (when the public methods are not
    # overridden) and reports the event itself: no context variable, one coroutine
    # less per call.

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
        round_trips = 0
        while True:
            start = 0 if window is None else -window
            reply, trips = await self._run(_scripts.GET, False, self._read_ttl_ms(), start, -1)
            round_trips += trips
            length, refreshed, raw_items = int(reply[0]), bool(reply[1]), reply[2]
            items, corrupt, size = _decode_all(raw_items)
            complete = window is None or len(raw_items) >= length
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
            _scripts.ADD,
            True,
            *self._operation_id_args(),
            self._ttl_ms(),
            self.max_items or 0,
            *encoded,
        )
        sizes = tuple(len(e) for e in encoded)
        return StoreEvent(
            "add_items",
            items=len(encoded),
            bytes=sum(sizes),
            session_length=int(reply[0]),
            trimmed=int(reply[1]),
            ttl_refreshed=bool(int(reply[2]) & 1),
            duplicate_batch=bool(int(reply[2]) & 2),
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
            reply, trips = await self._run(
                _scripts.POP, True, *self._operation_id_args(), self._read_ttl_ms()
            )
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
        """Delete every item of this session (and its batch ids)."""
        report(await self._clear_session(), self._observer)

    async def _clear_session(self) -> StoreEvent:
        removed, trips = await self._run(_scripts.CLEAR, True)
        return StoreEvent("clear_session", items=int(removed), session_length=0, round_trips=trips)

    # ------------------------------------------------------------------ internals

    def _ttl_ms(self) -> int:
        return 0 if self._ttl is None else self._ttl * 1000

    def _read_ttl_ms(self) -> int:
        return self._ttl_ms() if self.refresh_ttl_on_read else 0

    def _operation_id_args(self) -> tuple[str, int, int]:
        operation_id = os.urandom(8).hex() if self.idempotent_writes else ""
        return operation_id, _OPERATION_ID_WINDOW_MS, _OPERATION_ID_LIMIT

    async def _run(self, script: _scripts.Script, write: bool, *args: Any) -> tuple[Any, int]:
        """Run ``script`` on this session's keys; returns (reply, round trips)."""
        if self._closed and isinstance(self._clients, OwnedClients):
            raise RuntimeError(f"RedisSession for {self.key!r} is closed")
        client = self._clients.get()
        try:
            if write and self.durability is not None:
                return await self._run_durably(client, script, args)
            try:
                return await client.evalsha(script.sha, 3, *self._keys, *args), 1
            except NoScriptError:
                # EVAL both runs and caches the script on that server.
                return await client.eval(script.body, 3, *self._keys, *args), 2
        except ResponseError as exc:
            if "WRONGTYPE" in str(exc):
                raise await self._wrong_type_error(client) from exc
            raise

    async def _wrong_type_error(self, client: RedisClient) -> SessionKeyTypeError:
        """Name the key that holds an unexpected type: the list or a companion."""
        expected = ("list", "zset", "string")
        for key, wanted in zip(self._keys, expected, strict=True):
            actual = await _key_type(client, key)
            if actual not in (wanted, "none"):
                return SessionKeyTypeError(key, actual, expected=wanted)
        return SessionKeyTypeError(self.key, await _key_type(client, self.key))

    async def _run_durably(
        self, client: RedisClient, script: _scripts.Script, args: tuple[Any, ...]
    ) -> tuple[Any, int]:
        assert self.durability is not None
        round_trips = 0
        for send_body in (False, True):
            pipe = client.pipeline(transaction=False)
            if send_body:
                pipe.eval(script.body, 3, *self._keys, *args)
            else:
                pipe.evalsha(script.sha, 3, *self._keys, *args)
            pipe.execute_command(*self.durability.command())
            reply, waited = await pipe.execute(raise_on_error=False)
            round_trips += 1
            if isinstance(reply, NoScriptError):
                continue
            if isinstance(reply, Exception):
                raise reply
            if isinstance(waited, Exception):
                raise waited
            self.durability.check(script.name, waited)
            return reply, round_trips
        raise RuntimeError(f"the server refused to load the {script.name} script")

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


def _decode_all(raw_items: Sequence[bytes | str]) -> tuple[list[Any], int, int]:
    items: list[Any] = []
    corrupt = 0
    size = 0
    for raw in raw_items:
        try:
            items.append(decode_item(raw))
        except CorruptItem:
            corrupt += 1
            continue
        size += stored_size(raw)
    return items, corrupt, size


async def _key_type(client: RedisClient, key: str) -> str:
    kind = await client.type(key)
    return kind.decode() if isinstance(kind, bytes) else str(kind)


class _PlaceholderClient:
    """Stands in for the client while ``from_url`` validates the options."""


_PLACEHOLDER_CLIENT: Any = _PlaceholderClient()
