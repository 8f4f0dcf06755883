"""The example FastAPI app, as deployed: one process with exemplars, and gunicorn workers.

Under gunicorn with four uvicorn workers and ``PROMETHEUS_MULTIPROC_DIR``, one scrape
of ``/metrics`` must count every request, whichever worker served it: each session
counter and histogram count equals the total of the same requests served by one
process.

With ``OTEL_METRICS_EXPORTER=otlp`` each worker exports its own metrics over OTLP/HTTP,
as to a collector in production; here a small receiver decodes the protobuf requests.
The export interval stays at its 60 s default, so what arrives comes from each
worker's export when gunicorn stops it: the workers' last values, added up, must be
the same counts as above.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from openai_agents_session.instrumentation.metric_names import METRICS
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


Series = tuple[str, tuple[tuple[str, str], ...]]
# OTel attribute -> the prometheus_client label holding the same fact.
LABELS = {
    "db.operation.name": "operation",
    "openai_agents_session.error_type": "error_type",
    "openai_agents_session.signal": "signal",
    "openai_agents_session.expiry.reason": "reason",
}


class OtlpReceiver(ThreadingHTTPServer):
    """Takes OTLP/HTTP protobuf metric exports, as a collector's receiver would."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _OtlpHandler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/metrics"


class _OtlpHandler(BaseHTTPRequestHandler):
    server: OtlpReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportMetricsServiceRequest()
        request.ParseFromString(body)
        with self.server.lock:
            self.server.requests.append(request)
        reply = ExportMetricsServiceResponse().SerializeToString()
        self.send_response(200 if self.path == "/v1/metrics" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _attributes(point: Any) -> dict[str, str]:
    return {a.key: str(getattr(a.value, a.value.WhichOneof("value"))) for a in point.attributes}


def _labels(attributes: dict[str, str], **more: str) -> tuple[tuple[str, str], ...]:
    named = {LABELS[key]: value for key, value in attributes.items() if key in LABELS}
    return tuple(sorted({**named, **more}.items()))


def otlp_counts(requests: list[ExportMetricsServiceRequest]) -> tuple[dict[Series, float], int]:
    """The workers' last cumulative values, added up, under prometheus_client's names.

    Returns the counts (as :func:`session_counts` reads a scrape) and how many worker
    processes (``service.instance.id``) sent session metrics.
    """
    rows = {row.otel: row for row in METRICS if row.prometheus_kind == row.otel_kind}
    latest: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[int, Any]] = {}
    for request in requests:
        for resource_metrics in request.resource_metrics:
            worker = _attributes(resource_metrics.resource)["service.instance.id"]
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    data = metric.sum if metric.HasField("sum") else metric.histogram
                    for point in data.data_points:
                        key = (worker, metric.name, tuple(sorted(_attributes(point).items())))
                        if key not in latest or latest[key][0] <= point.time_unix_nano:
                            latest[key] = (point.time_unix_nano, point)
    counts: dict[Series, float] = {}

    def add(name: str, labels: tuple[tuple[str, str], ...], value: float) -> None:
        counts[(name, labels)] = counts.get((name, labels), 0) + value

    for (_, name, attributes), (_, point) in latest.items():
        attrs = dict(attributes)
        if name == "db.client.operation.duration":
            outcome = "error" if "error.type" in attrs else "ok"
            add(PREFIX + "operations_total", _labels(attrs, outcome=outcome), point.count)
            add(PREFIX + "operation_duration_seconds_count", _labels(attrs), point.count)
        elif name in rows and rows[name].prometheus_kind == "counter":
            if not rows[name].prometheus.startswith(PREFIX + "slow_"):
                add(rows[name].prometheus, _labels(attrs), point.as_int or point.as_double)
        elif name in rows:
            family = rows[name].prometheus
            add(family + "_count", _labels(attrs), point.count)
            cumulative = 0
            bounds = [*map(floatToGoString, point.explicit_bounds), "+Inf"]
            for bound, count in zip(bounds, point.bucket_counts, strict=True):
                cumulative += count
                add(family + "_bucket", _labels(attrs, le=bound), cumulative)
    workers = {key[0] for key in latest}
    return counts, len(workers)


def test_four_workers_export_every_request_over_otlp(
    valkey: ServerProcess, one_turn_in_one_process: tuple[str, str], tmp_path: Path
) -> None:
    per_turn = {k: v for k, v in session_counts(one_turn_in_one_process[0]).items() if v}
    port = free_port()
    with OtlpReceiver() as receiver:
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        environment = environment_for(
            valkey,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
            BIND=f"127.0.0.1:{port}",
            WORKERS="4",
            OTEL_METRICS_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=receiver.endpoint,
        )
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "main:app"]
        with serving(command, environment, port):
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda n: take_turn(port, f"otlp-conversation-{n}"), range(REQUESTS)))
            served = scrape(port)
        receiver.shutdown()
        counts, workers = otlp_counts(receiver.requests)
    # The metrics went over OTLP only: /metrics holds no session series.
    assert not session_counts(served)
    assert workers >= 2, "all requests went to one worker"
    totals = {series: value for series, value in counts.items() if value}
    assert totals == {series: value * REQUESTS for series, value in per_turn.items()}
    print(f"{REQUESTS} requests on {workers} workers over OTLP: {len(totals)} series exact")
