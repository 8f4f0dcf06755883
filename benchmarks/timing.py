"""Interleaved, repeated timing and the statistics every section reports.

A *lane* is one contender's timed batch: an async callable that runs a batch and
returns one figure (seconds or CPU seconds per call, per turn...). Every round runs
every lane once, in a freshly shuffled order, so the drifts of a shared machine
(other processes, CPU frequency, server state) hit all lanes alike; a warm-up round
is discarded. Comparisons are *paired*: computed round by round, then the median.
"""

from __future__ import annotations

import gc
import random
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

__all__ = ["Lane", "interleave", "paired_difference", "paired_ratio", "summary"]

Lane = Callable[[], Awaitable[float]]


async def interleave(
    lanes: Mapping[str, Lane], rounds: int, rng: random.Random
) -> dict[str, list[float]]:
    """One sample per lane and round, after one discarded warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in lanes}
    # Objects alive now live for the whole section: keep them out of the collector's
    # way, or one collection costs ~100 ms with the SDK's imports loaded.
    gc.collect()
    gc.freeze()
    for round_index in range(-1, rounds):
        order = list(lanes)
        rng.shuffle(order)
        for name in order:
            # A collection left over from the previous lane must not land in this one.
            gc.collect()
            value = await lanes[name]()
            if round_index >= 0:
                samples[name].append(value)
    return samples


def _quantile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median with the interquartile range."""
    return {
        "median": statistics.median(values),
        "p25": _quantile(values, 0.25),
        "p75": _quantile(values, 0.75),
        "n": len(values),
    }


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, Any]:
    """Round-by-round ``numerator / denominator``, summarised."""
    return summary([n / d for n, d in zip(numerator, denominator, strict=True)])


def paired_difference(minuend: Sequence[float], subtrahend: Sequence[float]) -> dict[str, Any]:
    """Round-by-round ``minuend - subtrahend``, summarised."""
    return summary([m - s for m, s in zip(minuend, subtrahend, strict=True)])
