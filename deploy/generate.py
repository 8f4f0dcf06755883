"""Writes every generated deploy file from its single source.

* ``prometheus/rules/*.rules.yml``  from ``prometheus/session_rules.py``,
  ``prometheus/session_alerts.py``, ``prometheus/metric_paths.py`` and
  ``prometheus/thresholds.yaml``: recording rules for each export path
  (prometheus_client, OpenTelemetry), one set of alerts for both
* ``kubernetes/prometheusrule.yaml`` from those rule files (same groups, wrapped)
* ``kubernetes/grafana-dashboards.yaml`` from ``dashboards/*.json``
* ``kubernetes/tracing-configs.yaml`` from the compose kit's collector and Tempo configs

Run it through ``make`` (it needs the project's virtualenv)::

    make rules                                  # rewrite the committed files
    make rules SET="error_ratio=0.01 latency_threshold_seconds=0.5" OUT=my-deploy/
    make rules THRESHOLDS=my-thresholds.yaml OUT=my-deploy/
    .venv/bin/python deploy/generate.py --check # exit 1 if any committed file is stale

A bad threshold (an unknown key, a value of the wrong type, a latency threshold
that is not a histogram bucket boundary) stops it with one line and exit code 2,
before any file is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
DASHBOARDS = DEPLOY.parent / "dashboards"
sys.path.insert(0, str(DEPLOY / "prometheus"))

import session_alerts  # noqa: E402
import session_rules  # noqa: E402
from metric_paths import OTEL, PROMETHEUS  # noqa: E402

RECORDING_FILE = "prometheus/rules/openai_agents_session.recording.rules.yml"
OTEL_RECORDING_FILE = "prometheus/rules/openai_agents_session.otel.recording.rules.yml"
ALERTS_FILE = "prometheus/rules/openai_agents_session.alerts.rules.yml"
PROMETHEUS_RULE_FILE = "kubernetes/prometheusrule.yaml"
DASHBOARD_CONFIGMAP_FILE = "kubernetes/grafana-dashboards.yaml"
TRACING_CONFIGMAP_FILE = "kubernetes/tracing-configs.yaml"
# ConfigMap name -> the compose kit's file it holds (one configuration for both kits).
TRACING_CONFIGS = {
    "otel-collector-config": "compose/otel-collector.yaml",
    "tempo-config": "compose/tempo.yaml",
}
HEADER = "# Generated from {source}.\n# Do not edit: change the source and run `make rules`.\n"
# In the generated file, where users look first when the dashboard does not appear.
DASHBOARD_SIDECAR_NOTE = """\
# Grafana's dashboard sidecar loads ConfigMaps labelled grafana_dashboard: "1", by
# default only from Grafana's own namespace: set the Helm value
# sidecar.dashboards.searchNamespace (kube-prometheus-stack:
# grafana.sidecar.dashboards.searchNamespace) to ALL or to a list holding this kit's
# namespace. See deploy/README.md, "Grafana".
"""


OTEL_RECORDING_NOTE = """\
# For services exporting through OpenTelemetry (instrument(..., otel_metrics=True)),
# scraped from the OTel SDK's Prometheus exporter or an OpenTelemetry Collector. Load
# it with openai_agents_session.recording.rules.yml, which derives the error ratio
# and length p99 from what both record, and the alerts. Each file reads only its own
# path's series: loading all of them is safe whichever path a service uses.
"""


class _BlockStyleDumper(yaml.SafeDumper):
    """Writes multi-line strings (PromQL, dashboards) as readable ``|`` blocks."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)


def dump_yaml(document: Any) -> str:
    return yaml.dump(
        document, Dumper=_BlockStyleDumper, sort_keys=False, width=100, allow_unicode=True
    )


def render_rule_files(thresholds: session_rules.Thresholds) -> dict[str, str]:
    """Prometheus rule files, keyed by path relative to ``deploy/``."""

    def recording(path: session_rules.MetricPath) -> list[Any]:
        return (
            session_rules.recording_groups(path)
            + session_rules.slo_groups(thresholds, path)
            + session_rules.alert_input_groups(thresholds, path)
        )

    alerts = session_alerts.alerting_groups(thresholds)
    source = "deploy/prometheus/{} and thresholds.yaml"
    return {
        RECORDING_FILE: HEADER.format(source=source.format("session_rules.py"))
        + dump_yaml({"groups": recording(PROMETHEUS)}),
        OTEL_RECORDING_FILE: HEADER.format(source=source.format("session_rules.py"))
        + OTEL_RECORDING_NOTE
        + dump_yaml({"groups": recording(OTEL)}),
        ALERTS_FILE: HEADER.format(source=source.format("session_alerts.py"))
        + dump_yaml({"groups": alerts}),
    }


def render_prometheus_rule(rule_files: dict[str, str]) -> str:
    """A prometheus-operator ``PrometheusRule`` holding the groups of ``rule_files``."""
    groups: list[Any] = []
    for text in rule_files.values():
        groups.extend(yaml.safe_load(text)["groups"])
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "openai-agents-session",
            # kube-prometheus-stack selects rules by its release label; match yours.
            "labels": {
                "app.kubernetes.io/part-of": "openai-agents-session",
                "release": "prometheus",
            },
        },
        "spec": {"groups": groups},
    }
    return HEADER.format(source="deploy/prometheus/rules/*.rules.yml") + dump_yaml(resource)


def render_dashboard_configmap(dashboards: Path) -> str:
    """A ConfigMap the Grafana sidecar (label ``grafana_dashboard``) loads dashboards from."""
    data = {path.name: path.read_text() for path in sorted(dashboards.glob("*.json"))}
    if not data:
        raise FileNotFoundError(
            f"no dashboards in {dashboards}; run `python dashboards/build.py` first"
        )
    for text in data.values():
        json.loads(text)  # a broken dashboard must not reach the cluster
    resource = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "openai-agents-session-dashboards",
            "labels": {
                "app.kubernetes.io/part-of": "openai-agents-session",
                "grafana_dashboard": "1",
            },
        },
        "data": data,
    }
    return HEADER.format(source="dashboards/*.json") + DASHBOARD_SIDECAR_NOTE + dump_yaml(resource)


def render_tracing_configmaps(deploy: Path) -> str:
    """The OpenTelemetry Collector's and Tempo's configurations as ConfigMaps."""
    resources = []
    for name, relative in TRACING_CONFIGS.items():
        path = deploy / relative
        yaml.safe_load(path.read_text())  # a broken config must not reach the cluster
        resources.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "labels": {"app.kubernetes.io/part-of": "openai-agents-session"},
                },
                "data": {path.name: path.read_text()},
            }
        )
    return HEADER.format(source=", ".join(f"deploy/{p}" for p in TRACING_CONFIGS.values())) + (
        "---\n".join(dump_yaml(resource) for resource in resources)
    )


def render_all(thresholds: session_rules.Thresholds) -> dict[str, str]:
    files = render_rule_files(thresholds)
    files[PROMETHEUS_RULE_FILE] = render_prometheus_rule(files)
    files[DASHBOARD_CONFIGMAP_FILE] = render_dashboard_configmap(DASHBOARDS)
    files[TRACING_CONFIGMAP_FILE] = render_tracing_configmaps(DEPLOY)
    return files


def stale_files(files: dict[str, str], root: Path) -> list[str]:
    """Paths under ``root`` whose content differs from ``files``."""
    return [
        relative
        for relative, text in files.items()
        if not (root / relative).exists() or (root / relative).read_text() != text
    ]


def _parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise session_rules.ThresholdError(
                f"--set {pair!r}: write it as KEY=VALUE, e.g. error_ratio=0.01"
            )
        overrides[key.strip()] = value.strip()
    return overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--thresholds", type=Path, default=DEPLOY / "prometheus" / "thresholds.yaml"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out-dir", type=Path, default=DEPLOY)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    try:
        thresholds = session_rules.load_thresholds(args.thresholds, _parse_overrides(args.set))
    except session_rules.ThresholdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = render_all(thresholds)
    if args.check:
        stale = stale_files(files, args.out_dir)
        for relative in stale:
            print(f"stale: {args.out_dir / relative} (run `make rules`)")
        return 1 if stale else 0
    for relative, text in files.items():
        target = args.out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
