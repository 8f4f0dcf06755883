"""A throwaway Valkey + traffic driver + Prometheus, and a small Prometheus API client.

Every process is started on a free loopback port and stopped by :meth:`LiveStack.stop`,
which also checks that each one really exited.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support import ServerProcess, free_port

DRIVER = Path(__file__).with_name("traffic_driver.py")
SCRAPE_JOB = "agent-app"
# Long enough for the slowest test, short enough that a leaked driver stops by itself.
DRIVER_SECONDS = 120


class PrometheusAPI:
    """The few HTTP API calls the checks need; errors raise with Prometheus' message."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.load(error)
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def instant(self, expr: str) -> list[Any]:
        return list(self.get("/api/v1/query", query=expr)["result"])

    def range(self, expr: str, seconds: int = 60, step: int = 2) -> list[Any]:
        end = time.time()
        data = self.get(
            "/api/v1/query_range",
            query=expr,
            start=str(end - seconds),
            end=str(end),
            step=str(step),
        )
        return list(data["result"])

    def exemplars(self, expr: str, seconds: int = 120) -> list[Any]:
        end = time.time()
        return list(
            self.get("/api/v1/query_exemplars", query=expr, start=str(end - seconds), end=str(end))
        )

    def label_values(self, label: str, match: str) -> list[str]:
        return list(self.get(f"/api/v1/label/{label}/values", **{"match[]": match}))

    def rules(self) -> list[dict[str, Any]]:
        groups = self.get("/api/v1/rules")["groups"]
        return [rule for group in groups for rule in group["rules"]]


@dataclass
class LiveStack:
    """Valkey, the traffic driver and Prometheus, under one temporary directory."""

    directory: Path
    valkey: ServerProcess = field(default_factory=ServerProcess)
    driver: subprocess.Popen[bytes] | None = None
    prometheus: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)
    api: PrometheusAPI | None = None

    def start_traffic(self, timeout: float = 30.0, *, otel: bool = False) -> dict[str, int]:
        """Start Valkey and the driver (``otel``: metrics through OpenTelemetry only)."""
        self.valkey.start()
        ready = self.directory / "driver-ready.json"
        with (self.directory / "driver.log").open("wb") as log:
            self.driver = subprocess.Popen(
                [sys.executable, str(DRIVER), "--redis-url", self.valkey.url,
                 "--ready-file", str(ready), "--seconds", str(DRIVER_SECONDS),
                 *(["--otel"] if otel else [])],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not (ready.exists() and ready.read_text()):
            if self.driver.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"traffic driver did not start:\n{self.log('driver')}")
            time.sleep(0.1)
        self.ports = json.loads(ready.read_text())
        return self.ports

    def scrape_driver(self) -> str:
        """The driver's /metrics as Prometheus would get it (OpenMetrics, with exemplars)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['metrics_port']}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.read().decode())

    def start_prometheus(self, binary: str, rule_files: list[Path], timeout: float = 20.0) -> None:
        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {
                    "job_name": SCRAPE_JOB,
                    "static_configs": [
                        {
                            "targets": [
                                f"127.0.0.1:{self.ports['metrics_port']}",
                                f"127.0.0.1:{self.ports['idle_port']}",
                            ]
                        }
                    ],
                }
            ],
        }
        config_file = self.directory / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        with (self.directory / "prometheus.log").open("wb") as log:
            self.prometheus = subprocess.Popen(
                [binary, f"--config.file={config_file}",
                 f"--storage.tsdb.path={self.directory / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}",
                 "--enable-feature=exemplar-storage"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.api = PrometheusAPI(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + timeout
        while True:
            if self.prometheus.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start:\n{self.log('prometheus')}")
            try:
                with urllib.request.urlopen(f"{self.api.base_url}/-/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop Prometheus, the driver and Valkey; raise if any of them is still running."""
        survivors = []
        for process in (self.prometheus, self.driver):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                survivors.append(process.args)
        self.valkey.stop()
        if survivors:
            raise RuntimeError(f"had to kill processes that ignored SIGTERM: {survivors}")
