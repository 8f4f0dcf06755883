"""Errors the store raises that the caller can act on."""

from __future__ import annotations

from redis.exceptions import ResponseError

__all__ = ["SessionKeyTypeError"]


class SessionKeyTypeError(ResponseError):
    """The session's key holds a Redis value that is not a list.

    Nothing was read, written or deleted. Another program uses the same key: pick a
    different ``key_prefix`` or remove the key after checking what it holds.
    """

    def __init__(self, key: str, actual_type: str) -> None:
        self.key = key
        self.actual_type = actual_type
        super().__init__(
            f"Redis key {key!r} holds a {actual_type}, not a list of session items; "
            "nothing was changed. Use another key_prefix or remove that key."
        )
