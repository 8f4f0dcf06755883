"""Human output of the ``sessions`` commands, drawn with ``rich``.

``rich`` comes with the ``demo`` extra, so it is imported here, lazily: ``--json``
output and the library itself never need it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._redaction import escape_control
from ._errors import CliError, redact_url

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from ._keyspace import SessionSummary
    from ._session_detail import SessionDetail

__all__ = [
    "console",
    "safe_text",
    "format_bytes",
    "format_ttl",
    "item_table",
    "location",
    "print_json",
    "session_header",
    "sessions_table",
    "stats_tables",
]


def console(*, stderr: bool = False) -> Console:
    try:
        from rich.console import Console
    except ImportError as exc:
        raise CliError(
            "this command draws its output with 'rich', which is not installed; "
            "run: pip install 'openai-agents-session[cli]' (or use --json)"
        ) from exc
    return Console(stderr=stderr, highlight=False)


def safe_text(text: str, style: str = "") -> Text:
    """Data (session ids, keys, item kinds, content) as rich text with control bytes escaped.

    A ``Text`` is never parsed as markup, and escaping keeps terminal sequences
    stored by an application (``ESC[2J``, OSC 8 links) from acting on the terminal.
    """
    from rich.text import Text

    return Text(escape_control(text), style=style)


def print_json(value: Any) -> None:
    """One JSON document on one line of stdout (for ``jq`` and scripts)."""
    print(json.dumps(value, ensure_ascii=False, separators=(",", ":")), flush=True)


def format_ttl(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{seconds:.1f}s" if seconds < 10 else f"{secs}s"


def format_bytes(size: float | None) -> str:
    if size is None:
        return "n/a"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def location(redis_url: str, key_prefix: str) -> RenderableType:
    return safe_text(f"{redact_url(redis_url)} · prefix {key_prefix!r}", style="dim")


def sessions_table(summaries: Sequence[SessionSummary], title: str) -> RenderableType:
    from rich.table import Table

    # The title may quote an owner: text, never markup.
    table = Table(title=safe_text(title), title_justify="left")
    table.add_column("session id", overflow="fold")
    table.add_column("items", justify="right")
    table.add_column("ttl", justify="right")
    table.add_column("memory", justify="right")
    for summary in summaries:
        table.add_row(
            safe_text(summary.session_id),
            str(summary.items),
            format_ttl(summary.ttl_seconds),
            format_bytes(summary.memory_bytes),
        )
    return table


def session_header(detail: SessionDetail) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    corrupt = detail.corrupt_indexes
    rows = [
        ("session id", detail.session_id),
        ("key", detail.key),
        ("items", str(len(detail.items))),
        ("ttl", format_ttl(detail.ttl_seconds)),
        ("max age", _age_line(detail)),
        ("memory", format_bytes(detail.memory_bytes)),
        ("payload", format_bytes(detail.payload_bytes)),
        ("companion keys", ", ".join(detail.companions) or "none"),
    ]
    for name, value in rows:
        grid.add_row(name, safe_text(value))
    if corrupt:
        shown = ", ".join(str(i) for i in corrupt[:20]) + (" ..." if len(corrupt) > 20 else "")
        grid.add_row(
            "corrupt", Text(f"{len(corrupt)} item(s) are not JSON: index {shown}", style="red")
        )
    return grid


def _age_line(detail: SessionDetail) -> str:
    age = detail.age
    if age is None:
        return "none (no max_age)"
    removed_at = age.removed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"{format_ttl(age.age_seconds)} old; removed at the latest at {removed_at} "
        f"(in {format_ttl(age.remaining_seconds)})"
    )


def item_table(detail: SessionDetail, last: int, *, content: bool) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    shown = detail.items[-last:] if last > 0 else ()
    table = Table(title=f"last {len(shown)} of {len(detail.items)} items", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("bytes", justify="right")
    table.add_column("kind")
    if content:
        table.add_column("content", overflow="fold")
    for item in shown:
        style = "red" if item.corrupt else ""
        row = [Text(str(item.index)), Text(str(item.size)), safe_text(item.kind, style)]
        if content:
            row.append(safe_text(item.raw.decode("utf-8", "replace"), style))
        table.add_row(*row)
    return table


def stats_tables(stats: dict[str, Any], title: str) -> list[RenderableType]:
    from rich.table import Table

    totals = Table(title=title, title_justify="left")
    for column in ("sessions", "items", "memory", "without ttl"):
        totals.add_column(column, justify="right")
    totals.add_row(
        str(stats["sessions"]),
        str(stats["items"]),
        format_bytes(stats["memory_bytes"]),
        str(stats["without_ttl"]),
    )
    spread = Table(title="per session", title_justify="left")
    spread.add_column("")
    for column in ("p50", "p99", "max"):
        spread.add_column(column, justify="right")
    items = stats["items_per_session"]
    spread.add_row("items", *(str(items[q]) for q in ("p50", "p99", "max")))
    memory = stats["memory_bytes_per_session"]
    spread.add_row("memory", *(format_bytes(memory[q]) for q in ("p50", "p99", "max")))
    return [totals, spread]
