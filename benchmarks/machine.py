"""What a result was measured on: machine, load, software versions and date."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "describe_versions"]

_PACKAGES = (
    "openai-agents-session",
    "openai-agents",
    "redis",
    "hiredis",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "prometheus-client",
    "structlog",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe_machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_now": [round(value, 2) for value in load] if load else None,
    }


def describe_versions(server_info: dict[str, Any]) -> dict[str, Any]:
    versions: dict[str, Any] = {"python": platform.python_version()}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    name = "valkey" if "valkey_version" in server_info else "redis"
    versions["server"] = (
        f"{name} {server_info.get(f'{name}_version', server_info.get('redis_version'))}"
    )
    return versions
