"""What the demo draws: the live operations table, one conversation's span tree,
the summary, and where to go next."""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from . import _render
from ._errors import redact_url
from ._metrics_snapshot import OPERATIONS, MetricsSnapshot, take_snapshot

__all__ = [
    "DemoResult",
    "next_steps",
    "operations_table",
    "report",
    "say",
    "span_tree",
    "totals_table",
]

_FACT = "openai_agents_session."
# A long conversation would print hundreds of lines; the first turns tell the story.
_MAX_CHILDREN = 6


def _facts(attributes: Any) -> str:
    """The storage facts of a span in a few characters: ``items=4 length=10 ttl↻``."""
    if not attributes:
        return ""
    facts = []
    for key in ("items", "session_length"):
        if _FACT + key in attributes:
            facts.append(f"{key.replace('session_', '')}={attributes[_FACT + key]}")
    if attributes.get(_FACT + "trimmed"):
        facts.append(f"trimmed={attributes[_FACT + 'trimmed']}")
    if attributes.get(_FACT + "ttl_refreshed"):
        facts.append("ttl↻")
    if _FACT + "error_type" in attributes:
        facts.append(f"error={attributes[_FACT + 'error_type']}")
    return " ".join(facts)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f} ms"


def operations_table(snapshot: MetricsSnapshot, title: str = "storage operations") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("operation")
    for column in ("ops", "p50", "p99", "items", "errors"):
        table.add_column(column, justify="right")
    for name in OPERATIONS:
        stats = snapshot.operations.get(name)
        if stats is None or stats.count == 0:
            continue
        table.add_row(
            name,
            str(stats.count),
            _ms(stats.p50_seconds),
            _ms(stats.p99_seconds),
            str(stats.items),
            Text(str(stats.errors), style="red" if stats.errors else ""),
        )
    return table


def totals_table(snapshot: MetricsSnapshot, elapsed: float, failed_conversations: int) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    rate = snapshot.total_operations / elapsed if elapsed > 0 else 0.0
    rows = [
        ("storage operations", f"{snapshot.total_operations} ({rate:.0f}/s)"),
        ("items written", str(snapshot.items_written)),
        ("items read", str(snapshot.items_read)),
        ("ttl refreshes", str(snapshot.ttl_refreshes)),
        ("items trimmed (max_items)", str(snapshot.trimmed_items)),
        ("slow operations", str(snapshot.slow_operations)),
        ("storage errors", str(snapshot.errors)),
        ("failed conversations", str(failed_conversations)),
    ]
    for name, value in rows:
        grid.add_row(name, value)
    return grid


def _label(span: Any) -> Text:
    duration = ((span.end_time or span.start_time) - span.start_time) / 1e9
    label = Text(span.name, style="bold" if span.parent is None else "")
    label.append(f"  {duration * 1000:.2f} ms", style="cyan")
    facts = _facts(span.attributes)
    if facts:
        label.append("  " + facts, style="dim")
    return label


def span_tree(spans: Sequence[Any], trace_id: int) -> RenderableType:
    """The spans of ``trace_id`` as a tree, children in start order."""
    mine = [s for s in spans if s.context.trace_id == trace_id]
    ids = {s.context.span_id for s in mine}
    children: dict[int | None, list[Any]] = defaultdict(list)
    for span in mine:
        parent = span.parent.span_id if span.parent is not None else None
        children[parent if parent in ids else None].append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_time)
    roots = children[None]
    if not roots:
        return Text("no spans recorded for this conversation", style="dim")
    tree = Tree(Text(f"trace {trace_id:032x}", style="dim"))

    def grow(node: Tree, span: Any) -> None:
        branch = node.add(_label(span))
        kids = children.get(span.context.span_id, [])
        for child in kids[:_MAX_CHILDREN]:
            grow(branch, child)
        if len(kids) > _MAX_CHILDREN:
            branch.add(Text(f"... {len(kids) - _MAX_CHILDREN} more", style="dim"))

    for root in roots:
        grow(tree, root)
    return tree


def next_steps(
    metrics_url: str, metrics_port: int, redis_url: str | None, keep_running: bool
) -> RenderableType:
    """How to keep looking: scrape, rules, dashboard, the compose stack, the CLI."""
    steps = Table.grid(padding=(0, 2))
    steps.add_column(style="bold")
    steps.add_column(overflow="fold")
    up = "" if keep_running else "  (rerun with --keep-running to keep it up)"
    steps.add_row("metrics", Text(f"{metrics_url}{up}"))
    steps.add_row(
        "Prometheus",
        Text(
            "scrape_configs: [{job_name: agents-demo, static_configs: "
            f'[{{targets: ["localhost:{metrics_port}"]}}]}}]'
        ),
    )
    for name, path, text in _SHIPPED:
        if Path(path).exists():
            steps.add_row(name, Text(text))
    if redis_url is not None:
        command = f"openai-agents-session sessions ls --redis-url {redact_url(redis_url)}"
        steps.add_row("sessions", Text(command))
    return Group(Text("Where to look next", style="bold underline"), steps)


# Shown when this is a checkout of the repository (the files exist under the cwd).
_SHIPPED = (
    (
        "rules",
        "deploy/prometheus/rules",
        "rule_files: [deploy/prometheus/rules/*.rules.yml]  (alerts and recording rules)",
    ),
    (
        "Grafana",
        "dashboards/openai-agents-session.json",
        "import dashboards/openai-agents-session.json, data source: that Prometheus",
    ),
    (
        "full stack",
        "deploy/compose/compose.yaml",
        "docker compose -f deploy/compose/compose.yaml up --build  "
        "(Grafana :3000, Prometheus :9090, Tempo)",
    ),
    ("alerts", "deploy/RUNBOOK.md", "what each alert means and what to do: deploy/RUNBOOK.md"),
)


@dataclass
class DemoResult:
    """What the conversations produced: how long, which trace to show, what failed."""

    elapsed: float
    trace_id: str | None
    failures: list[BaseException] = field(default_factory=list)


def report(
    args: argparse.Namespace,
    out: Any,
    telemetry: Any,
    result: DemoResult,
    metrics: Any,
    redis_url: str,
) -> None:
    """The end of the demo: one conversation's span tree, the numbers, where to look next;
    with ``--json`` also the summary as the last line of stdout."""
    snapshot = take_snapshot(telemetry.registry)
    if result.failures:
        first = result.failures[0]
        say(
            out,
            f"{len(result.failures)} conversation(s) failed; first: "
            f"{type(first).__name__}: {str(first)[:300]}",
            style="red",
        )
    if result.trace_id is not None:
        out.rule("one conversation, as traced")
        out.print(span_tree(telemetry.finished_spans(), int(result.trace_id, 16)))
    out.rule(f"summary: {args.sessions} conversations x {args.turns} turns")
    out.print(operations_table(snapshot, title="latency per operation (from the histogram)"))
    out.print(totals_table(snapshot, result.elapsed, len(result.failures)))
    shown_url = None if args.redis_url is None and not args.keep_running else redis_url
    out.print(next_steps(metrics.url, metrics.port, shown_url, args.keep_running), soft_wrap=True)
    if args.json:
        summary = snapshot.as_json()
        summary.update(
            sessions=args.sessions,
            turns=args.turns,
            failed_conversations=len(result.failures),
            trace_id=result.trace_id,
            agent_spans=telemetry.agents_bridge,
            elapsed_seconds=round(result.elapsed, 3),
            metrics_url=metrics.url,
        )
        _render.print_json(summary)


def say(out: Any, message: str, style: str = "") -> None:
    """One status line, never re-wrapped (URLs stay copyable) nor read as markup."""
    out.print(Text(message, style=style), soft_wrap=True)
