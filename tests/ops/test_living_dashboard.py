"""``demo --keep-running`` keeps the dashboard alive: every panel and recorded series a number.

The demo runs as a user starts it (its embedded Valkey, its own ``/metrics``), with a
short traffic interval; Debian's Prometheus scrapes it every second and evaluates the
committed rule files. Within a few scrape intervals every panel query of the
committed dashboard and every recording rule must return a number for every series
it returns: zero counts, NaN and "no data" do not. That holds only if the trickle
moves every operation and outcome and the rare-event series exist from the start.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support import free_port

from . import kit
from .live_stack import PrometheusAPI
from .test_live_prometheus import dashboard_targets, substitute

SCRAPE_SECONDS = 1
# Grafana's $__rate_interval: max($__interval + scrape interval, 4 x scrape interval).
RATE_INTERVAL = f"{4 * SCRAPE_SECONDS}s"
# "A few scrape intervals" after the first scrape, and Prometheus' rule evaluations.
DEADLINE_SCRAPES = 12
TRAFFIC_INTERVAL = "0.25"


def _wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise


@pytest.fixture(scope="module")
def prometheus_on_the_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusAPI]:
    directory = tmp_path_factory.mktemp("living-dashboard")
    metrics_port, prometheus_port = free_port(), free_port()
    demo_log = directory / "demo.log"
    with demo_log.open("wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "openai_agents_session.cli", "demo",
             "--sessions", "2", "--turns", "1", "--model-delay", "0",
             "--metrics-port", str(metrics_port), "--keep-running",
             "--traffic-interval", TRAFFIC_INTERVAL],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    processes = [demo]
    try:
        _wait_for_http(f"http://127.0.0.1:{metrics_port}/metrics", demo, demo_log, 60)
        config = {
            "global": {
                "scrape_interval": f"{SCRAPE_SECONDS}s",
                "evaluation_interval": f"{SCRAPE_SECONDS}s",
            },
            "rule_files": [str(path) for path in sorted(kit.RULES.glob("*.rules.yml"))],
            "scrape_configs": [
                {
                    "job_name": "agents-demo",
                    "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                }
            ],
        }
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        prometheus_log = directory / "prometheus.log"
        with prometheus_log.open("wb") as log:
            prometheus = subprocess.Popen(
                [kit.binary("prometheus"), f"--config.file={directory / 'prometheus.yml'}",
                 f"--storage.tsdb.path={directory / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{prometheus_port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        processes.append(prometheus)
        base = f"http://127.0.0.1:{prometheus_port}"
        _wait_for_http(f"{base}/-/ready", prometheus, prometheus_log, 30)
        yield PrometheusAPI(base)
    finally:
        for process in reversed(processes):
            _stop(process)
        assert "Traceback" not in demo_log.read_text(errors="replace"), demo_log.read_text()


def _numbers(api: PrometheusAPI, expr: str) -> str | None:
    """None when ``expr`` returns series and every one holds a number; else what is wrong."""
    result = api.instant(expr)
    if not result:
        return "no data"
    bad = [series["metric"] for series in result if not math.isfinite(float(series["value"][1]))]
    return f"NaN/Inf in {bad}" if bad else None


def _until_numbers(api: PrometheusAPI, queries: dict[str, str]) -> dict[str, str]:
    """Evaluate ``queries`` until all return numbers or the deadline passes; the problems left."""
    first_scrape = time.monotonic()
    while not api.instant("up == 1"):
        assert time.monotonic() - first_scrape < 30, "Prometheus never scraped the demo"
        time.sleep(0.2)
    deadline = time.monotonic() + DEADLINE_SCRAPES * SCRAPE_SECONDS
    problems = dict.fromkeys(queries, "not evaluated")
    while problems and time.monotonic() < deadline:
        for name in list(problems):
            problem = _numbers(api, queries[name])
            if problem is None:
                del problems[name]
            else:
                problems[name] = problem
        time.sleep(0.5)
    return problems


def panel_queries() -> dict[str, str]:
    queries = {}
    for number, (title, expr, variables) in enumerate(dashboard_targets(), start=1):
        variables = {**variables, "__rate_interval": RATE_INTERVAL}
        queries[f"{number:02d} {title} | {expr}"] = substitute(expr, variables)
    return queries


def test_every_panel_query_returns_a_number(prometheus_on_the_demo: PrometheusAPI) -> None:
    queries = panel_queries()
    assert len(queries) >= 25

    problems = _until_numbers(prometheus_on_the_demo, queries)

    with_values = len(queries) - len(problems)
    report = "\n".join(f"{name}: {why}" for name, why in sorted(problems.items()))
    assert not problems, f"{with_values}/{len(queries)} panel queries with numbers:\n{report}"


def test_every_recording_rule_returns_a_number(prometheus_on_the_demo: PrometheusAPI) -> None:
    records = [rule["record"] for rule in kit.all_rules() if "record" in rule]
    assert records

    problems = _until_numbers(prometheus_on_the_demo, {record: record for record in records})

    report = "\n".join(f"{name}: {why}" for name, why in sorted(problems.items()))
    assert not problems, f"{len(records) - len(problems)}/{len(records)} recorded:\n{report}"
