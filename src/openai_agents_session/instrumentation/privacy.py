"""What of a session's identity may appear in spans, logs and metrics.

Session ids often are user ids or contain them, so by default telemetry carries a
keyed hash: stable (the same session always maps to the same value, so a trace,
its logs and the CLI can be joined) but not reversible without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

__all__ = ["SessionIdMode", "check_session_id_mode", "conversation_id"]

SessionIdMode = Literal["hashed", "raw", "none"]
_MODES = ("hashed", "raw", "none")

# The default key only makes the hash specific to this library; pass your own
# `session_id_key` to make it unguessable for outsiders.
DEFAULT_HASH_KEY = b"openai-agents-session"


def check_session_id_mode(mode: str) -> SessionIdMode:
    if mode not in _MODES:
        raise ValueError(f"session_id_mode must be one of {_MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


def conversation_id(
    session_id: str, mode: SessionIdMode, key: bytes = DEFAULT_HASH_KEY
) -> str | None:
    """The value of ``gen_ai.conversation.id`` (and ``session`` in logs) for ``session_id``.

    ``hashed``: 16 hex characters of HMAC-SHA256; ``raw``: the id itself;
    ``none``: nothing.
    """
    if mode == "none":
        return None
    if mode == "raw":
        return session_id
    digest = hmac.new(key, session_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return digest.hexdigest()[:16]
