"""Markdown helpers shared by the report's modules: tables and number formats."""

from __future__ import annotations

from typing import Any

__all__ = ["DASH", "TIMES", "num", "percent", "ratio", "spread", "table"]

TIMES = "\N{MULTIPLICATION SIGN}"
DASH = "\N{EN DASH}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, first column left-aligned, the others right-aligned."""
    rule = [":--" if index == 0 else "--:" for index in range(len(header))]
    return [_row(header), _row(rule), *(_row(row) for row in rows), ""]


def num(value: float) -> str:
    """Three significant figures or so, thousands separated."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def spread(s: dict[str, Any]) -> str:
    """Median [interquartile range]."""
    return f"{num(s['median'])} [{num(s['p25'])}{DASH}{num(s['p75'])}]"


def ratio(s: dict[str, Any] | None) -> str:
    return DASH if s is None else f"{s['median']:.2f}{TIMES}"


def percent(s: dict[str, Any] | None) -> str:
    return DASH if s is None else f"{(s['median'] - 1) * 100:+.1f} %"
