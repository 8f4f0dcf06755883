"""`make demo` installs the library and the demo extra only; the demo needs nothing more."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]

# Runs the demo in a fresh interpreter and prints the distributions it imported
# (leaving out what the interpreter loads by itself, such as setuptools' .pth hook).
# Each module is traced to the distribution that installed its file: several
# distributions share a namespace package's top-level name (opentelemetry), so
# the name alone would count every installed one.
PROBE = """
import importlib.metadata as metadata, json, os, sys
before = set(sys.modules)
from openai_agents_session.cli import main
code = main(["demo", "--sessions", "2", "--turns", "1", "--model-delay", "0",
             "--metrics-port", "0", "--json"])
installed_by = {
    os.path.realpath(dist.locate_file(path)): dist.metadata["Name"]
    for dist in metadata.distributions()
    for path in dist.files or ()
}
used = set()
for name in set(sys.modules) - before:
    path = getattr(sys.modules[name], "__file__", None)
    if path and os.path.realpath(path) in installed_by:
        used.add(installed_by[os.path.realpath(path)])
print(json.dumps({"code": code, "used": sorted(used)}), file=sys.stderr)
"""


def requirement_closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """``name`` and every installed distribution it requires, with ``extras``, transitively."""
    found: set[str] = set()
    pending = [(name, extras)]
    while pending:
        current, wanted = pending.pop()
        key = canonicalize_name(current)
        try:
            requires = metadata.requires(current) or []
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python version
        if key in found and not wanted:
            continue
        found.add(key)
        for text in requires:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in (*wanted, "")]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return found


def test_the_demo_imports_nothing_outside_the_demo_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    allowed = requirement_closure("openai-agents-session", frozenset({"demo"}))

    # redis-py imports its optional parser on its own whenever it is installed (the
    # benchmarks' extra installs it); the demo does not need it.
    allowed.add("hiredis")

    assert report["code"] == 0, done.stderr[-2000:]
    assert {canonicalize_name(d) for d in report["used"]} - allowed == set()


def test_the_demo_extra_holds_no_development_tools() -> None:
    demo = requirement_closure("openai-agents-session", frozenset({"demo"}))

    for tool in ("pytest", "hypothesis", "ruff", "mypy", "grafana-foundation-sdk"):
        assert tool not in demo


def test_make_demo_installs_only_the_demo_extra() -> None:
    planned = subprocess.run(
        ["make", "-n", "-B", "demo"], capture_output=True, text=True, timeout=60, cwd=REPO
    ).stdout

    assert "-e '.[demo]'" in planned
    assert ".[dev]" not in planned
    assert "openai-agents-session demo" in planned
