"""The example FastAPI app, as deployed: one process with exemplars, and gunicorn workers.

Under gunicorn with four uvicorn workers and ``PROMETHEUS_MULTIPROC_DIR``, one scrape
of ``/metrics`` must count every request, whichever worker served it: each session
counter and histogram count equals the total of the same requests served by one
process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import ServerProcess, free_port

from . import kit

APP_DIR = kit.DEPLOY / "app"
REQUESTS = 200
PREFIX = "openai_agents_session_"


@contextlib.contextmanager
def serving(command: list[str], environment: dict[str, str], port: int) -> Iterator[None]:
    app = subprocess.Popen(
        command, cwd=APP_DIR, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert app.poll() is None, app.stderr.read().decode() if app.stderr else ""
            assert time.monotonic() < deadline, "the app did not start"
            with contextlib.suppress(OSError):
                scrape(port)
                break
            time.sleep(0.2)
        yield
    finally:
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(timeout=10)
        if app.stderr is not None:
            app.stderr.close()


def environment_for(valkey: ServerProcess, **extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PROMETHEUS_MULTIPROC_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT")
    }
    return {
        **environment,
        "REDIS_URL": valkey.url,
        "OPENAI_AGENTS_SESSION_ID_KEY": "example-app-test-key",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def take_turn(port: int, conversation: str) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/conversations/{conversation}/turns",
        data=json.dumps({"message": "What is the weather like?"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["reply"].startswith("You said")


def scrape(port: int, openmetrics: bool = False) -> str:
    accept = "application/openmetrics-text; version=1.0.0" if openmetrics else "text/plain"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.read().decode())


def session_counts(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every count of the session metrics: counters, histogram counts and size buckets.

    Durations depend on timing, so only their count is compared, not their buckets,
    and neither is the count of slow operations.
    """
    counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            if not name.startswith(PREFIX) or name.endswith(("_created", "_sum")):
                continue
            if name.startswith((PREFIX + "operation_duration_seconds_b", PREFIX + "slow_")):
                continue
            counts[(name, tuple(sorted(sample.labels.items())))] = sample.value
    return counts


@pytest.fixture(scope="module")
def valkey() -> Iterator[ServerProcess]:
    with ServerProcess() as server:
        yield server


@pytest.fixture(scope="module")
def one_turn_in_one_process(valkey: ServerProcess) -> tuple[str, str]:
    """Plain text and OpenMetrics scrapes of one process after one turn."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1"]
    with serving([*command, "--port", str(port)], environment_for(valkey), port):
        take_turn(port, "single-process-conversation")
        return scrape(port), scrape(port, openmetrics=True)


def test_one_process_serves_session_metrics_with_exemplars(
    one_turn_in_one_process: tuple[str, str],
) -> None:
    text, openmetrics = one_turn_in_one_process
    assert f'{PREFIX}operations_total{{operation="add_items",outcome="ok"}}' in text
    exemplar_lines = [
        line
        for line in openmetrics.splitlines()
        if line.startswith(PREFIX + "operation_duration_seconds_bucket") and "trace_id" in line
    ]
    assert exemplar_lines, openmetrics[-2000:]


def test_four_workers_count_every_request_exactly(
    valkey: ServerProcess, one_turn_in_one_process: tuple[str, str], tmp_path: Path
) -> None:
    per_turn = session_counts(one_turn_in_one_process[0])
    assert per_turn[(PREFIX + "operations_total", (("operation", "get_items"), ("outcome", "ok")))]
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    environment = environment_for(
        valkey,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        BIND=f"127.0.0.1:{port}",
        WORKERS="4",
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "main:app"]
    with serving(command, environment, port):
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda n: take_turn(port, f"conversation-{n}"), range(REQUESTS)))
        text = scrape(port)
        workers_with_metrics = {path.name.rsplit("_", 1)[-1] for path in metrics_dir.glob("*.db")}
    assert len(workers_with_metrics) >= 2, "all requests went to one worker"
    totals = session_counts(text)
    expected = {series: value * REQUESTS for series, value in per_turn.items()}
    assert totals == expected
    operations = PREFIX + "operations_total"
    add_items = totals[(operations, (("operation", "add_items"), ("outcome", "ok")))]
    print(f"{REQUESTS} requests on {len(workers_with_metrics)} workers: {len(totals)} series exact")
    print(f"operations_total{{add_items,ok}} = {add_items:.0f}")
