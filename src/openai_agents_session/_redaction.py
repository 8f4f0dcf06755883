"""Keeping credentials and terminal control bytes out of what people read.

A Redis URL can carry credentials in three places: the userinfo
(``redis://user:secret@host``), the query (``?password=secret&username=user``,
which redis-py accepts) and, for Sentinel, the same two in a multi-host netloc.
:func:`redact_url` hides all of them; :func:`redact_text` also scrubs those
values from any text that may quote them (an error message from a library).

Session ids and stored items are written by the application, so an operator's
terminal must not interpret them: :func:`escape_control` shows control
characters as Python-style escapes (``\\x1b``) instead of writing them raw.

Example::

    >>> redact_url("redis://app:s3cret@cache:6379/0?password=s3cret")
    'redis://***@cache:6379/0?password=***'
    >>> escape_control("evil\\x1b[2J")
    'evil\\\\x1b[2J'
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["MASK", "escape_control", "redact_text", "redact_url", "url_secrets"]

MASK = "***"

# Query parameters whose value is a credential (compared case-insensitively).
_SECRET_PARAMETERS = ("password", "username", "user", "sentinel_password", "sentinel_username")

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#@\s]*)@")
_SECRET_QUERY = re.compile(
    r"(?P<name>(?<=[?&;])(?:" + "|".join(_SECRET_PARAMETERS) + r"))=(?P<value>[^&;#\s'\"]*)",
    re.IGNORECASE,
)
# C0 controls, DEL, C1 controls, and the invisible characters that reorder or
# hide text (bidirectional overrides, zero-width joiners): all "Cc" or "Cf".
_CONTROL_CATEGORIES = ("Cc", "Cf")


def redact_url(url: str) -> str:
    """``url`` with its userinfo and credential query parameters replaced by ``***``.

    Works on text that is not a valid URL too: it never raises.
    """
    redacted = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@" if m["userinfo"] else m[0], url)
    return _SECRET_QUERY.sub(lambda m: f"{m['name']}={MASK}", redacted)


def url_secrets(url: str) -> set[str]:
    """The credential values ``url`` carries, as written and percent-decoded."""
    found: set[str] = set()
    userinfo = _USERINFO.match(url)
    if userinfo and userinfo["userinfo"]:
        for part in userinfo["userinfo"].split(":", 1):
            found.update((part, unquote(part)))
    try:
        query = urlsplit(url).query
    except ValueError:  # e.g. an unbalanced "[" in the host
        query = ""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name.lower() in _SECRET_PARAMETERS:
            found.update((value, unquote(value)))
    for match in _SECRET_QUERY.finditer(url):
        found.update((match["value"], unquote(match["value"])))
    # A one-character "secret" would blank out unrelated text; such a password
    # is no secret anyway.
    return {secret for secret in found if len(secret) > 1}


def redact_text(text: str, url: str | None = None) -> str:
    """``text`` with every URL in it redacted and every credential of ``url`` masked."""
    redacted = redact_url(text)
    # Longest first, so a secret containing another is masked whole.
    for secret in sorted(url_secrets(url) if url else (), key=len, reverse=True):
        redacted = redacted.replace(secret, MASK)
    return redacted


def escape_control(text: str) -> str:
    """``text`` with control and invisible formatting characters shown as escapes."""
    if text.isprintable():
        return text
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if char == " " or unicodedata.category(char) not in _CONTROL_CATEGORIES:
        return char
    escaped = repr(char)[1:-1]
    # repr() leaves some format characters (Cf) as they are; spell those out too.
    return escaped if escaped != char else f"\\u{ord(char):04x}"
