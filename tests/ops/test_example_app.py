"""The compose/Kubernetes example app runs against a real Valkey and serves its metrics."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from openai_agents_session.testing import ServerProcess, free_port

from . import kit

APP = kit.DEPLOY / "app" / "example_app.py"


@pytest.fixture
def app_metrics_port() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    with ServerProcess() as valkey:
        port = free_port()
        environment = {
            **os.environ,
            "REDIS_URL": valkey.url,
            "METRICS_PORT": str(port),
            "CONVERSATIONS": "2",
            "TURN_INTERVAL_SECONDS": "0.05",
        }
        environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        app = subprocess.Popen(
            [sys.executable, str(APP)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield port, app
        finally:
            if app.poll() is None:
                app.kill()
            app.wait(timeout=10)
            assert app.stderr is not None
            app.stderr.close()


def scrape(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def test_example_app_serves_session_metrics_with_exemplars_and_stops_cleanly(
    app_metrics_port: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, app = app_metrics_port
    deadline = time.monotonic() + 30
    text = ""
    while 'operation="add_items",outcome="ok"' not in text or "trace_id" not in text:
        assert app.poll() is None, app.stderr.read().decode() if app.stderr else ""
        assert time.monotonic() < deadline, f"no session metrics yet:\n{text[-2000:]}"
        with contextlib.suppress(OSError):
            text = scrape(port)
        time.sleep(0.1)
    app.send_signal(signal.SIGTERM)
    assert app.wait(timeout=15) == 0
