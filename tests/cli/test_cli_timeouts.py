"""A server that never answers, or refuses: the CLI gives up within the README's bound.

The README promises a 2 s timeout and one retry, so a silent server costs about
2 s twice (plus, for ``rediss://``, the probe that tells a plaintext server from a
silent one). Each test runs the real command in a fresh interpreter against a
loopback listener started here, and allows for the interpreter's start on a busy
machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openai_agents_session.cli._probes import PROBE_TIMEOUT_SECONDS
from support import free_port

# What the README says (Operator CLI section): the test is the promise, not the constants.
README_TIMEOUT_SECONDS = 2.0
README_RETRIES = 1
# The jittered backoff before the retry waits at most this long.
BACKOFF_SECONDS = 0.1
# Python, the CLI's imports, noise of a 2-core machine running the suite.
STARTUP_ALLOWANCE_SECONDS = 3.0
# The demo imports the Agents SDK and the OpenTelemetry SDK before it connects.
DEMO_STARTUP_ALLOWANCE_SECONDS = 6.0
SECRET = "s3cret-never-shown"


def _silent_server_bound(scheme: str) -> float:
    bound = README_TIMEOUT_SECONDS * (1 + README_RETRIES) + BACKOFF_SECONDS
    if scheme.startswith("rediss"):
        bound += PROBE_TIMEOUT_SECONDS
    return bound


@dataclass(frozen=True)
class Run:
    code: int
    err: str
    seconds: float


def _run_cli(*argv: str) -> Run:
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "openai_agents_session.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    return Run(finished.returncode, finished.stderr, time.monotonic() - started)


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def silent_tcp_port() -> Iterator[int]:
    """A loopback port that takes connections and never sends a byte.

    The kernel completes the TCP handshake for a listening socket on its own; a
    server that never calls accept() is the silent peer a stuck process or a
    half-open proxy is.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


@pytest.fixture
def silent_unix_socket() -> Iterator[str]:
    """The same on a unix socket, in a short directory (paths are limited to 107 bytes)."""
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as directory,
        socket.socket(socket.AF_UNIX) as listener,
    ):
        path = str(Path(directory) / "silent.sock")
        listener.bind(path)
        listener.listen(64)
        yield path


TCP_URLS = {
    "redis": "redis://:{secret}@127.0.0.1:{port}/0",
    "rediss": "rediss://:{secret}@127.0.0.1:{port}/0",
    "cluster": "redis+cluster://:{secret}@127.0.0.1:{port}",
}


@pytest.mark.parametrize("form", TCP_URLS.values(), ids=TCP_URLS.keys())
def test_a_silent_server_fails_within_the_documented_bound(silent_tcp_port: int, form: str) -> None:
    url = form.format(secret=SECRET, port=silent_tcp_port)

    run = _run_cli("sessions", "ls", "--redis-url", url)

    assert run.code == 2
    line = _one_line_error(run.err)
    assert f"Redis at {url.split('://')[0]}://***@127.0.0.1:{silent_tcp_port}" in line
    assert f"did not answer within {README_TIMEOUT_SECONDS:g} s" in line
    assert SECRET not in run.err
    bound = _silent_server_bound(url.split("://")[0])
    assert run.seconds < bound * 1.5 + STARTUP_ALLOWANCE_SECONDS, (run.seconds, bound)


def test_a_silent_unix_socket_fails_within_the_documented_bound(silent_unix_socket: str) -> None:
    url = f"unix://{silent_unix_socket}?db=0&password={SECRET}"

    run = _run_cli("sessions", "ls", "--redis-url", url)

    assert run.code == 2
    line = _one_line_error(run.err)
    assert f"Redis at unix://{silent_unix_socket}" in line
    assert "did not answer within 2 s" in line
    assert "check the socket path" in line
    assert SECRET not in run.err
    bound = _silent_server_bound("unix")
    assert run.seconds < bound * 1.5 + STARTUP_ALLOWANCE_SECONDS, (run.seconds, bound)


def test_a_silent_sentinel_fails_within_the_documented_bound(silent_tcp_port: int) -> None:
    url = f"redis+sentinel://:{SECRET}@127.0.0.1:{silent_tcp_port}/mymaster"

    run = _run_cli("sessions", "ls", "--redis-url", url)

    assert run.code == 2
    line = _one_line_error(run.err)
    assert f"Redis at redis+sentinel://***@127.0.0.1:{silent_tcp_port}/mymaster" in line
    assert "No master found for 'mymaster'" in line
    assert SECRET not in run.err
    bound = _silent_server_bound("redis+sentinel")
    assert run.seconds < bound * 1.5 + STARTUP_ALLOWANCE_SECONDS, (run.seconds, bound)


def test_the_demo_fails_on_a_silent_server_within_the_documented_bound(
    silent_tcp_port: int,
) -> None:
    url = f"redis://127.0.0.1:{silent_tcp_port}/0"

    run = _run_cli(
        "demo", "--redis-url", url, "--sessions", "1", "--turns", "1", "--metrics-port", "0"
    )

    assert run.code == 2
    assert f"error: Redis at {url} did not answer within 2 s" in run.err
    bound = _silent_server_bound("redis")
    assert run.seconds < bound * 1.5 + DEMO_STARTUP_ALLOWANCE_SECONDS, (run.seconds, bound)


@pytest.mark.parametrize("scheme", ["redis", "redis+cluster"])
def test_a_refused_connection_fails_without_waiting_out_a_timeout(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{free_port()}"

    run = _run_cli("sessions", "ls", "--redis-url", url)

    assert run.code == 2
    assert f"cannot reach Redis at {url}" in _one_line_error(run.err)
    assert run.seconds < README_TIMEOUT_SECONDS + STARTUP_ALLOWANCE_SECONDS, run.seconds
