"""Prefixes nest: say so when the sessions under one prefix may belong to another.

Keys are ``{key_prefix}:{session_id}``, so session ``"x:y"`` under prefix ``"app"``
and session ``"y"`` under prefix ``"app:x"`` are the same key. Nothing in Redis tells
them apart; what an operator can be told is that ids holding ``:`` are listed (and
would be deleted by ``rm --match``) under the shorter prefix too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["nested_prefix_note"]


def nested_prefix_note(key_prefix: str, session_ids: Iterable[str]) -> str | None:
    """A warning when some ids contain ``:`` (they may be another prefix's sessions)."""
    heads = Counter(sid.split(":", 1)[0] for sid in session_ids if ":" in sid)
    if not heads:
        return None
    head, _ = heads.most_common(1)[0]
    count = sum(heads.values())
    return (
        f"note: {count} session id(s) here contain ':'; if another app uses key prefix "
        f"{f'{key_prefix}:{head}'!r}, those are its sessions, listed here because prefixes "
        "nest ('app' + 'x:y' is the key of 'app:x' + 'y'). Give tenants prefixes that do "
        "not nest, and check before deleting with --match"
    )
