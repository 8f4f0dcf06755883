"""Deploy files checked offline: generated ones up to date, every file valid for its tool.

Validators: PyYAML (well-formed), check-jsonschema's bundled compose-spec schema
(compose.yaml), promtool (the compose Prometheus config), kubernetes-validate with
its bundled schemas in strict mode (core kinds), and pydantic models of the
prometheus-operator CRDs from cloudcoil (ServiceMonitor, PrometheusRule), compared
after a round trip so unknown fields cannot slip through.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from . import kit

COMPOSE = kit.DEPLOY / "compose" / "compose.yaml"
KUBERNETES = kit.DEPLOY / "kubernetes"
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}


def yaml_files() -> list[Path]:
    return sorted(p for p in kit.DEPLOY.rglob("*") if p.suffix in {".yml", ".yaml"})


def manifests() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_generated_deploy_files_are_up_to_date() -> None:
    generator = kit.deploy_generator()
    thresholds = generator.session_rules.load_thresholds(
        kit.DEPLOY / "prometheus" / "thresholds.yaml"
    )
    stale = generator.stale_files(generator.render_all(thresholds), kit.DEPLOY)
    assert not stale, f"stale: {stale}; run `make rules`"


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(kit.DEPLOY)))
def test_yaml_file_is_well_formed(path: Path) -> None:
    assert list(yaml.safe_load_all(path.read_text()))


def test_compose_file_matches_the_compose_spec(tmp_path: Path) -> None:
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator is real: a misspelled key is rejected.
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["app"]["enviroment"] = broken["services"]["app"].pop("environment")
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert check_compose(tmp_path / "compose.yaml").returncode != 0


def test_compose_mounts_and_build_files_exist() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    base = COMPOSE.parent
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (base / source).exists(), f"{name}: {source} does not exist"
        if "build" in service:
            context = base / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).exists()
    dockerfile = (base / "Dockerfile").read_text()
    assert "COPY deploy/app/ ./" in dockerfile
    assert (kit.DEPLOY / "app" / "main.py").exists()


def test_every_service_of_a_locally_built_image_builds_it() -> None:
    """Compose pulls the image of a service without ``build``, in any order with builds."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    built = {s["image"]: s["build"] for s in services.values() if "build" in s and "image" in s}
    assert built
    for name, service in services.items():
        if service.get("image") in built:
            assert service.get("build") == built[service["image"]], (
                f"{name}: runs the locally built {service['image']} without its build section"
            )


def test_compose_runs_the_example_image_read_only_like_the_kubernetes_manifest() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    deployment = _by_kind_and_name()[("Deployment", "agent-app")]
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        service = services[container["name"]]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert service.get("read_only") is True, container["name"]
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        tmpfs = {entry.split(":")[0] for entry in service.get("tmpfs", [])}
        assert tmpfs == mounts, container["name"]


def test_compose_prometheus_config_is_valid_with_the_rule_files(tmp_path: Path) -> None:
    config = yaml.safe_load((kit.DEPLOY / "compose" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/*.rules.yml"]
    # Inside the container the rules are mounted there; here, point at the repo's copy.
    config["rule_files"] = [str(kit.RULES / "*.rules.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [kit.binary("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in sorted(kit.RULES.glob("*.rules.yml")):
        rules = sum(len(group["rules"]) for group in yaml.safe_load(path.read_text())["groups"])
        assert f"Checking {path}\n  SUCCESS: {rules} rules found" in result.stdout, result.stdout


def test_grafana_provisioning_links_exemplars_to_tempo() -> None:
    provisioning = kit.DEPLOY / "compose" / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "datasources.yaml").read_text())
    by_type = {source["type"]: source for source in sources["datasources"]}
    destination = by_type["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0]
    assert destination == {"name": "trace_id", "datasourceUid": by_type["tempo"]["uid"]}
    providers = yaml.safe_load((provisioning / "dashboards" / "dashboards.yaml").read_text())
    compose = yaml.safe_load(COMPOSE.read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"../../dashboards:{providers['providers'][0]['options']['path']}:ro" in mounts


@pytest.mark.parametrize(
    "manifest",
    [m for m in manifests() if m["kind"] not in OPERATOR_KINDS],
    ids=lambda m: f"{m['kind']}/{m['metadata']['name']}",
)
def test_kubernetes_manifest_matches_the_schema(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)


@pytest.mark.parametrize(
    "manifest",
    [m for m in manifests() if m["kind"] in OPERATOR_KINDS],
    ids=lambda m: f"{m['kind']}/{m['metadata']['name']}",
)
def test_prometheus_operator_resource_matches_the_crd(manifest: dict[str, Any]) -> None:
    models = pytest.importorskip(
        "cloudcoil.models.prometheus_operator.v1",
        reason="pip install cloudcoil-models-prometheus-operator to check operator CRDs",
    )
    model = getattr(models, manifest["kind"]).model_validate(manifest)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == manifest


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_prometheus_rule_holds_exactly_the_rule_files_groups() -> None:
    (rule,) = [m for m in manifests() if m["kind"] == "PrometheusRule"]
    by_name = {group["name"]: group for group in kit.rule_groups()}
    assert {group["name"]: group for group in rule["spec"]["groups"]} == by_name


def test_dashboard_configmap_holds_the_committed_dashboards() -> None:
    (configmap,) = [
        m
        for m in manifests()
        if m["kind"] == "ConfigMap" and "grafana_dashboard" in m["metadata"]["labels"]
    ]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    loaded = {name: json.loads(text) for name, text in configmap["data"].items()}
    assert loaded == kit.committed_dashboards()


def test_service_monitor_scrapes_the_example_service_as_the_watched_job() -> None:
    by_kind = {(m["kind"], m["metadata"]["name"]): m for m in manifests()}
    monitor = by_kind[("ServiceMonitor", "agent-app")]
    service = by_kind[("Service", "agent-app")]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    ports = {port["name"] for port in service["spec"]["ports"]}
    assert {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]} <= ports
    thresholds = yaml.safe_load((kit.DEPLOY / "prometheus" / "thresholds.yaml").read_text())
    # Prometheus names the job after the Service: the no-operations alert watches it.
    assert thresholds["app_job_selector"] == f'job="{service["metadata"]["name"]}"'


def _by_kind_and_name() -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["kind"], m["metadata"]["name"]): m for m in manifests()}


def _service_port(host_and_port: str) -> tuple[str, int]:
    """``(service, port)`` of ``http://name:port`` or ``name:port`` in the kit's namespace."""
    url = urlsplit(host_and_port if "://" in host_and_port else f"tcp://{host_and_port}")
    assert url.hostname and url.port, host_and_port
    return url.hostname, url.port


def _assert_service_serves(service_and_port: tuple[str, int]) -> None:
    name, port = service_and_port
    service = _by_kind_and_name().get(("Service", name))
    assert service is not None, f"no Service {name!r} in the Kubernetes kit"
    assert port in {p["port"] for p in service["spec"]["ports"]}, f"{name} has no port {port}"


def test_the_kit_creates_the_namespace_it_deploys_into() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    namespaces = [m["metadata"]["name"] for m in manifests() if m["kind"] == "Namespace"]
    assert namespaces == [kustomization["namespace"]]
    assert all("namespace" not in m["metadata"] for m in manifests())  # set in one place


def test_every_in_cluster_address_the_kit_uses_is_a_service_of_the_kit() -> None:
    kit_objects = _by_kind_and_name()
    env = {
        variable["name"]: variable["value"]
        for container in kit_objects[("Deployment", "agent-app")]["spec"]["template"]["spec"][
            "containers"
        ]
        for variable in container.get("env", [])
        if "value" in variable  # not those read from a Secret
    }
    _assert_service_serves(_service_port(env["REDIS_URL"]))
    _assert_service_serves(_service_port(env["OTEL_EXPORTER_OTLP_ENDPOINT"]))
    collector = yaml.safe_load((kit.DEPLOY / "compose" / "otel-collector.yaml").read_text())
    for name, exporter in collector["exporters"].items():
        if name != "prometheus":  # it listens (scraped), it sends nowhere
            _assert_service_serves(_service_port(exporter["endpoint"]))
    datasource_map = kit_objects[("ConfigMap", "openai-agents-session-tempo-datasource")]
    (datasource,) = yaml.safe_load(next(iter(datasource_map["data"].values())))["datasources"]
    namespace = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["namespace"]
    host = urlsplit(datasource["url"]).hostname
    assert host == f"tempo.{namespace}.svc"
    _assert_service_serves(("tempo", urlsplit(datasource["url"]).port or 80))


def test_every_config_map_a_deployment_mounts_is_in_the_kit() -> None:
    kit_objects = _by_kind_and_name()
    for (kind, name), manifest in kit_objects.items():
        if kind != "Deployment":
            continue
        for volume in manifest["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                mounted = kit_objects.get(("ConfigMap", volume["configMap"]["name"]))
                assert mounted is not None, f"{name}: no ConfigMap {volume['configMap']['name']}"
                for item in volume["configMap"].get("items", []):
                    assert item["key"] in mounted["data"], f"{name}: no key {item['key']}"


def test_the_dashboard_tempo_variable_has_a_tempo_in_both_kits() -> None:
    dashboard = next(iter(kit.committed_dashboards().values()))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["tempo"]["query"] == "tempo"
    compose = yaml.safe_load(COMPOSE.read_text())
    assert "tempo" in compose["services"]
    assert ("Deployment", "tempo") in _by_kind_and_name()


def test_no_tracked_file_is_ignored_by_git() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-standard"],
        cwd=kit.REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    assert listed.stdout.split() == []


def _collector_config() -> dict[str, Any]:
    return dict(yaml.safe_load((kit.DEPLOY / "compose" / "otel-collector.yaml").read_text()))


def test_the_collector_serves_otlp_metrics_where_both_kits_scrape_it() -> None:
    collector = _collector_config()
    pipeline = collector["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["otlp"] and pipeline["exporters"] == ["prometheus"]
    port = urlsplit(f"tcp://{collector['exporters']['prometheus']['endpoint']}").port
    # Compose: Prometheus scrapes the collector, keeping the senders' job and instance.
    scrape = yaml.safe_load((kit.DEPLOY / "compose" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "otel-collector"]
    assert job["honor_labels"] is True
    assert job["static_configs"][0]["targets"] == [f"otel-collector:{port}"]
    # Kubernetes: the Service's port, named as the ServiceMonitor's endpoint, honorLabels.
    by_kind = _by_kind_and_name()
    service = by_kind[("Service", "otel-collector")]
    (metrics_port,) = [p for p in service["spec"]["ports"] if p["port"] == port]
    monitor = by_kind[("ServiceMonitor", "otel-collector")]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == metrics_port["name"] and endpoint["honorLabels"] is True
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )


def test_both_kits_switch_the_app_s_metrics_with_one_variable() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["app"]["environment"]["OTEL_METRICS_EXPORTER"] == (
        "${OTEL_METRICS_EXPORTER:-none}"
    )
    deployment = _by_kind_and_name()[("Deployment", "agent-app")]
    (app,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    env = {variable["name"]: variable.get("value") for variable in app["env"]}
    assert env["OTEL_METRICS_EXPORTER"] == "none"
    # The app reads exactly that variable and value.
    assert 'os.environ.get("OTEL_METRICS_EXPORTER"' in (kit.DEPLOY / "app" / "main.py").read_text()
