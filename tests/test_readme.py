"""Every example of the README runs, against a real server, so the docs cannot rot.

Each Python block runs as a file in its own interpreter (the examples set process-wide
state, such as the global tracer provider, the way an app would), inside a fresh
virtualenv that holds exactly what the README's Install section says the example needs:
an example that quietly relies on a development tool fails here.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support import ServerProcess

REPO = Path(__file__).resolve().parent.parent
README_TEXT = (REPO / "README.md").read_text()
LOCK = REPO / "requirements" / "constraints.txt"
DISTRIBUTION = "openai-agents-session"


def python_blocks_by_heading(text: str) -> list[tuple[str, str]]:
    """``(heading, code)`` for every ```python block, under the nearest heading above it."""
    blocks: list[tuple[str, str]] = []
    heading = ""
    for match in re.finditer(r"^(#{2,4}) ([^\n]+)$|^```python\n(.*?)^```", text, re.M | re.S):
        if match.group(2) is not None:
            heading = match.group(2).strip()
        else:
            blocks.append((heading, match.group(3)))
    return blocks


def install_table(text: str) -> dict[str, str]:
    """Install section: example heading -> the `pip install ...` command it needs."""
    section = text.split("What each example of this page needs:", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| \[(.+?)\]\(#[^)]*\) \| `(pip install [^`]+)` \|$", section, re.M)
    return dict(rows)


BLOCKS = python_blocks_by_heading(README_TEXT)
INSTALLS = install_table(README_TEXT)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 3


def test_every_example_says_what_it_needs_installed() -> None:
    headings = {heading for heading, _ in BLOCKS}

    assert headings <= set(INSTALLS), headings - set(INSTALLS)
    assert all(command.startswith("pip install ") for command in INSTALLS.values())


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_is_a_complete_program(index: int) -> None:
    # A file cannot hold top-level await: this compiles the block as `python file.py` would.
    code = BLOCKS[index][1]
    compile(code, f"README block {index}", "exec")
    assert code.rstrip().splitlines()[-1] in {"asyncio.run(main())", "provider.shutdown()"}
    assert "asyncio.run(main())" in code


def requirements_of(command: str, source: Path) -> list[str]:
    """The arguments of a README `pip install` line, ``source`` standing in for PyPI's."""
    requirements = []
    for word in shlex.split(command)[2:]:
        name, _, extras = word.partition("[")
        if name == DISTRIBUTION:
            word = f"{source}[{extras}" if extras else str(source)
        requirements.append(word)
    return requirements


def sdist_like_copy(target: Path) -> Path:
    """What a source distribution holds, copied: a build from it sees no leftovers of
    earlier builds in this checkout (setuptools reuses ./build)."""
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, target / name)
    shutil.copytree(
        REPO / "src", target / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
    )
    return target


@pytest.fixture(scope="module")
def venv_for(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """A fresh virtualenv per README install line, at the lock's versions; its bin dir."""
    made: dict[str, Path] = {}
    source = sdist_like_copy(tmp_path_factory.mktemp("source"))

    def make(command: str) -> Path:
        if command not in made:
            root = tmp_path_factory.mktemp("venv")
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(root)],
                check=True,
                timeout=120,
            )
            # This interpreter's pip installs into the new venv (pip --python), with the
            # versions `make test` locks and no build output left in the checkout.
            done = subprocess.run(
                [
                    *(sys.executable, "-m", "pip", "--python", str(root / "bin" / "python")),
                    *("install", "--quiet", "--no-warn-script-location"),
                    *("--constraint", str(LOCK), "--build-constraint", str(LOCK)),
                    *requirements_of(command, source),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=root,
            )
            assert done.returncode == 0, f"{command}:\n{done.stderr[-3000:]}"
            made[command] = root / "bin"
        return made[command]

    yield make


def example_environment(bin_dir: Path) -> dict[str, str]:
    """As a new user runs the examples: no API key, no OTLP endpoint, no PYTHONPATH, the
    example's virtualenv first on PATH, and the hash key the Quickstart tells to export."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "PYTHONPATH", "VIRTUAL_ENV"}
        and not key.startswith("OTEL_")
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["OPENAI_AGENTS_SESSION_ID_KEY"] = "readme-example-key"
    return env


class OtlpReceiver(ThreadingHTTPServer):
    """A tiny OTLP/HTTP metrics receiver: the names of every metric it was sent."""

    def __init__(self) -> None:
        self.metric_names: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
                    ExportMetricsServiceRequest,
                )

                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportMetricsServiceRequest.FromString(body)
                for resource in request.resource_metrics:
                    for scope in resource.scope_metrics:
                        receiver.metric_names.update(metric.name for metric in scope.metrics)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_with_its_install_and_no_warning(
    index: int,
    venv_for: Callable[[str], Path],
    valkey_server: ServerProcess,
    otlp_receiver: OtlpReceiver,
    tmp_path: Path,
) -> None:
    heading, code = BLOCKS[index]
    bin_dir = venv_for(INSTALLS[heading])
    example = tmp_path / f"example_{index}.py"
    example.write_text(code.replace("redis://localhost:6379/0", valkey_server.url))
    env = example_environment(bin_dir)
    exports = "OTLPMetricExporter" in code
    if exports:
        # Where an OTLP exporter reads its endpoint; the receiver stands in for a Collector.
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_receiver.endpoint

    done = subprocess.run(
        [str(bin_dir / "python"), str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )

    assert done.returncode == 0, f"{heading} example failed:\n{code}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), "every example prints what it did"
    output = done.stdout + done.stderr
    assert "OPENAI_API_KEY" not in output
    assert "Traceback" not in output
    assert "Warning" not in output, output[-2000:]
    if exports:
        assert "db.client.operation.duration" in otlp_receiver.metric_names


def test_the_installed_package_holds_no_test_helpers(venv_for: Callable[[str], Path]) -> None:
    bin_dir = venv_for(INSTALLS["Quickstart"])
    probe = "import importlib.util as u; print(u.find_spec('openai_agents_session.testing'))"

    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def test_doctor_runs_on_the_base_install_and_sessions_ls_names_the_cli_extra(
    venv_for: Callable[[str], Path], valkey_server: ServerProcess
) -> None:
    bin_dir = venv_for(INSTALLS["Quickstart"])
    cli = [str(bin_dir / "openai-agents-session")]
    env = example_environment(bin_dir)

    doctor = subprocess.run(
        [*cli, "doctor", "--redis-url", valkey_server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    listing = subprocess.run(
        [*cli, "sessions", "ls", "--redis-url", valkey_server.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )

    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert listing.returncode == 2
    assert "openai-agents-session[cli]" in listing.stderr
    assert "Traceback" not in listing.stderr


COMMANDS = [
    line[2:].split("  #")[0].split()
    for block in re.findall(r"```console\n(.*?)```", README_TEXT, flags=re.DOTALL)
    for line in block.splitlines()
    if line.startswith("$ openai-agents-session ")
]


def test_readme_has_cli_examples() -> None:
    assert len(COMMANDS) >= 4


def test_readme_cli_examples_run_in_order_with_the_cli_install(
    venv_for: Callable[[str], Path], valkey_server: ServerProcess, tmp_path: Path
) -> None:
    """The operator examples, as written, with the install the README gives the CLI."""
    from redis.asyncio import Redis

    from openai_agents_session import RedisSession

    cli_install = next(command for heading, command in INSTALLS.items() if "CLI" in heading)
    bin_dir = venv_for(cli_install)
    names = {word for command in COMMANDS for word in command if word.startswith("demo-")}

    async def seed() -> None:
        client = Redis.from_url(valkey_server.url)
        for name in names | {"demo-other"}:
            session = RedisSession(name, client, ttl=600)
            await session.add_items([{"role": "user", "content": f"hi {n}"} for n in range(5)])
        await client.aclose()

    asyncio.run(seed())
    for command in COMMANDS:
        if command[1] == "demo":
            continue  # the demo's own install is tested by tests/cli/test_demo_install.py
        argv = [*command[1:], "--redis-url", valkey_server.url]
        if "rm" in argv:
            argv.append("--yes")
        done = subprocess.run(
            [str(bin_dir / "openai-agents-session"), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env=example_environment(bin_dir),
        )
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stderr[-2000:]}"
        assert "Warning" not in done.stdout + done.stderr
    assert (tmp_path / "user.jsonl").read_text().count("\n") == 5


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_compatibility_table_names_the_locked_versions() -> None:
    """The README's "tested by make test" column is the lock's, so neither drifts alone."""
    rows = dict(re.findall(r"^\| ([a-z][\w.-]+) \| ≥ [^|]+ \| ([\d.]+) \|", README_TEXT, re.M))
    pins = locked_versions()

    assert set(rows) >= {"redis-py", "openai-agents", "opentelemetry-api", "structlog"}
    for name, version in rows.items():
        assert pins[name.removesuffix("-py")] == version, name


def test_the_lock_pins_exact_versions_of_everything_make_test_installs() -> None:
    pins = locked_versions()

    for tool in ("pip", "setuptools", "wheel", "ruff", "mypy", "pytest", "redis", "openai-agents"):
        assert tool in pins, tool
    assert all(re.fullmatch(r"[\w.!+]+", version) for version in pins.values())
