"""``doctor`` against real servers, each configured as production servers are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openai_agents_session.cli import main
from openai_agents_session.cli._doctor_checks import clocks
from support import Cluster, ServerProcess
from support.acl import acl_rules, create_acl_user

README = Path(__file__).resolve().parents[2] / "README.md"


def doctor(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--redis-url", url, "--json", *extra])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return code, report


def statuses(report: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["check"], set()).add(finding["status"])
    return found


def test_a_plain_valkey_passes_with_warnings_about_durability(
    valkey_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = doctor(capsys, valkey_server.url)

    assert code == 0
    assert statuses(report) == {
        "server": {"ok"},
        "eviction": {"ok"},
        "persistence": {"warn"},  # the test server saves nothing
        "replicas": {"warn"},
        "clocks": {"ok"},
        "round trip": {"ok"},
    }
    assert "Valkey 9" in report["findings"][0]["found"]
    assert valkey_server.client().keys("openai_agents_session:doctor-*") == []


def test_redis_7_passes_and_is_named(
    redis7_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = doctor(capsys, redis7_server.url)

    assert code == 0
    assert report["findings"][0]["found"].startswith("Redis 7.")
    assert statuses(report)["round trip"] == {"ok"}


def test_a_cluster_is_checked_on_every_primary(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    host, port = cluster.startup_nodes[0]
    code, report = doctor(capsys, f"redis+cluster://{host}:{port}")

    assert code == 0
    servers = [f for f in report["findings"] if f["check"] == "server"]
    assert len(servers) == len(cluster.primaries)
    assert all("cluster" in f["found"] for f in servers)
    assert statuses(report)["round trip"] == {"ok"}
    (clock,) = [f for f in report["findings"] if f["check"] == "clocks"]
    assert clock["status"] == "ok" and f"{len(cluster.primaries)} primaries" in clock["found"]


@pytest.mark.parametrize(
    ("spread_ms", "status"), [(0, "ok"), (999, "ok"), (1_500, "warn"), (45_000, "problem")]
)
def test_primaries_clocks_apart_are_a_warning_then_a_problem(spread_ms: float, status: str) -> None:
    finding = clocks({"a:1": 10.0, "b:2": 10.0 + spread_ms, "c:3": 10.0 + spread_ms / 2})
    assert finding.status == status
    assert (status == "ok") == (finding.advice == "")


@pytest.fixture(scope="module")
def evicting_server() -> Iterator[ServerProcess]:
    config = {"maxmemory": "64mb", "maxmemory-policy": "volatile-lru", "appendonly": "yes"}
    with ServerProcess(config=config) as server:
        yield server


def test_an_evicting_policy_is_a_problem_with_the_fix_named(
    evicting_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = doctor(capsys, evicting_server.url)

    assert code == 1
    (finding,) = [f for f in report["findings"] if f["check"] == "eviction"]
    assert finding["status"] == "problem"
    assert "volatile-lru" in finding["found"]
    assert "noeviction" in finding["advice"]
    assert statuses(report)["persistence"] == {"ok"}  # AOF on


def test_the_human_report_names_each_problem_and_what_to_do(
    evicting_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["doctor", "--redis-url", evicting_server.url])
    out = capsys.readouterr()

    assert code == 1
    assert "PROBLEM  eviction" in out.out
    assert "-> " in out.out and "noeviction" in out.out
    assert out.out.rstrip().endswith("1 problem")


def test_the_readme_app_user_passes_and_says_what_it_could_not_check(
    valkey_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    user, password = create_acl_user(
        valkey_server.client(), acl_rules(README), "sessions-app", password="app-secret"
    )
    url = f"redis://{user}:{password}@{valkey_server.host}:{valkey_server.port}/0"
    code, report = doctor(capsys, url)

    assert code == 0
    assert statuses(report) == {
        "server": {"unknown"},
        "eviction": {"unknown"},
        "persistence": {"unknown"},
        "replicas": {"unknown"},
        "clocks": {"ok"},
        "round trip": {"ok"},
    }
    assert "+info" in report["findings"][0]["advice"]
    assert "app-secret" not in json.dumps(report)


def test_a_user_without_the_stores_commands_is_a_problem_naming_the_grant(
    valkey_server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    user, password = create_acl_user(valkey_server.client(), acl_rules(README), "sessions-cli")
    url = f"redis://{user}:{password}@{valkey_server.host}:{valkey_server.port}/0"
    code, report = doctor(capsys, url)

    assert code == 1
    (finding,) = [f for f in report["findings"] if f["check"] == "round trip"]
    assert finding["status"] == "problem"
    assert "ACL SETUSER" in finding["advice"] or "grant" in finding["advice"]


def test_an_unreachable_server_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    from support import free_port

    code = main(["doctor", "--redis-url", f"redis://127.0.0.1:{free_port()}/0"])

    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_replica_is_a_problem(capsys: pytest.CaptureFixture[str]) -> None:
    with ServerProcess() as primary:
        replica_config = {"replicaof": f"{primary.host} {primary.port}"}
        with ServerProcess(config=replica_config) as replica:
            code, report = doctor(capsys, replica.url)

    assert code == 1
    (finding,) = [f for f in report["findings"] if f["check"] == "replicas"]
    assert finding["status"] == "problem"
