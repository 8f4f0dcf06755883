"""Shared bookkeeping of the fault suite: what was sent, acknowledged, stored.

A writer sends numbered batches of items ``{"w": writer, "b": batch, "p": part}``.
The :class:`Ledger` remembers which batches were acknowledged and which raised;
:func:`audit` compares that with what the server holds afterwards.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import redis
from prometheus_client import CollectorRegistry

# `make soak` runs the same suite with every count multiplied by this.
SCALE = max(1, int(os.environ.get("OAS_RELIABILITY_SCALE", "1")))

METRIC = "openai_agents_session_"


def batch(writer: int | str, number: int, parts: int) -> list[dict[str, Any]]:
    return [{"w": writer, "b": number, "p": part} for part in range(parts)]


@dataclass
class Ledger:
    """Per writer: batches acknowledged (in order) and batches whose call raised."""

    parts: int
    acknowledged: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(list))
    raised: dict[Any, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)

    def ack(self, writer: Any, number: int) -> None:
        self.acknowledged[writer].append(number)

    def fail(self, writer: Any, number: int, error: BaseException) -> None:
        self.raised[writer].append(number)
        self.errors[type(error).__name__] += 1

    @property
    def operations(self) -> int:
        return self.acked + sum(len(v) for v in self.raised.values())

    @property
    def acked(self) -> int:
        return sum(len(v) for v in self.acknowledged.values())


@dataclass
class Audit:
    """What the server holds, judged against a :class:`Ledger` (counts in batches)."""

    acknowledged: int = 0
    raised: int = 0
    lost: int = 0  # acknowledged, not stored
    duplicated: int = 0  # stored more than once
    partial: int = 0  # stored with parts missing
    false_failures: int = 0  # raised, yet stored
    out_of_order: int = 0  # writers whose acknowledged batches are not in send order

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.partial or self.out_of_order)


def audit(ledger: Ledger, stored: Iterable[dict[str, Any]]) -> Audit:
    """Compare the stored items (in list order) with what the ledger says was sent."""
    result = Audit(acknowledged=ledger.acked, raised=ledger.operations - ledger.acked)
    parts: dict[tuple[Any, int], Counter[int]] = defaultdict(Counter)
    order: dict[Any, list[int]] = defaultdict(list)
    for item in stored:
        key = (item["w"], item["b"])
        if not parts[key]:
            order[item["w"]].append(item["b"])
        parts[key][item["p"]] += 1
    for counts in parts.values():
        if any(n > 1 for n in counts.values()):
            result.duplicated += 1
        if len(counts) != ledger.parts:
            result.partial += 1
    for writer, numbers in ledger.acknowledged.items():
        result.lost += sum(1 for n in numbers if (writer, n) not in parts)
        acknowledged = set(numbers)
        seen = [n for n in order[writer] if n in acknowledged]
        if seen != sorted(seen):
            result.out_of_order += 1
    for writer, numbers in ledger.raised.items():
        result.false_failures += sum(1 for n in numbers if (writer, n) in parts)
    return result


def stored_items(client: redis.Redis, key: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in client.lrange(key, 0, -1)]


def keys_without_ttl(client: redis.Redis, match: str = "*") -> list[bytes]:
    """Keys matching ``match`` that would never expire."""
    return [key for key in client.scan_iter(match=match, count=1000) if client.pttl(key) == -1]


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(METRIC + name, labels)
    return 0.0 if value is None else value


def metric_total(registry: CollectorRegistry, name: str) -> float:
    """Sum of every sample of a counter, across its labels."""
    total = 0.0
    for family in registry.collect():
        for s in family.samples:
            if s.name == METRIC + name:
                total += s.value
    return total


def error_counts(registry: CollectorRegistry) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for family in registry.collect():
        for s in family.samples:
            if s.name == METRIC + "errors_total" and s.value:
                counts[s.labels["error_type"]] += int(s.value)
    return dict(counts)


def log_events(captured: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(entry["event"]) for entry in captured))


@dataclass
class Row:
    """One line of the RELIABILITY.md table."""

    fault: str
    injected: str
    operations: int
    acknowledged: int
    lost: int | str
    duplicated: int | str
    false_failures: int | str
    keys_without_ttl: int | str
    signal: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def signal_text(
    registry: CollectorRegistry | None,
    captured: Sequence[Mapping[str, Any]] = (),
    *,
    extra: str = "",
) -> str:
    """The metrics and log events that showed a fault, compactly."""
    parts: list[str] = []
    if registry is not None:
        duplicates = int(metric_total(registry, "duplicate_batches_total"))
        if duplicates:
            parts.append(f"`duplicate_batches_total` {duplicates}")
        for error_type, count in sorted(error_counts(registry).items()):
            parts.append(f'`errors_total{{error_type="{error_type}"}}` {count}')
        telemetry = int(metric_total(registry, "telemetry_errors_total"))
        if telemetry:
            parts.append(f"`telemetry_errors_total` {telemetry}")
    for event, count in sorted(log_events(captured).items()):
        if event != "session.operation":
            parts.append(f"log `{event}` x{count}")
    if extra:
        parts.append(extra)
    return "; ".join(parts) or "none: absorbed by the client's retry"
