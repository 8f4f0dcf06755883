"""Turning what went wrong into one line an operator can act on, and an exit code.

Every line names the server by its redacted URL, says what failed in the
operator's terms (wrong scheme, missing password, untrusted certificate, not a
Cluster) and what to change. Connection failures are told apart by asking the
address what it speaks (``_probes``), because redis-py reports a TLS/plaintext
mismatch only as a timeout or a reset connection.
"""

from __future__ import annotations

import ssl

from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ConnectionError,
    NoPermissionError,
    RedisClusterException,
    RedisError,
    TimeoutError,
)

from .._redaction import escape_control, redact_text, redact_url, url_secrets
from ..errors import StorePermissionError
from . import _probes
from ._connection import TIMEOUT_SECONDS

__all__ = [
    "EXIT_DECLINED",
    "EXIT_ERROR",
    "CliError",
    "describe_redis_error",
    "operator_line",
    "redact_url",
]

# argparse also exits with 2 on usage errors: 2 means "nothing was done, fix the input".
EXIT_ERROR = 2
EXIT_DECLINED = 1

_CA_HINT = "add ?ssl_ca_certs=/path/to/ca.pem (the CA that signed it) to --redis-url"


class CliError(Exception):
    """A failure with a message meant for the operator (printed as is, exit code 2)."""


def operator_line(message: str, url: str | None = None) -> str:
    """``message`` safe for a terminal: credentials of ``url`` masked, control bytes escaped."""
    return escape_control(redact_text(message, url))


def _short(exc: BaseException, url: str) -> str:
    """The library's or server's own words, credentials of ``url`` masked, cut to one line."""
    text = redact_text(str(exc) or type(exc).__name__, url)
    # Sentinel errors append the repr of the whole client; keep only the reason.
    text = text.split(" : <", 1)[0].split("\n", 1)[0]
    return text if len(text) <= 200 else text[:197] + "..."


def _certificate_problem(exc: BaseException) -> str | None:
    """The verification failure's reason when ``exc`` comes from an untrusted certificate."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or seen)
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip()
    return None


def _has_credentials(url: str) -> bool:
    return bool(url_secrets(url))


def _authentication(exc: AuthenticationError, where: str, url: str) -> str:
    if not _has_credentials(url):
        return (
            f"Redis at {where} requires a password and none was given; "
            "put it in --redis-url: redis://:PASSWORD@host:port/0 "
            "(or redis://USER:PASSWORD@... for an ACL user)"
        )
    return (
        f"Redis at {where} refused the credentials: wrong password, or the user does not "
        "exist or is disabled; fix them in --redis-url (redis://USER:PASSWORD@host:port/0)"
    )


def _timed_out(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was raised for, a timeout (a Cluster wraps the node's)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unreachable(exc: RedisError | RedisClusterException, where: str, url: str) -> str:
    scheme = url.split("://", 1)[0].lower()
    address = _probes.address_of(url)
    timed_out = _timed_out(exc)
    if address is not None and scheme.startswith("rediss"):
        if _probes.speaks_plaintext_redis(address):
            return (
                f"Redis at {where} speaks plaintext, not TLS; use redis:// instead of "
                "rediss:// (or enable TLS on the server)"
            )
    # A TLS server answers plaintext with an alert and a closed connection, never
    # with silence: after a timeout the probe could only wait as long again.
    elif address is not None and not timed_out and _probes.speaks_tls(address):
        return (
            f"Redis at {where} expects TLS; use rediss:// instead of redis:// "
            f"(if its certificate is not from a public CA, {_CA_HINT})"
        )
    if timed_out:
        check = (
            "the socket path"
            if scheme == "unix"
            else "the host and port, whether a firewall drops the connection,"
        )
        return (
            f"Redis at {where} did not answer within {TIMEOUT_SECONDS:g} s "
            f"({_short(exc, url)}); check {check} and whether the server is stuck"
        )
    return (
        f"cannot reach Redis at {where} ({_short(exc, url)}); "
        "start the server or point --redis-url at it"
    )


def describe_redis_error(exc: RedisError | RedisClusterException, url: str) -> str:
    """One line naming the server, what failed, and what to do next."""
    where = redact_url(url)
    reason = _short(exc, url)
    certificate = _certificate_problem(exc)
    if certificate is not None:
        certificate = redact_text(certificate, url)
    if certificate is not None and "mismatch" in certificate:
        message = (
            f"the TLS certificate of Redis at {where} is for another host ({certificate}); "
            "connect by a host name the certificate lists, or reissue it for this one"
        )
    elif certificate is not None:
        message = (
            f"the TLS certificate of Redis at {where} is not trusted ({certificate}); {_CA_HINT}"
        )
    elif isinstance(exc, AuthenticationError):
        message = _authentication(exc, where, url)
    elif isinstance(exc, StorePermissionError):
        # The store's words name what to grant, also when the server does not (a
        # command refused inside a script on Redis 7.0): kept whole.
        store_advice = redact_text(str(exc), url).split("\n", 1)[0]
        message = (
            f"the Redis user of {where} may not run this command: {store_advice}; "
            "for the operator CLI that rule is README's ACL SETUSER sessions-cli"
        )
    elif isinstance(exc, (AuthorizationError, NoPermissionError)):
        message = (
            f"the Redis user of {where} may not run this command ({reason}); grant it the "
            "operator CLI's rule of README 'Redis permissions' (ACL SETUSER sessions-cli ...)"
        )
    elif isinstance(exc, RedisClusterException) and "Cluster mode is not enabled" in str(exc):
        message = (
            f"Redis at {where} is a standalone server, not a Cluster; "
            "use redis:// (or rediss://) instead of redis+cluster://"
        )
    elif isinstance(exc, (ConnectionError, TimeoutError, RedisClusterException)):
        message = _unreachable(exc, where, url)
    else:
        message = f"Redis at {where} answered with an error: {reason}"
    # Our own words and a redacted URL, plus foreign text already masked above.
    return escape_control(message)
