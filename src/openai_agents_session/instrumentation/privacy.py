"""What of a session's identity may appear in spans, logs and metrics.

Session ids often are user ids or contain them, so by default telemetry carries a
keyed hash: stable (the same session maps to the same value, so a trace and its
logs can be joined) and not reversible without the key. The key is never a public
constant: it comes from ``session_id_key``, else from the environment variable
``OPENAI_AGENTS_SESSION_ID_KEY``, else it is drawn at random once per process (with a
one-time warning, since hashes then differ between processes).

Error text is described for telemetry here too, without the raw id in any form:
an exception may describe itself with the id left out (``telemetry_message``);
any other message that holds the id, plainly or escaped, is withheld rather than
rewritten, so no message is ever garbled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import traceback
import warnings
from typing import Literal

__all__ = [
    "KEY_ENVIRONMENT_VARIABLE",
    "HashKeyWarning",
    "SessionIdMode",
    "check_session_id_mode",
    "conversation_id",
    "describe_error",
    "qualified_name",
    "resolve_hash_key",
]

SessionIdMode = Literal["hashed", "raw", "none"]
_MODES = ("hashed", "raw", "none")
KEY_ENVIRONMENT_VARIABLE = "OPENAI_AGENTS_SESSION_ID_KEY"


class HashKeyWarning(UserWarning):
    """No hash key is configured: session ids are hashed with a per-process random key."""


_process_key: bytes | None = None
_process_key_lock = threading.Lock()


def check_session_id_mode(mode: str) -> SessionIdMode:
    if mode not in _MODES:
        raise ValueError(f"session_id_mode must be one of {_MODES}, got {mode!r}")
    return mode  # type: ignore[return-value]


def resolve_hash_key(key: bytes | str | None = None) -> bytes:
    """The key for hashed session ids: ``key``, the environment's, or this process's own."""
    if key is None:
        key = os.environ.get(KEY_ENVIRONMENT_VARIABLE) or None
    if key is None:
        return _random_process_key()
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes) or not key:
        raise TypeError(f"session_id_key must be non-empty bytes or str, got {key!r:.40}")
    return key


def _random_process_key() -> bytes:
    global _process_key
    with _process_key_lock:
        if _process_key is None:
            _process_key = secrets.token_bytes(32)
            warnings.warn(
                "openai_agents_session: no session_id_key and no "
                f"${KEY_ENVIRONMENT_VARIABLE}: hashed session ids use a random key of this "
                "process, so they differ between processes and restarts. Set one shared "
                "secret key to join telemetry across workers and restarts.",
                HashKeyWarning,
                stacklevel=6,  # the caller of instrument()
            )
        return _process_key


def conversation_id(
    session_id: str, mode: SessionIdMode = "hashed", key: bytes | str | None = None
) -> str | None:
    """The value of ``gen_ai.conversation.id`` (and ``session`` in logs) for ``session_id``.

    ``hashed``: 16 hex characters of HMAC-SHA256 under the resolved key (see
    :func:`resolve_hash_key`); ``raw``: the id itself; ``none``: nothing.
    """
    if mode == "none":
        return None
    if mode == "raw":
        return session_id
    digest = hmac.new(
        resolve_hash_key(key), session_id.encode("utf-8", "surrogatepass"), hashlib.sha256
    )
    return digest.hexdigest()[:16]


def describe_error(
    exc: BaseException, session_id: str | None, session_label: str
) -> tuple[str, str]:
    """``(message, stack trace)`` of ``exc`` for telemetry, holding no form of ``session_id``.

    ``session_id`` is ``None`` when the app opted into raw ids: the text is then
    Python's own. Otherwise each exception of the chain is described by its
    ``telemetry_message(session_label)`` when it has one, else by its own message
    unless that holds the id (then the message is withheld, never rewritten).
    Stack frames show code, not data, and are kept.
    """
    if session_id is None:
        return str(exc), "".join(traceback.format_exception(exc))
    forms = _forms(session_id)
    # (text of an exception, how it relates to the next one in the chain), outermost first.
    chain: list[tuple[str, str]] = []
    seen: set[int] = set()
    top_message = ""
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        message = _message(current, forms, session_label)
        if current is exc:
            top_message = message
        frames = "".join(traceback.format_tb(current.__traceback__))
        text = f"Traceback (most recent call last):\n{frames}{qualified_name(current)}: {message}\n"
        if current.__cause__ is not None:
            chain.append((text, _CAUSED))
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            chain.append((text, _DURING))
            current = current.__context__
        else:
            chain.append((text, ""))
            current = None
    # Python prints the innermost exception first, each followed by the one it led to.
    printed = [chain[-1][0]]
    for text, relation in reversed(chain[:-1]):
        printed.append(relation)
        printed.append(text)
    return top_message, "".join(printed)


_CAUSED = "\nThe above exception was the direct cause of the following exception:\n\n"
_DURING = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _message(exc: BaseException, forms: tuple[str, ...], session_label: str) -> str:
    describe = getattr(exc, "telemetry_message", None)
    try:
        text = str(describe(session_label)) if callable(describe) else str(exc)
    except Exception:
        text = ""
    if any(form in text for form in forms):
        return "(message withheld: it names the session; session_id_mode='raw' shows it)"
    return text


def _forms(session_id: str) -> tuple[str, ...]:
    """The id as it may appear in text: itself, and as repr, bytes and JSON escape it."""
    encoded = session_id.encode("utf-8", "surrogatepass")
    candidates = {
        session_id,
        repr(session_id)[1:-1],
        repr(encoded)[2:-1],
        json.dumps(session_id)[1:-1],
        json.dumps(session_id, ensure_ascii=False)[1:-1],
        session_id.encode("unicode_escape").decode("ascii"),
        encoded.decode("utf-8", "backslashreplace"),
    }
    return tuple(form for form in candidates if form)


def qualified_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
