"""The committed dashboard JSON is what the builder writes, and is fit to import.

The SDK's own ``from_json`` drops unknown keys, so it proves nothing; these tests
check the properties Grafana 11 and operators depend on directly on the JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from . import kit

RECORDED_SERIES = re.compile(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b")


@pytest.fixture(scope="module")
def boards() -> dict[str, Any]:
    found = kit.committed_dashboards()
    assert found, "no dashboards/*.json: run `python dashboards/build.py`"
    return found


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def test_committed_json_is_exactly_what_the_builder_writes(boards: dict[str, Any]) -> None:
    rendered = kit.dashboard_builder().render_dashboards()
    assert set(rendered) == set(boards), "run `python dashboards/build.py`"
    for name, text in rendered.items():
        committed = (kit.DASHBOARDS / name).read_text()
        assert committed == text, f"{name} is stale: run `python dashboards/build.py`"


def test_dashboards_use_the_grafana_11_schema(boards: dict[str, Any]) -> None:
    for board in boards.values():
        assert board["schemaVersion"] == 41
        assert board["uid"] and board["title"]
        assert board["annotations"]["list"][0]["builtIn"] == 1


def test_panel_ids_are_unique_and_panels_fit_the_grid(boards: dict[str, Any]) -> None:
    for board in boards.values():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


def test_every_panel_says_what_to_do_when_it_looks_bad(boards: dict[str, Any]) -> None:
    for board in boards.values():
        for panel in panels(board):
            description = panel.get("description", "")
            assert len(description) > 80, f"{panel['title']}: description too thin"


def test_every_query_reads_the_chosen_prometheus_and_filters_by_job(
    boards: dict[str, Any],
) -> None:
    for board in boards.values():
        for panel in panels(board):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"
                assert 'job=~"$job"' in target["expr"], (panel["title"], target["expr"])


def test_variables_pick_data_sources_job_instance_and_operation(boards: dict[str, Any]) -> None:
    for board in boards.values():
        variables = {variable["name"]: variable for variable in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert variables["tempo"]["type"] == "datasource"
        assert variables["tempo"]["query"] == "tempo"
        for name in ("job", "instance", "operation"):
            assert variables[name]["type"] == "query"
            assert variables[name]["includeAll"] and variables[name]["multi"]
            assert variables[name]["query"].startswith("label_values(")


def test_latency_panel_links_exemplars_to_the_chosen_tempo(boards: dict[str, Any]) -> None:
    board = boards["openai-agents-session.json"]
    (panel,) = [p for p in panels(board) if p["title"] == "Latency p99 with trace exemplars"]
    assert panel["targets"][0]["exemplar"] is True
    (override,) = panel["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "trace_id"}
    url = override["properties"][0]["value"][0]["url"]
    assert "${tempo}" in url and "${__value.raw}" in url


def test_dashboard_covers_every_exported_metric(boards: dict[str, Any]) -> None:
    from openai_agents_session.instrumentation.metrics import METRIC_PREFIX

    text = json.dumps(boards)
    families = (
        "operations", "operation_duration_seconds", "items", "item_size_bytes",
        "session_items", "ttl_refreshes", "trimmed_items", "corrupt_items", "errors",
        "slow_operations", "duplicate_batches", "operation_log_evictions", "telemetry_errors",
    )  # fmt: skip
    missing = [name for name in families if f"{METRIC_PREFIX}_{name}" not in text]
    assert not missing, f"no panel shows {missing}"


def test_recorded_series_the_dashboard_reads_are_recorded_by_the_rules(
    boards: dict[str, Any],
) -> None:
    recorded = {rule["record"] for rule in kit.all_rules() if "record" in rule}
    for board in boards.values():
        for panel in panels(board):
            for target in panel["targets"]:
                for name in RECORDED_SERIES.findall(target["expr"]):
                    assert name in recorded, f"{panel['title']}: {name} is not recorded"


def test_each_export_path_has_a_dashboard_with_the_same_panels(boards: dict[str, Any]) -> None:
    def layout(board: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (panel["type"], panel["title"], panel["gridPos"], len(panel.get("targets", [])))
            for panel in board["panels"]
        ]

    prometheus = boards["openai-agents-session.json"]
    otel = boards["openai-agents-session-otel.json"]
    assert layout(otel) == layout(prometheus)
    assert otel["uid"] != prometheus["uid"] and otel["title"] != prometheus["title"]


def test_recorded_queries_are_the_same_on_both_dashboards(boards: dict[str, Any]) -> None:
    """Both paths' rules record the same series: only raw queries differ."""

    def targets(board: dict[str, Any]) -> list[str]:
        return [target["expr"] for panel in panels(board) for target in panel["targets"]]

    pairs = zip(
        targets(boards["openai-agents-session.json"]),
        targets(boards["openai-agents-session-otel.json"]),
        strict=True,
    )
    differing = [(a, b) for a, b in pairs if a != b]
    assert differing
    for prometheus, otel in differing:
        assert not RECORDED_SERIES.search(prometheus), prometheus
        assert not RECORDED_SERIES.search(otel), otel


def raw_series(board: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(panel title, family, matchers) of every raw (not recorded) series a panel reads."""
    found = set()
    for panel in panels(board):
        for target in panel["targets"]:
            for name, matchers in re.findall(r"\b([a-z_:]+)\{([^}]*)\}", target["expr"]):
                if ":" not in name:
                    family = re.sub(r"_(bucket|count|sum)$", "", name)
                    found.add((panel["title"], family, matchers))
    return found


def test_otel_dashboard_reads_only_the_library_s_otel_series(boards: dict[str, Any]) -> None:
    from openai_agents_session.instrumentation.metric_names import METRICS

    otel_names = {row.prometheus_via_otel for row in METRICS}
    board = boards["openai-agents-session-otel.json"]
    for title, family, matchers in raw_series(board):
        assert family in otel_names, (title, family)
        assert 'otel_scope_name="openai_agents_session"' in matchers, title
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            assert 'otel_scope_name="openai_agents_session"' in variable["query"]


def test_every_raw_panel_query_has_its_otel_counterpart(boards: dict[str, Any]) -> None:
    from openai_agents_session.instrumentation.metric_names import by_prometheus_name

    prometheus = boards["openai-agents-session.json"]
    otel = {
        (title, family)
        for title, family, _ in raw_series(boards["openai-agents-session-otel.json"])
    }
    expected = {
        (title, by_prometheus_name(family).prometheus_via_otel)
        for title, family, _ in raw_series(prometheus)
    }
    assert expected == otel
