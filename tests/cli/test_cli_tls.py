"""TLS mistakes an operator makes, against a real TLS-only server (Debian's redis-server).

redis-py reports a TLS client meeting a plaintext server as a timeout and the
reverse as a reset connection; the CLI must name the mismatch instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess, redis_binary

from .conftest import run_cli
from .servers_kit import TlsServer, make_certificates


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    binary = redis_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server (built with TLS) is required in CI; make system-deps")
        pytest.skip("redis-server not installed (make system-deps installs it)")
    certificates = make_certificates(Path(tmp_path_factory.mktemp("tls")))
    with TlsServer(binary, certificates) as server:
        yield server


def _error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_the_right_ca_lists_sessions_over_tls(
    capsys: pytest.CaptureFixture[str], tls_server: TlsServer
) -> None:
    result = run_cli(capsys, ["sessions", "ls", "--json", "--redis-url", tls_server.url])

    assert result.code == 0, result.err
    assert result.json() == []


def test_rediss_against_a_plaintext_server_says_it_speaks_plaintext(
    capsys: pytest.CaptureFixture[str], valkey_server: ServerProcess
) -> None:
    url = f"rediss://127.0.0.1:{valkey_server.port}/0"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _error_line(result.err)
    assert f"Redis at {url} speaks plaintext, not TLS; use redis:// instead of rediss://" in line


def test_redis_against_a_tls_server_says_it_expects_tls(
    capsys: pytest.CaptureFixture[str], tls_server: TlsServer
) -> None:
    url = f"redis://127.0.0.1:{tls_server.port}/0"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _error_line(result.err)
    assert f"Redis at {url} expects TLS; use rediss:// instead of redis://" in line


def test_an_untrusted_certificate_is_named_with_the_ca_option(
    capsys: pytest.CaptureFixture[str], tls_server: TlsServer
) -> None:
    url = f"rediss://127.0.0.1:{tls_server.port}/0"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _error_line(result.err)
    assert f"the TLS certificate of Redis at {url} is not trusted" in line
    assert "self-signed certificate" in line
    assert "ssl_ca_certs=" in line


def test_a_certificate_for_another_host_is_named(
    capsys: pytest.CaptureFixture[str], tls_server: TlsServer
) -> None:
    # The certificate names 127.0.0.1 and localhost; ::ffff:127.0.0.1 is neither.
    ca = tls_server.certificates.ca
    url = f"rediss://[::ffff:127.0.0.1]:{tls_server.port}/0?ssl_ca_certs={ca}"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _error_line(result.err)
    assert f"the TLS certificate of Redis at {url} is for another host" in line
    assert "mismatch" in line
    assert "connect by a host name the certificate lists" in line
