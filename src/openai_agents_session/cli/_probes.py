"""What is really listening at an address, asked after a connection failed.

redis-py reports a TLS client meeting a plaintext server as a timeout and the
reverse as a reset connection; one raw probe tells which protocol the server
speaks, so the error can say "use redis://" instead of "is it firewalled?".
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from urllib.parse import urlsplit

__all__ = ["PROBE_TIMEOUT_SECONDS", "address_of", "speaks_plaintext_redis", "speaks_tls"]

PROBE_TIMEOUT_SECONDS = 1.5


def address_of(url: str) -> tuple[str, int] | None:
    """``(host, port)`` of a single-host TCP URL; ``None`` for unix sockets and Sentinel."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "redis+cluster", "rediss+cluster"):
            return None
        return parts.hostname or "localhost", parts.port or 6379
    except ValueError:  # a malformed port or host: nothing to probe
        return None


def speaks_plaintext_redis(address: tuple[str, int]) -> bool:
    """Whether a plaintext ``PING`` gets a RESP reply (``+PONG`` or an error such as NOAUTH)."""
    with (
        contextlib.suppress(OSError),
        socket.create_connection(address, timeout=PROBE_TIMEOUT_SECONDS) as connection,
    ):
        connection.sendall(b"PING\r\n")
        return connection.recv(64)[:1] in (b"+", b"-")
    return False


def speaks_tls(address: tuple[str, int]) -> bool:
    """Whether a TLS handshake completes (the certificate is not checked: only the protocol)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        contextlib.suppress(OSError),
        socket.create_connection(address, timeout=PROBE_TIMEOUT_SECONDS) as connection,
        context.wrap_socket(connection, server_hostname=address[0]),
    ):
        return True
    return False
