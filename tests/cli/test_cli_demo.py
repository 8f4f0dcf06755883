"""``openai-agents-session demo`` end to end: real Valkey/Cluster, real Agents SDK runs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from openai_agents_session.cli._demo_telemetry import DemoTelemetry
from openai_agents_session.instrumentation.privacy import KEY_ENVIRONMENT_VARIABLE
from support import Cluster, ServerProcess, live_processes

from .conftest import CliResult, run_cli

# Small and with no simulated model latency: the demo's defaults are for people.
QUICK = ["--sessions", "3", "--turns", "2", "--model-delay", "0", "--metrics-port", "0"]
# Per conversation: turn 1 calls the tool (user, call, output, answer), turn 2 does not.
ITEMS_PER_CONVERSATION = 6


def _demo(capsys: pytest.CaptureFixture[str], *extra: str) -> CliResult:
    return run_cli(capsys, ["demo", *QUICK, *extra])


def _check_summary(summary: dict[str, Any]) -> None:
    assert summary["sessions"] == 3
    assert summary["turns"] == 2
    assert summary["failed_conversations"] == 0
    assert summary["errors"] == 0
    assert summary["operations"]["get_items"] == 3 * 2  # one history read per turn
    assert summary["operations"]["add_items"] >= 3 * 2
    assert summary["items_written"] == 3 * ITEMS_PER_CONVERSATION
    assert summary["items_read"] > 0
    for operation in summary["operations"]:
        assert 0 < summary["p50_seconds"][operation] <= summary["p99_seconds"][operation]
    assert re.fullmatch(r"[0-9a-f]{32}", summary["trace_id"])


def test_demo_runs_offline_on_an_embedded_valkey_and_stops_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    servers_before = set(live_processes())

    result = _demo(capsys, "--json")

    assert result.code == 0, result.err
    assert len(result.out.strip().splitlines()) == 1  # people's output went to stderr
    _check_summary(result.json())
    assert "embedded Valkey on redis://127.0.0.1:" in result.err
    assert set(live_processes()) == servers_before


def test_demo_shows_the_span_tree_summary_and_next_steps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = _demo(capsys)

    assert result.code == 0, result.err
    tree = result.out[result.out.index("one conversation, as traced") :]
    assert "demo conversation" in tree
    assert "turn 2" in tree
    assert "get_items RedisSession" in tree
    assert "add_items RedisSession" in tree
    assert "invoke_agent travel assistant" in tree
    assert "execute_tool get_weather" in tree
    assert "latency per operation" in result.out
    assert "Where to look next" in result.out


def test_demo_on_a_given_server_leaves_sessions_the_cli_can_list(
    capsys: pytest.CaptureFixture[str], valkey_server: ServerProcess
) -> None:
    prefix = "demo-listing"
    target = ["--redis-url", valkey_server.url, "--key-prefix", prefix]

    demo = _demo(capsys, *target, "--ttl", "120", "--json")
    listed = run_cli(capsys, ["sessions", "ls", "--json", *target])

    assert demo.code == 0, demo.err
    assert "embedded" not in demo.err
    sessions = listed.json()
    assert len(sessions) == 3
    for row in sessions:
        assert row["session_id"].startswith("demo-")
        assert row["items"] == ITEMS_PER_CONVERSATION
        assert 0 < row["ttl_seconds"] <= 120


def test_demo_runs_against_a_cluster(capsys: pytest.CaptureFixture[str], cluster: Cluster) -> None:
    result = _demo(capsys, "--redis-url", cluster.url, "--key-prefix", "demo-cluster", "--json")

    assert result.code == 0, result.err
    _check_summary(result.json())


def test_demo_serves_metrics_on_a_free_port_when_the_default_is_taken(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            capsys,
            ["demo", *QUICK[:-2], "--metrics-port", str(port), "--json"],
        )

    assert result.code == 0, result.err
    assert f"(port {port} was taken)" in result.err
    served = int(result.json()["metrics_url"].rsplit(":", 1)[1].split("/")[0])
    assert served != port


def test_demo_with_a_real_model_needs_an_api_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    result = _demo(capsys, "--model", "gpt-4.1-mini")

    assert result.code == 2
    assert "OPENAI_API_KEY" in result.err


def _console_script() -> str:
    script = Path(sys.executable).parent / "openai-agents-session"
    if not script.exists():
        pytest.skip("the console script is not installed (pip install -e .)")
    return str(script)


def test_demo_as_a_process_keeps_serving_until_ctrl_c_then_stops_valkey() -> None:
    process = subprocess.Popen(
        [_console_script(), "demo", *QUICK, "--json", "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        summary = json.loads(process.stdout.readline())
        _check_summary(summary)
        with redis.Redis.from_url(_embedded_url(process.stderr)) as embedded:
            assert embedded.ping()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
            with pytest.raises(redis.ConnectionError):
                embedded.ping()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _embedded_url(stderr: Any) -> str:
    for line in stderr:
        found = re.search(r"embedded Valkey on (redis://\S+)", line)
        if found:
            # Wait for the demo to reach --keep-running before interrupting it.
            for rest in stderr:
                if "until Ctrl-C" in rest:
                    return found.group(1)
    raise AssertionError("the demo never said where its Valkey runs")


def _without_hash_key() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "120"}
    env.pop(KEY_ENVIRONMENT_VARIABLE, None)
    return env


def _pops_counted(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        exposition = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "openai_agents_session_operations_total"
        and sample.labels.get("operation") == "pop_item"
    )


TRICKLE = ["--keep-running", "--traffic-interval", "0.05"]


def test_the_demo_and_its_trickle_do_not_warn_about_their_own_hash_key() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "openai_agents_session.cli", "demo", *QUICK, *TRICKLE, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_without_hash_key(),
    )
    try:
        assert process.stdout is not None
        summary = json.loads(process.stdout.readline())
        # Only the trickle pops: once a pop is counted, its sessions are instrumented
        # (and a Ctrl-C ends the round in flight, as it would for a person).
        deadline = time.monotonic() + 30
        while not _pops_counted(summary["metrics_url"]):
            assert time.monotonic() < deadline, "the trickle never popped an item"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert "Warning" not in out + err


def test_the_demo_hashes_session_ids_with_the_environment_key_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENVIRONMENT_VARIABLE, "the-service-key")
    telemetry = DemoTelemetry()
    try:
        assert telemetry.session_id_key == "the-service-key"
    finally:
        telemetry.shutdown()
