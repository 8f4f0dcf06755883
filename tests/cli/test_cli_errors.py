"""What an operator sees when the server, the password or the key is wrong: one line, exit 2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support import SentinelGroup, ServerProcess, free_port

from .conftest import Store, run_cli
from .servers_kit import PASSWORD, ProtectedServer

EXTRA_FLAGS = {"show": ["--json"], "export": [], "rm": ["--yes"]}


@pytest.fixture(scope="module")
def protected_server() -> Iterator[ServerProcess]:
    with ProtectedServer() as server:
        yield server


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("command", [["ls"], ["show", "x"], ["stats"], ["rm", "x", "--yes"]])
def test_an_unreachable_server_is_named_with_what_to_do(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"

    result = run_cli(capsys, ["sessions", *command, "--redis-url", url])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert f"cannot reach Redis at {url}" in line
    assert "--redis-url" in line
    assert result.out == ""


def test_an_unreachable_cluster_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"redis+cluster://127.0.0.1:{free_port()}"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    assert "cannot reach Redis at redis+cluster://" in _one_line_error(result.err)


def test_a_missing_password_is_named_as_required(
    capsys: pytest.CaptureFixture[str], protected_server: ServerProcess
) -> None:
    url = f"redis://127.0.0.1:{protected_server.port}/0"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert f"Redis at {url} requires a password and none was given" in line
    assert "redis://:PASSWORD@host:port/0" in line


@pytest.mark.parametrize(
    "url_form",
    ["redis://:{password}@127.0.0.1:{port}/0", "redis://127.0.0.1:{port}/0?password={password}"],
)
def test_a_wrong_password_is_named_as_refused_and_not_echoed(
    capsys: pytest.CaptureFixture[str], protected_server: ServerProcess, url_form: str
) -> None:
    url = url_form.format(password="hunter2-wrong", port=protected_server.port)

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert "refused the credentials: wrong password" in line
    assert "hunter2" not in line


def test_a_cluster_url_for_a_standalone_server_says_it_is_not_a_cluster(
    capsys: pytest.CaptureFixture[str], valkey_server: ServerProcess
) -> None:
    url = f"redis+cluster://127.0.0.1:{valkey_server.port}"

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert f"Redis at {url} is a standalone server, not a Cluster" in line
    assert "use redis://" in line


def test_the_right_password_works(
    capsys: pytest.CaptureFixture[str], protected_server: ServerProcess
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{protected_server.port}/0"

    result = run_cli(capsys, ["sessions", "ls", "--json", "--redis-url", url])

    assert result.code == 0, result.err
    assert result.json() == []


@pytest.mark.parametrize("command", ["show", "export", "rm"])
def test_a_key_of_another_type_is_refused_and_left_alone(store: Store, command: str) -> None:
    store.admin.set(store.key("stringy"), "someone else's data")

    result = store.cli("sessions", command, "stringy", *EXTRA_FLAGS[command])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert f"key '{store.key('stringy')}' holds a string, not a session list" in line
    assert store.admin.get(store.key("stringy")) == b"someone else's data"


@pytest.mark.parametrize("command", ["show", "export", "rm"])
def test_an_unknown_session_is_named(store: Store, command: str) -> None:
    result = store.cli("sessions", command, "nobody", *EXTRA_FLAGS[command])

    assert result.code == 2
    line = _one_line_error(result.err)
    assert "no session 'nobody'" in line
    assert "--key-prefix" in line


def test_an_unsupported_url_scheme_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["sessions", "ls", "--redis-url", "http://127.0.0.1:1/"])

    assert result.code == 2
    assert "unsupported Redis URL scheme 'http'" in _one_line_error(result.err)


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["sessions", "show"])

    assert result.code == 2
    assert "session_id" in result.err


def test_a_sentinel_managed_primary_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with SentinelGroup() as group:
        with group.primary.client() as admin:
            admin.rpush("openai_agents_session:via-sentinel", b'{"role":"user"}')
        result = run_cli(capsys, ["sessions", "ls", "--json", "--redis-url", group.url])

    assert result.code == 0, result.err
    assert [row["session_id"] for row in result.json()] == ["via-sentinel"]
    assert result.json()[0]["items"] == 1


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, ["sessions", "--help"])

    assert result.code == 0
    for command in ("ls", "show", "export", "rm", "stats"):
        assert command in result.out
