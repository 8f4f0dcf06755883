"""Paths and loaders shared by the operations-kit tests.

The dashboard builder and the deploy generator are scripts, not package modules;
these load them by path so the tests check exactly what users run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards"
DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "rules"
RULE_TESTS = DEPLOY / "prometheus" / "tests"
RUNBOOK = DEPLOY / "RUNBOOK.md"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@cache
def dashboard_builder() -> ModuleType:
    """``dashboards/build.py``."""
    return _load(DASHBOARDS / "build.py", "ops_kit_dashboard_build")


@cache
def deploy_generator() -> ModuleType:
    """``deploy/generate.py`` (its ``session_rules`` module comes along)."""
    return _load(DEPLOY / "generate.py", "ops_kit_deploy_generate")


def committed_dashboards() -> dict[str, Any]:
    import json

    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS.glob("*.json")}


def rule_groups(directory: Path = RULES) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.rules.yml")):
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def all_rules(directory: Path = RULES) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(directory) for rule in group["rules"]]


def all_rules_of(path: Path) -> list[dict[str, Any]]:
    """The rules of one rule file."""
    groups = yaml.safe_load(path.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def binary(name: str) -> str:
    """A system binary from Debian's prometheus package (``make system-deps``).

    Required in CI; skipped elsewhere when missing, like the Redis 7.0 backend.
    """
    found = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if found is None:
        message = f"{name} not found: run `make system-deps` (Debian package prometheus)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
