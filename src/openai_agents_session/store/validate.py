"""Checks on constructor options and call arguments, each naming the bad value."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check_limit", "check_optional_positive_int", "check_seconds", "check_text"]

# PEXPIRE takes milliseconds as a signed 64-bit integer that the server adds to
# its clock; a century is far beyond any session lifetime and far below overflow.
MAX_TTL_SECONDS = 100 * 365 * 24 * 3600


def check_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r:.80}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name} must be valid Unicode; it holds {exc.object[exc.start : exc.end]!r} "
            f"at position {exc.start}"
        ) from exc
    return value


def check_optional_positive_int(name: str, value: Any, *, maximum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{name} must be a positive int or None, got {type(value).__name__} {value!r}"
        )
    if value <= 0:
        raise ValueError(f"{name} must be a positive int or None, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return value


def check_limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        # The type only: a value passed by mistake may be anything, a secret included,
        # and this message reaches logs and traces.
        raise TypeError(f"limit must be an int or None, got {type(value).__name__}")
    return value


def check_seconds(name: str, value: Any) -> float:
    """A finite number of seconds, zero or more."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {value!r:.80}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)
