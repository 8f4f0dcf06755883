"""Turning raw samples into the machine-readable results: summaries and every ratio.

A ratio is ``contender time per call / reference time per call`` computed round by
round (paired samples) and summarised; below 1 the contender is faster. Throughput
ratios are the inverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contenders import FLOOR, SDK
from stats import paired_ratio, summary

__all__ = ["operation_entry", "scaling_entry"]


def _contender_entry(
    name: str, samples: Mapping[str, Sequence[float]], calls_per_batch: int
) -> dict[str, Any]:
    seconds = summary(samples[name])
    entry: dict[str, Any] = {
        "seconds_per_call": seconds,
        "calls_per_second": 1.0 / seconds["median"],
        "calls_per_batch": calls_per_batch,
    }
    for reference, label in ((FLOOR, "vs_floor"), (SDK, "vs_sdk")):
        if reference in samples:
            entry[label] = paired_ratio(samples[name], samples[reference])
    return entry


def operation_entry(
    operation: str, concurrency: int, calls_per_batch: int, samples: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    """Results of one operation at one concurrency, every contender with its ratios."""
    return {
        "operation": operation,
        "concurrency": concurrency,
        "contenders": {name: _contender_entry(name, samples, calls_per_batch) for name in samples},
    }


def scaling_entry(
    length: int, calls_per_batch: int, samples: Mapping[str, Sequence[float]]
) -> dict[str, Any]:
    """Limited reads on a session of ``length`` items."""
    return {
        "session_length": length,
        "contenders": {name: _contender_entry(name, samples, calls_per_batch) for name in samples},
    }
