"""The Prometheus rules: valid for promtool, unit-tested for every rule, documented.

``promtool test rules`` runs the files in ``deploy/prometheus/tests``; these tests
also make sure those files leave no rule untested: every recording rule is
evaluated, every alert has a case where it fires and one where it stays quiet.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import kit


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kit.binary("promtool"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rule_tests() -> list[dict[str, Any]]:
    tests: list[dict[str, Any]] = []
    for path in sorted(kit.RULE_TESTS.glob("*.yml")):
        tests.extend(yaml.safe_load(path.read_text())["tests"])
    return tests


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub generates for the headings of ``markdown``."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_promtool_accepts_the_rule_files() -> None:
    result = promtool("check", "rules", *sorted(kit.RULES.glob("*.rules.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    result = promtool("test", "rules", *sorted(kit.RULE_TESTS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(list(kit.RULE_TESTS.glob("*.yml")))


def test_every_recording_rule_is_evaluated_by_a_unit_test() -> None:
    evaluated = {case["expr"] for test in rule_tests() for case in test.get("promql_expr_test", [])}
    records = {rule["record"] for rule in kit.all_rules() if "record" in rule}
    assert records - evaluated == set()


def test_every_rule_file_s_recording_rules_are_evaluated_by_a_test_that_loads_it() -> None:
    """Both export paths record the same names: each file needs tests of its own."""
    for path in sorted(kit.RULES.glob("*.rules.yml")):
        evaluated: set[str] = set()
        for test_file in sorted(kit.RULE_TESTS.glob("*.yml")):
            document = yaml.safe_load(test_file.read_text())
            if f"../rules/{path.name}" not in document["rule_files"]:
                continue
            for test in document["tests"]:
                evaluated.update(case["expr"] for case in test.get("promql_expr_test", []))
        records = {rule["record"] for rule in kit.all_rules_of(path) if "record" in rule}
        assert records - evaluated == set(), path.name


def test_both_paths_record_the_same_series() -> None:
    """The alerts and the dashboards' recorded queries serve either path unchanged."""
    prometheus = {rule["record"] for rule in kit.all_rules_of(kit.RULES / PROMETHEUS_FILE)}
    otel = {rule["record"] for rule in kit.all_rules_of(kit.RULES / OTEL_FILE)}
    derived = {
        "job_operation:openai_agents_session_operations_errors:ratio_rate5m",
        "job:openai_agents_session_session_items:p99_rate5m",
    }
    assert prometheus - derived == otel


def test_otel_rules_read_only_the_library_s_otel_series() -> None:
    """Series of the same name from prometheus_client or another library are not ours."""
    for rule in kit.all_rules_of(kit.RULES / OTEL_FILE):
        selectors = re.findall(r"\b([a-z_]+)\{([^}]*)\}", rule["expr"])
        assert selectors, rule["record"]
        for name, matchers in selectors:
            assert 'otel_scope_name="openai_agents_session"' in matchers, (rule["record"], name)


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in rule_tests():
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    alerts = {rule["alert"] for rule in kit.all_rules() if "alert" in rule}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - quiet == set(), "alerts never tested staying quiet"


def test_the_generator_knows_every_alert_it_writes() -> None:
    written = [rule["alert"] for rule in kit.all_rules() if "alert" in rule]
    assert written == list(kit.deploy_generator().session_alerts.ALERT_NAMES)


def test_every_alert_has_summary_description_and_a_runbook_section() -> None:
    anchors = github_anchors(kit.RUNBOOK.read_text())
    for rule in kit.all_rules():
        if "alert" not in rule:
            continue
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert path.endswith("RUNBOOK.md"), annotations["runbook_url"]
        assert anchor in anchors, f"{rule['alert']}: no runbook section #{anchor}"


def test_recorded_series_names_follow_level_metric_operations() -> None:
    for rule in kit.all_rules():
        if "record" in rule:
            assert re.fullmatch(r"[a-z_]+:openai_agents_session_[a-z_]+:[a-z0-9_]+", rule["record"])


def test_thresholds_can_be_overridden() -> None:
    generator = kit.deploy_generator()
    tuned = generator.session_rules.load_thresholds(
        THRESHOLDS_FILE, {"latency_threshold_seconds": "0.5", "error_ratio": "0.01"}
    )
    files = generator.render_rule_files(tuned)
    assert 'le="0.5"' in files[generator.RECORDING_FILE]
    otel = generator.session_rules.load_thresholds(
        THRESHOLDS_FILE, {"otel_latency_threshold_seconds": "1"}
    )
    # The OTel SDK's exporter writes le="1.0", the Collector le="1": both are read.
    assert 'le=~"1(\\\\.0)?"' in generator.render_rule_files(otel)[generator.OTEL_RECORDING_FILE]
    assert "> 0.01\n" in files[generator.ALERTS_FILE]


THRESHOLDS_FILE = kit.DEPLOY / "prometheus" / "thresholds.yaml"
PROMETHEUS_FILE = "openai_agents_session.recording.rules.yml"
OTEL_FILE = "openai_agents_session.otel.recording.rules.yml"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "latency_threshold_seconds=0.3",
            "latency_threshold_seconds=0.3 is not a bucket boundary of "
            "openai_agents_session_operation_duration_seconds, so no alert could measure it; "
            "use one of: 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, "
            "0.1, 0.25, 0.5, 1, 2.5, 5, 10",
        ),
        (
            "otel_latency_threshold_seconds=0.25",
            "otel_latency_threshold_seconds=0.25 is not a bucket boundary of "
            "db_client_operation_duration_seconds, so no alert could measure it; "
            "use one of: 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10",
        ),
        ("eror_ratio=0.1", "unknown threshold 'eror_ratio'; known: app_job_selector, "),
        ("error_ratio=lots", "error_ratio='lots' is not a number; write e.g. error_ratio=0.05"),
        ("latency_objective=1.5", "latency_objective=1.5 must be between 0 and 1"),
        ("error_ratio_for=ten", "error_ratio_for='ten' is not a Prometheus duration"),
        ("error_ratio", "--set 'error_ratio': write it as KEY=VALUE"),
    ],
)
def test_a_bad_threshold_stops_the_generator_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: str, message: str
) -> None:
    generator = kit.deploy_generator()

    code = generator.main(["--set", override, "--out-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {message}"), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("error_ratio: true\n", "error_ratio=True is not a number"),
        ("surprise: 1\n", "unknown threshold(s) 'surprise'"),
        ("- a list\n", "expected key: value lines, got a list"),
    ],
)
def test_a_bad_thresholds_file_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    thresholds = tmp_path / "thresholds.yaml"
    defaults = yaml.safe_load(THRESHOLDS_FILE.read_text())
    extra = yaml.safe_load(text)
    if isinstance(extra, dict):
        defaults.update(extra)
        thresholds.write_text(yaml.safe_dump(defaults))
    else:
        thresholds.write_text(text)
    out = tmp_path / "out"

    code = kit.deploy_generator().main(["--thresholds", str(thresholds), "--out-dir", str(out)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_make_rules_renders_other_thresholds(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "make",
            "-s",
            "rules",
            "SET=latency_threshold_seconds=0.5 error_ratio=0.01",
            f"OUT={tmp_path}",
        ],
        cwd=kit.REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    recording = (
        tmp_path / "prometheus/rules/openai_agents_session.recording.rules.yml"
    ).read_text()
    assert 'le="0.5"' in recording
    assert (tmp_path / "kubernetes/prometheusrule.yaml").exists()


def test_make_rules_refuses_a_threshold_that_is_not_a_bucket(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "-s", "rules", "SET=latency_threshold_seconds=0.3", f"OUT={tmp_path}"],
        cwd=kit.REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "latency_threshold_seconds=0.3 is not a bucket boundary" in result.stderr
    assert list(tmp_path.iterdir()) == []
