"""Errors the store raises that the caller can act on."""

from __future__ import annotations

import re
from typing import Any

from redis.exceptions import NoPermissionError, RedisError, ResponseError

__all__ = [
    "DurabilityError",
    "ItemTooLargeError",
    "OperationLogFullError",
    "SessionKeyTypeError",
    "StorePermissionError",
]


class SessionKeyTypeError(ResponseError):
    """The session's key holds a Redis value that is not a list.

    Nothing was read, written or deleted. Another program uses the same key: pick a
    different ``key_prefix`` or remove the key after checking what it holds.
    """

    def __init__(self, key: str, actual_type: str, expected: str = "list") -> None:
        self.key = key
        self.actual_type = actual_type
        self.expected_type = expected
        super().__init__(
            f"Redis key {key!r} holds a {actual_type}, not {self._expected()}; nothing was "
            "changed. Use another key_prefix or remove that key."
        )

    def _expected(self) -> str:
        return (
            "a list of session items" if self.expected_type == "list" else f"a {self.expected_type}"
        )

    def telemetry_message(self, session: str) -> str:
        """The message for telemetry: the key (which holds the session id) left out."""
        return (
            f"a Redis key of session {session} holds a {self.actual_type}, not "
            f"{self._expected()}; nothing was changed"
        )


class ItemTooLargeError(ValueError):
    """An item or a batch is over the store's byte limit; nothing was written.

    The limits (``max_item_bytes``, ``max_batch_bytes``) keep one runaway tool
    output from growing a session without bound. Raise them, or trim the item.
    """


class DurabilityError(RedisError):
    """A write was applied on the primary, but not confirmed as ``durability`` asks.

    Either fewer replicas (or AOF fsyncs) confirmed it within the timeout, or the
    server refused the ``WAIT``/``WAITAOF`` command itself (``cause`` holds that
    error). Either way the write **was applied**: do not send it again as a new
    write. A failover right now could lose it.

    For ``pop_item`` the popped item is no longer in the session; it is handed
    over here, in ``item``, rather than lost.
    """

    def __init__(
        self,
        operation: str,
        detail: str,
        *,
        required: int | None = None,
        confirmed: int | None = None,
        cause: BaseException | None = None,
        item: Any = None,
    ) -> None:
        self.operation = operation
        self.required = required
        self.confirmed = confirmed
        self.cause = cause
        self.item = item
        self.applied = True
        handed = " (the popped item is in this error's .item)" if operation == "pop_item" else ""
        super().__init__(
            f"{operation}: applied on the primary but not confirmed: {detail}{handed}; "
            "do not retry it as a new write, it may be lost on failover"
        )


class OperationLogFullError(RedisError):
    """No longer raised: the operation log evicts its oldest entries instead of
    refusing work (see :mod:`openai_agents_session.store.oplog`). Kept so code that
    catches it still imports."""

    def __init__(self, operation: str, key: str, limit: int, window_seconds: float) -> None:
        self.operation = operation
        self.limit = limit
        self.window_seconds = window_seconds
        super().__init__(
            f"{operation} refused for {key!r}: {limit} writes and pops within "
            f"{window_seconds:g} s already, the most its operation log remembers; "
            "nothing was changed, retry later"
        )

    def telemetry_message(self, session: str) -> str:
        """The message for telemetry: the key (which holds the session id) left out."""
        return (
            f"{self.operation} refused for session {session}: {self.limit} writes and pops "
            f"within {self.window_seconds:g} s already; nothing was changed, retry later"
        )


_NAMED_COMMAND = re.compile(r"permissions to run the '([^']+)' command")


def is_permission_error(exc: BaseException) -> bool:
    """A server refusal for lack of permission, also when raised inside a script."""
    if isinstance(exc, NoPermissionError):
        return True
    text = str(exc)
    return isinstance(exc, ResponseError) and (
        text.startswith("ACL failure in script")
        or text.startswith("The user executing the script can't")
        or text.startswith("NOPERM")
    )


class StorePermissionError(NoPermissionError):
    """The Redis user may not run a command (or touch a key) the store needs.

    Raised for permission errors inside the store's scripts too, which servers
    report as plain errors (Redis 7.0 without naming the command). The message
    names what to grant; README "Redis permissions" has the whole rule.
    """

    def __init__(
        self, operation: str, server_message: str, *, key_prefix: str, commands: tuple[str, ...]
    ) -> None:
        self.operation = operation
        self.server_message = server_message
        named = _NAMED_COMMAND.search(server_message)
        if "key" in server_message and not named:
            grant = f"access to the session keys: the key pattern ~{key_prefix}:*"
        elif named:
            grant = f"the command {named.group(1).upper()} (ACL SETUSER <user> +{named.group(1)})"
        else:
            grant = "the commands this operation runs: " + " ".join(f"+{c}" for c in commands)
        super().__init__(
            f"{operation}: the Redis user lacks a permission the store needs; grant "
            f"{grant} (README 'Redis permissions' lists the whole rule). "
            f"The server said: {server_message}"
        )
