"""Errors the store raises that the caller can act on."""

from __future__ import annotations

from redis.exceptions import RedisError, ResponseError

__all__ = ["DurabilityError", "ItemTooLargeError", "SessionKeyTypeError"]


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
    """Fewer replicas (or AOF fsyncs) confirmed a write than ``durability`` asks for.

    The write **was applied on the primary**; only its replication is unconfirmed
    within the timeout. A failover right now could lose it.
    """

    def __init__(self, operation: str, required: int, confirmed: int, what: str) -> None:
        self.operation = operation
        self.required = required
        self.confirmed = confirmed
        super().__init__(
            f"{operation}: {confirmed} of {required} {what} confirmed the write within the "
            "timeout; it is applied on the primary but may be lost on failover"
        )
