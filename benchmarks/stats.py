"""Medians, spreads and paired ratios of per-round samples."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["paired_ratio", "summary"]


def _quantile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median with the interquartile range and the extremes, plus the samples."""
    return {
        "median": statistics.median(values),
        "p25": _quantile(values, 0.25),
        "p75": _quantile(values, 0.75),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "samples": list(values),
    }


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, Any]:
    """Round-by-round ratios (same round = same machine conditions), summarised."""
    ratios = [n / d for n, d in zip(numerator, denominator, strict=True)]
    result = summary(ratios)
    del result["samples"]
    return result
