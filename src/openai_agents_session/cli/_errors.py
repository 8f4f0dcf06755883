"""Turning what went wrong into one line an operator can act on, and an exit code."""

from __future__ import annotations

from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ConnectionError,
    NoPermissionError,
    RedisClusterException,
    RedisError,
    TimeoutError,
)

from .._clients import _redact

__all__ = ["EXIT_DECLINED", "EXIT_ERROR", "CliError", "describe_redis_error", "redact_url"]

# argparse also exits with 2 on usage errors: 2 means "nothing was done, fix the input".
EXIT_ERROR = 2
EXIT_DECLINED = 1


class CliError(Exception):
    """A failure with a message meant for the operator (printed as is, exit code 2)."""


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return _redact(url)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    # Sentinel errors append the repr of the whole client; keep only the reason.
    text = text.split(" : <", 1)[0].split("\n", 1)[0]
    return text if len(text) <= 200 else text[:197] + "..."


def describe_redis_error(exc: RedisError | RedisClusterException, url: str) -> str:
    """One line naming the server, what failed, and what to do next."""
    where = redact_url(url)
    reason = _short(exc)
    if isinstance(exc, AuthenticationError):
        return (
            f"Redis at {where} refused the credentials ({reason}); "
            "put the right password in --redis-url (redis://:PASSWORD@host:port/0)"
        )
    if isinstance(exc, (AuthorizationError, NoPermissionError)):
        return (
            f"the Redis user of {where} may not run this command ({reason}); "
            "grant it SCAN, TYPE, LLEN, LRANGE, PTTL, MEMORY and DEL on the session keys"
        )
    if isinstance(exc, TimeoutError):
        return (
            f"Redis at {where} did not answer in time ({reason}); is it overloaded or firewalled?"
        )
    if isinstance(exc, (ConnectionError, RedisClusterException)):
        return (
            f"cannot reach Redis at {where} ({reason}); start the server or point --redis-url at it"
        )
    return f"Redis at {where} answered with an error: {reason}"
