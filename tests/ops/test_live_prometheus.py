"""Every dashboard query and every rule expression returns data from a real Prometheus.

Debian's Prometheus scrapes, every second, a driver process that runs real traffic
through ``instrument(RedisSession(...))`` on a throwaway Valkey (see
``traffic_driver.py``), plus an empty ``/metrics`` standing for a service that is up
but never calls its sessions. The rules are loaded, then each panel target (Grafana
variables substituted as "All" would) runs as a range query and each rule expression
as an instant query; each must return data, without error.

How the rules get data within seconds: ``rate()`` over a long window (1 h, 1 d)
already answers once two samples exist, so the rule windows are the real ones. Only
thresholds change: the rules are rendered by ``deploy/generate.py``'s own code with
the overrides of :func:`live_overrides` (what ``--set`` does), so that each alert's
condition is true on the driver's traffic and its expression returns series. Apart
from those numbers the expressions are the committed ones (``test_deploy_files``
checks that the committed files are the generator's output with the defaults).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import kit
from .live_stack import SCRAPE_JOB, LiveStack, PrometheusAPI
from .traffic_driver import UNEXPECTED

# Seconds from Prometheus' start within which every query must have returned data.
DATA_DEADLINE = 30.0
# Grafana's built-in interval variables; 10 s covers several 1 s scrapes.
BUILTIN_VARIABLES = {"__rate_interval": "10s", "__interval": "2s", "__range": "1m"}


PROMETHEUS_BOARD = "openai-agents-session.json"
RECORDING_FILE = "openai_agents_session.recording.rules.yml"
ALERTS_FILE = "openai_agents_session.alerts.rules.yml"


def live_overrides(smallest_latency_bucket: float) -> dict[str, Any]:
    """Thresholds that the driver's traffic crosses, so every alert expression has data."""
    return {
        # Loopback calls take more than 0.1 ms: nearly all count against the SLO.
        "latency_threshold_seconds": smallest_latency_bucket,
        "error_ratio": 1e-9,  # the wrong-type key makes get_items fail now and then
        "session_length_p99": 1.0,
        "session_growth_horizon": "1s",
    }


def bucket_bounds(metrics_text: str, metric: str) -> list[str]:
    return sorted(
        set(re.findall(rf'^{metric}_bucket{{[^}}]*le="([^"]+)"', metrics_text, re.M)),
        key=float,
    )


def substitute(expr: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise AssertionError(f"unknown Grafana variable ${name} in {expr!r}")
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


@dataclass
class LiveCheck:
    """The running stack and what the checks need to know about it."""

    stack: LiveStack
    api: PrometheusAPI
    rule_dir: Path
    started_at: float
    default_thresholds: Any
    latency_buckets: list[str]

    @property
    def ports(self) -> dict[str, int]:
        return self.stack.ports


@contextlib.contextmanager
def live_stack(
    directory: Path, histogram: str, overrides: Callable[[float], dict[str, Any]], *, otel: bool
) -> Iterator[LiveCheck]:
    """The driver's traffic (through ``otel`` or not), scraped by Prometheus with every
    rule file loaded, as users load them; thresholds from ``overrides(smallest bucket)``.
    """
    prometheus = kit.binary("prometheus")
    stack = LiveStack(directory)
    try:
        stack.start_traffic(otel=otel)
        buckets = bucket_bounds(stack.scrape_driver(), histogram)
        generator = kit.deploy_generator()
        defaults = generator.session_rules.load_thresholds(
            kit.DEPLOY / "prometheus" / "thresholds.yaml"
        )
        thresholds = dataclasses.replace(defaults, **overrides(float(buckets[0])))
        rule_dir = directory / "rules"
        rule_dir.mkdir()
        for relative, text in generator.render_rule_files(thresholds).items():
            (rule_dir / Path(relative).name).write_text(text)
        stack.start_prometheus(prometheus, sorted(rule_dir.glob("*.yml")))
        assert stack.api is not None
        yield LiveCheck(stack, stack.api, rule_dir, time.monotonic(), defaults, buckets)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCheck]:
    directory = tmp_path_factory.mktemp("live-prometheus")
    histogram = "openai_agents_session_operation_duration_seconds"
    with live_stack(directory, histogram, live_overrides, otel=False) as check:
        yield check


def until_all_answer(
    live: LiveCheck, checks: dict[str, Callable[[], str | None]]
) -> dict[str, str]:
    """Run ``checks`` (name -> problem or None) until all pass or the data deadline is past.

    Returns the problems left. An API error (raised as AssertionError) is final at once.
    """
    problems: dict[str, str] = {}
    pending = dict(checks)
    while True:
        for name, check in list(pending.items()):
            try:
                problem = check()
            except AssertionError as error:
                problem = str(error)
                del pending[name]
            else:
                if problem is None:
                    del pending[name]
            if problem is None:
                problems.pop(name, None)
            else:
                problems[name] = problem
        if not pending or time.monotonic() - live.started_at > DATA_DEADLINE:
            return problems
        time.sleep(0.5)


def dashboard_targets(board_name: str = PROMETHEUS_BOARD) -> list[tuple[str, str, dict[str, str]]]:
    """(panel title, expression, variables) of every target of one committed dashboard."""
    board = kit.committed_dashboards()[board_name]
    variables = dict(BUILTIN_VARIABLES)
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            variables[variable["name"]] = variable["allValue"]
    return [
        (panel["title"], target["expr"], variables)
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]


def check_dashboard_queries(live: LiveCheck, board_name: str) -> None:
    """Every target of ``board_name`` returns data as a range query."""

    def check(expr: str) -> Callable[[], str | None]:
        return lambda: None if live.api.range(expr) else "no data"

    checks = {
        f"{title} | {expr}": check(substitute(expr, variables))
        for title, expr, variables in dashboard_targets(board_name)
    }
    assert len(checks) >= 25
    failures = until_all_answer(live, checks)
    assert not failures, "\n".join(f"{name}: {why}" for name, why in failures.items())


def check_dashboard_variables(live: LiveCheck, board_name: str) -> None:
    """Every query variable of ``board_name`` lists values."""

    def has_values(selector: str, label: str) -> Callable[[], str | None]:
        return lambda: None if live.api.label_values(label, selector) else "no data"

    checks = {}
    for variable in kit.committed_dashboards()[board_name]["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
        assert match, f"unexpected variable query {variable['query']!r}"
        selector = substitute(match.group(1), {"job": ".*", "instance": ".*"})
        checks[variable["name"]] = has_values(selector, match.group(2))
    assert set(checks) == {"job", "instance", "operation"}
    assert not until_all_answer(live, checks)


def check_rule_expressions(live: LiveCheck, rules: list[dict[str, Any]]) -> None:
    """Every expression of ``rules`` returns data as an instant query."""

    def check(expr: str) -> Callable[[], str | None]:
        return lambda: None if live.api.instant(expr) else "no data"

    checks = {rule.get("record") or rule["alert"]: check(rule["expr"]) for rule in rules}
    failures = until_all_answer(live, checks)
    assert not failures, "\n".join(f"{name}: {why}" for name, why in failures.items())


def check_rules_healthy(live: LiveCheck) -> None:
    """Prometheus evaluates every loaded rule without error."""

    def check() -> str | None:
        unhealthy = [
            f"{rule['name']}: {rule['health']} {rule.get('lastError', '')}"
            for rule in live.api.rules()
            if rule["health"] != "ok"
        ]
        return "no data yet: " + "; ".join(unhealthy) if unhealthy else None

    assert not until_all_answer(live, {"rules": check})
    assert len(live.api.rules()) == len(kit.all_rules())


def check_idle_service_alert(live: LiveCheck) -> None:
    """The no-operations alert fires for the idle endpoint only."""
    expr = next(
        rule["expr"]
        for rule in kit.all_rules(live.rule_dir)
        if rule.get("alert") == "OpenAIAgentsSessionNoOperations"
    )

    def check() -> str | None:
        instances = {series["metric"]["instance"] for series in live.api.instant(expr)}
        idle = f"127.0.0.1:{live.ports['idle_port']}"
        return None if instances == {idle} else f"no data: got {instances}, want only {idle}"

    assert not until_all_answer(live, {"idle": check})


def test_every_dashboard_query_returns_data(live: LiveCheck) -> None:
    check_dashboard_queries(live, PROMETHEUS_BOARD)


def test_every_dashboard_variable_lists_values(live: LiveCheck) -> None:
    check_dashboard_variables(live, PROMETHEUS_BOARD)


def test_every_rule_expression_returns_data(live: LiveCheck) -> None:
    rules = kit.all_rules(live.rule_dir)
    committed = {rule.get("record") or rule.get("alert") for rule in kit.all_rules()}
    assert {rule.get("record") or rule.get("alert") for rule in rules} == committed
    # This path's recording rules and the alerts; the OTel rules have their own test.
    check_rule_expressions(
        live,
        kit.all_rules_of(live.rule_dir / RECORDING_FILE)
        + kit.all_rules_of(live.rule_dir / ALERTS_FILE),
    )


def test_prometheus_evaluates_every_rule_without_error(live: LiveCheck) -> None:
    check_rules_healthy(live)


def test_latency_panel_shows_trace_exemplars(live: LiveCheck) -> None:
    (expr,) = [
        substitute(expr, variables)
        for title, expr, variables in dashboard_targets()
        if title == "Latency p99 with trace exemplars"
    ]

    def check() -> str | None:
        found = live.api.exemplars(expr)
        traced = [
            exemplar
            for series in found
            for exemplar in series["exemplars"]
            if re.fullmatch(r"[0-9a-f]{32}", exemplar["labels"].get("trace_id", ""))
        ]
        return None if traced else "no data: no exemplar with a trace_id"

    assert not until_all_answer(live, {"exemplars": check})


def test_idle_service_trips_the_no_operations_alert(live: LiveCheck) -> None:
    assert SCRAPE_JOB in kit.RULES.joinpath(ALERTS_FILE).read_text()
    check_idle_service_alert(live)


def test_default_latency_threshold_is_a_real_bucket(live: LiveCheck) -> None:
    assert live.default_thresholds.latency_bucket in live.latency_buckets


def test_traffic_ran_without_unexpected_errors(live: LiveCheck) -> None:
    assert UNEXPECTED not in live.stack.log("driver"), live.stack.log("driver")
