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
rewritten, so no message is ever garbled. A ``limit`` that is not an int is
treated the same way (any session may echo it in its error), and is recorded by
its type only. Connection errors and timeouts keep their text: it cannot hold a
key or an argument.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import threading
import traceback
import warnings
from typing import Literal

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = [
    "KEY_ENVIRONMENT_VARIABLE",
    "HashKeyWarning",
    "SessionIdMode",
    "check_session_id_mode",
    "conversation_id",
    "describe_error",
    "qualified_name",
    "recordable_limit",
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


def recordable_limit(limit: object) -> int | None:
    """``limit`` as spans and logs may record it: a plain int, else nothing.

    Anything else (a str, a bool, an int subclass whose text is its own) is a
    caller's mistake whose text may be anything the caller had at hand.
    """
    return limit if type(limit) is int else None


def describe_error(
    exc: BaseException, session_id: str | None, session_label: str, *, limit: object = None
) -> tuple[str, str]:
    """``(message, stack trace)`` of ``exc`` for telemetry, holding no form of ``session_id``.

    ``session_id`` is ``None`` when the app opted into raw ids: the text is then
    Python's own. Otherwise each exception of the chain is described by its
    ``telemetry_message(session_label)`` when it has one, else by its own message
    unless that holds the id (then the message is withheld, never rewritten).
    ``limit`` is the call's ``limit`` argument: when it is not an int, a message
    that holds its text is withheld too, whatever the mode. Stack frames show
    code, not data, and are kept.

    >>> describe_error(TypeError("bad limit 'x-secret'"), None, "", limit="x-secret")[0]
    '(message withheld: it repeats the limit argument, a str)'
    """
    session_forms = () if session_id is None else _forms(session_id)
    argument: tuple[tuple[str, ...], str] | None = None
    if limit is not None and recordable_limit(limit) is None:
        notice = f"(message withheld: it repeats the limit argument, a {type(limit).__name__})"
        argument = (_argument_forms(limit), notice)
    if not session_forms and argument is None:
        return str(exc), "".join(traceback.format_exception(exc))
    # Raw ids: an exception's own text, which names the session as the app allowed.
    label = None if session_id is None else session_label
    # (text of an exception, how it relates to the next one in the chain), outermost first.
    chain: list[tuple[str, str]] = []
    seen: set[int] = set()
    top_message = ""
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        message = _message(current, session_forms, argument, label)
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
_NAMES_SESSION = "(message withheld: it names the session; session_id_mode='raw' shows it)"

# Errors whose text the network layer writes, never code that holds session data:
# redis-py's connection and timeout errors say host:port and what the OS answered
# ("Error 111 connecting to 127.0.0.1:6379. Connection refused."), and the OS's own
# socket errors an errno and an address. Neither can carry a key, an item or an
# argument, and they are what an on-call engineer most needs to read, so an id that
# occurs in them by chance ("1" in 127.0.0.1) withholds nothing. Only these modules'
# own classes count: a subclass defined elsewhere writes whatever text it likes. An
# OSError naming a file does not count either: a file's name may hold a session id.
# A bad limit's text is withheld from these too: a call rarely has one, and then
# nothing is known of where its text went.
_KEYLESS_ERRORS = (RedisConnectionError, RedisTimeoutError, asyncio.TimeoutError, OSError)
_KEYLESS_MODULES = frozenset({"builtins", "redis.exceptions", "asyncio.exceptions", "socket"})


def _keyless(exc: BaseException) -> bool:
    if not isinstance(exc, _KEYLESS_ERRORS) or type(exc).__module__ not in _KEYLESS_MODULES:
        return False
    return not isinstance(exc, OSError) or (exc.filename is None and exc.filename2 is None)


def _message(
    exc: BaseException,
    session_forms: tuple[str, ...],
    argument: tuple[tuple[str, ...], str] | None,
    session_label: str | None,
) -> str:
    describe = getattr(exc, "telemetry_message", None) if session_label is not None else None
    try:
        text = str(describe(session_label)) if callable(describe) else str(exc)
    except Exception:
        text = ""
    if argument is not None and any(form in text for form in argument[0]):
        return argument[1]
    if session_forms and not _keyless(exc) and any(form in text for form in session_forms):
        return _NAMES_SESSION
    return text


# Messages often echo a value cut short ("got {value!r:.80}"); any cut that keeps at
# least this many characters still holds a form's start.
_ECHO_START = 16


def _argument_forms(value: object) -> tuple[str, ...]:
    """The starts of an argument's text (``str`` and ``repr``) in every form ``_forms`` knows."""
    try:
        texts = {str(value), repr(value)}
    except Exception:
        return ("",)  # its text is unknown, so any message may hold it: "" is in every text
    return tuple({form[:_ECHO_START] for text in texts for form in _forms(text)})


def _forms(text: str) -> tuple[str, ...]:
    """``text`` (an id, an argument) as a message may hold it: itself, and as repr,
    bytes and JSON escape it."""
    encoded = text.encode("utf-8", "surrogatepass")
    candidates = {
        text,
        repr(text)[1:-1],
        repr(encoded)[2:-1],
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        text.encode("unicode_escape").decode("ascii"),
        encoded.decode("utf-8", "backslashreplace"),
    }
    return tuple(form for form in candidates if form)


def qualified_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
