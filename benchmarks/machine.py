"""What a result was measured on: machine, load, software versions and date."""

from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["describe_machine", "describe_run", "describe_versions"]


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


def describe_run(results: dict[str, Any]) -> list[str]:
    """The report's title and the lines saying what the run was measured on."""
    meta = results["meta"]
    machine, versions = meta["machine"], meta["versions"]
    libraries = ", ".join(
        f"{name} {versions[name]}"
        for name in (
            "openai-agents-session",
            "openai-agents",
            "opentelemetry-sdk",
            "prometheus-client",
            "structlog",
        )
        if versions.get(name)
    )
    return [
        "# Benchmark results",
        "",
        f"Measured {machine['date_utc']} by `{meta['command']}` ({meta['mode']} mode, "
        f"{meta['wall_seconds']:.0f} s). How to read and reproduce them: "
        f"[README.md]({meta['readme']}).",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['os']}; load average (1, 5, 15 min) {machine['load_average_at_start']} at "
        f"start, {machine['load_average_at_end']} at the end (the machine is shared).",
        f"- Server: {versions['server']} on loopback, started by the run; client redis-py "
        f"{versions['redis']} speaking RESP{meta['resp']} (hiredis "
        f"{versions.get('hiredis') or 'not installed'}), "
        f"Python {versions['python']}.",
        f"- Libraries: {libraries}.",
        f"- Items: SDK-shaped message dicts (user, tool call, tool output, assistant), "
        f"{meta['item_mean_bytes']:.0f} bytes of compact JSON on average.",
        "- Each round runs every contender once, in a new random order; figures are the "
        "median [interquartile range] over rounds; ratios and differences are paired "
        "(round by round), then the median.",
        "",
    ]
