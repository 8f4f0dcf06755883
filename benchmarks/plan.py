"""How much to measure: the full run (≈6 minutes) and ``--quick`` (≈1 minute).

Batch sizes are chosen so one timed batch lasts tens of milliseconds (long enough
to dwarf timer and scheduling noise, short enough to interleave many rounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import Batch

__all__ = ["CONCURRENCIES", "Plan", "full_plan", "quick_plan"]

CONCURRENCIES = (1, 64)


@dataclass(frozen=True)
class Plan:
    mode: str
    rounds: int
    # Calls per worker for each operation name; concurrency c runs c workers.
    calls: dict[int, dict[str, int]]
    scaling_lengths: tuple[int, ...]
    scaling_calls: int
    scaling_rounds: int
    memory_items_written: int = 2000
    concurrencies: tuple[int, ...] = field(default=CONCURRENCIES)
    # Fewer rounds where one batch is long (64 full reads of 1,000 items).
    rounds_override: dict[tuple[str, int], int] = field(default_factory=dict)

    def batch(self, operation: str, concurrency: int) -> Batch:
        return Batch(workers=concurrency, calls=self.calls[concurrency][operation])

    def rounds_for(self, operation: str, concurrency: int) -> int:
        return self.rounds_override.get((operation, concurrency), self.rounds)


def full_plan() -> Plan:
    return Plan(
        mode="full",
        rounds=100,
        calls={
            1: {
                "add_items(1)": 100,
                "add_items(10)": 80,
                "get_items(limit=20)": 100,
                "get_items() of 1000": 5,
                "pop_item": 100,
                "clear_session": 40,
            },
            64: {
                "add_items(1)": 3,
                "add_items(10)": 2,
                "get_items(limit=20)": 3,
                "get_items() of 1000": 1,
                "pop_item": 3,
                "clear_session": 1,
            },
        },
        rounds_override={("get_items() of 1000", 64): 25},
        scaling_lengths=(10, 100, 1_000, 10_000, 100_000),
        scaling_calls=100,
        scaling_rounds=40,
    )


def quick_plan() -> Plan:
    return Plan(
        mode="quick",
        rounds=8,
        calls={
            1: {
                "add_items(1)": 40,
                "add_items(10)": 30,
                "get_items(limit=20)": 40,
                "get_items() of 1000": 2,
                "pop_item": 40,
                "clear_session": 30,
            },
            64: {
                "add_items(1)": 1,
                "add_items(10)": 1,
                "get_items(limit=20)": 1,
                "get_items() of 1000": 1,
                "pop_item": 1,
                "clear_session": 1,
            },
        },
        rounds_override={("get_items() of 1000", 64): 2},
        scaling_lengths=(10, 100, 10_000, 100_000),
        scaling_calls=40,
        scaling_rounds=5,
    )
