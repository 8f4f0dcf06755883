"""Fixtures of the fault suite, and the results table it can write.

Every scenario records one :class:`~tests.reliability.kit.Row`. With
``OAS_RELIABILITY_REPORT=path.md`` set, the run writes those rows as the Markdown
table of RELIABILITY.md (and ``path.json`` next to it).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from prometheus_client import CollectorRegistry
from structlog.testing import LogCapture

from openai_agents_session import instrument
from support import ServerProcess
from support.proxy import FaultProxy

from .kit import Row

_rows: list[Row] = []

_COLUMNS = (
    ("fault", "Fault"),
    ("injected", "How it was injected"),
    ("operations", "Ops"),
    ("acknowledged", "Acked"),
    ("lost", "Lost"),
    ("duplicated", "Duplicated"),
    ("false_failures", "False failures"),
    ("keys_without_ttl", "Keys w/o TTL"),
    ("signal", "Signal that showed it"),
)


# Table order: the fault classes in the order RELIABILITY.md discusses them, then comparisons.
_SECTIONS = (
    "Connection",
    "Pops",
    "Durable writes",
    "Operation window",
    "ACL",
    "Cluster",
    "Server kill",
    "Sentinel",
    "Task cancellations",
    "Hostile",
    "Telemetry",
    "Limits",
    "Comparison",
)


def _section(row: Row) -> int:
    starts = [n for n, name in enumerate(_SECTIONS) if row.fault.startswith(name)]
    return starts[0] if starts else len(_SECTIONS)


@pytest.fixture
def record_row() -> Callable[[Row], None]:
    return _rows.append


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("OAS_RELIABILITY_REPORT")
    if not target or not _rows:
        return
    path = Path(target)
    lines = [
        "| " + " | ".join(title for _, title in _COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    for row in sorted(_rows, key=_section):
        values = row.as_dict()
        cells = [str(values[name]).replace("|", "\\|") for name, _ in _COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")
    rows = [row.as_dict() for row in sorted(_rows, key=_section)]
    path.with_suffix(".json").write_text(json.dumps(rows, indent=2))


@dataclass
class Telemetry:
    """A private registry and a log capture for one scenario."""

    registry: CollectorRegistry
    logs: LogCapture
    logger: Any

    def wrap(self, session: Any) -> Any:
        return instrument(session, registry=self.registry, logger=self.logger)


@pytest.fixture
def telemetry() -> Telemetry:
    logs = LogCapture()
    logger = structlog.wrap_logger(
        structlog.PrintLogger(),
        processors=[logs],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    return Telemetry(CollectorRegistry(), logs, logger)


@pytest.fixture
async def fault_proxy(valkey_server: ServerProcess) -> AsyncIterator[FaultProxy]:
    """A proxy in front of the suite's Valkey, with no faults yet."""
    async with FaultProxy(valkey_server.port) as proxy:
        yield proxy


@pytest.fixture
def aof_server() -> Iterator[ServerProcess]:
    """A Valkey that fsyncs every write to its append-only file before replying."""
    with ServerProcess(config={"appendonly": "yes", "appendfsync": "always"}) as server:
        yield server
