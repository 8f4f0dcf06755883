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


def test_thresholds_can_be_overridden_and_bad_ones_are_named() -> None:
    generator = kit.deploy_generator()
    thresholds_file = kit.DEPLOY / "prometheus" / "thresholds.yaml"
    tuned = generator.session_rules.load_thresholds(
        thresholds_file, {"latency_threshold_seconds": "0.5", "error_ratio": "0.01"}
    )
    files = generator.render_rule_files(tuned)
    assert 'le="0.5"' in files[generator.RECORDING_FILE]
    assert "> 0.01\n" in files[generator.ALERTS_FILE]
    with pytest.raises(ValueError, match=r"latency_objective=1\.5"):
        generator.session_rules.load_thresholds(thresholds_file, {"latency_objective": "1.5"})
    with pytest.raises(ValueError, match="error_ratio_for='ten minutes'"):
        generator.session_rules.load_thresholds(thresholds_file, {"error_ratio_for": "ten minutes"})
    with pytest.raises(KeyError, match="unknown threshold 'eror_ratio'"):
        generator.session_rules.load_thresholds(thresholds_file, {"eror_ratio": "0.1"})
