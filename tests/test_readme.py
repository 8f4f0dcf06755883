"""Every Python block of the README runs, against a real server, so the docs cannot rot.

Each block runs in its own interpreter: the examples set process-wide state (the
global tracer provider, structlog's configuration) the way an app would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openai_agents_session.testing import ServerProcess

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_is_a_complete_program(index: int) -> None:
    # A file cannot hold top-level await: this compiles the block as `python file.py` would.
    compile(BLOCKS[index], f"README block {index}", "exec")
    assert BLOCKS[index].rstrip().splitlines()[-1] in {"asyncio.run(main())", "provider.shutdown()"}
    assert "asyncio.run(main())" in BLOCKS[index]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_as_a_file_without_warnings(
    index: int, valkey_server: ServerProcess, tmp_path: Path
) -> None:
    example = tmp_path / f"example_{index}.py"
    example.write_text(BLOCKS[index].replace("redis://localhost:6379/0", valkey_server.url))
    # As a new user runs it: no API key, no OTLP endpoint; the hash key for session ids
    # set, as the Quickstart says (without one, a warning explains why to set it).
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "OPENAI_API_KEY" and not key.startswith("OTEL_")
    }
    env["OPENAI_AGENTS_SESSION_ID_KEY"] = "readme-example-key"

    done = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 0, f"block {index} failed:\n{BLOCKS[index]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), "every example prints what it did"
    output = done.stdout + done.stderr
    assert "OPENAI_API_KEY" not in output
    assert "Traceback" not in output
    assert "Warning" not in output, output[-2000:]


COMMANDS = [
    line[2:].split("  #")[0].split()
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.DOTALL)
    for line in block.splitlines()
    if line.startswith("$ openai-agents-session ")
]


def test_readme_has_cli_examples() -> None:
    assert len(COMMANDS) >= 4


def test_readme_cli_examples_run_in_order(valkey_server: ServerProcess, tmp_path: Path) -> None:
    """The operator examples, as written, against sessions named like the README's."""
    import asyncio

    from redis.asyncio import Redis

    from openai_agents_session import RedisSession

    names = {word for command in COMMANDS for word in command if word.startswith("demo-")}

    async def seed() -> None:
        client = Redis.from_url(valkey_server.url)
        for name in names | {"demo-other"}:
            session = RedisSession(name, client, ttl=600)
            await session.add_items([{"role": "user", "content": f"hi {n}"} for n in range(5)])
        await client.aclose()

    asyncio.run(seed())
    for command in COMMANDS:
        argv = [*command[1:], "--redis-url", valkey_server.url]
        if "rm" in argv:
            argv.append("--yes")
        done = subprocess.run(
            [sys.executable, "-m", "openai_agents_session.cli", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stderr[-2000:]}"
    assert (tmp_path / "user.jsonl").read_text().count("\n") == 5
