"""``openai-agents-session sessions ls|show|export|rm|stats``: look into the store.

For operators: what sessions exist, how big they are, when they expire, and a
user's data out (``export``) and gone (``rm``) for privacy requests. Session ids
are printed (that is the point of the tool) but never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

from . import _render
from ._errors import EXIT_DECLINED, redact_url
from ._keyspace import Keyspace, SessionSummary
from ._session_detail import SessionDetail, count_items, delete_session, load_session

__all__ = ["add_sessions_parser"]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_KEY_PREFIX = "openai_agents_session"
# Below this many keys a listing finishes before a progress bar would be readable.
PROGRESS_THRESHOLD_KEYS = 20_000


def add_sessions_parser(commands: argparse._SubParsersAction[Any]) -> None:
    sessions = commands.add_parser("sessions", help="list, inspect, export and delete sessions")
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--redis-url",
        metavar="URL",
        default=os.environ.get("OPENAI_AGENTS_SESSION_REDIS_URL", DEFAULT_REDIS_URL),
        help="redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://host:port/"
        "service (default: $OPENAI_AGENTS_SESSION_REDIS_URL or %(default)s)",
    )
    target.add_argument(
        "--key-prefix", default=DEFAULT_KEY_PREFIX, metavar="PREFIX", help="(%(default)s)"
    )

    ls = actions.add_parser("ls", parents=[target], help="sessions with items, TTL and memory")
    ls.add_argument(
        "--match", default="*", metavar="GLOB", help="glob on the session id (default: *)"
    )
    ls.add_argument("--sort", choices=("id", "items", "ttl", "memory"), default="id")
    ls.add_argument("--desc", action="store_true", help="largest first")
    ls.add_argument("--min-items", type=int, default=0, metavar="N")
    ls.add_argument("--limit", type=int, default=None, metavar="N", help="show only N rows")
    ls.add_argument("--json", action="store_true", help="a JSON array on stdout")
    ls.set_defaults(command=_ls)

    show = actions.add_parser("show", parents=[target], help="one session: size, TTL, items")
    show.add_argument("session_id")
    show.add_argument("--last", type=int, default=10, metavar="N", help="items to list (10)")
    show.add_argument("--content", action="store_true", help="also print the items' content")
    show.add_argument("--json", action="store_true")
    show.set_defaults(command=_show)

    export = actions.add_parser("export", parents=[target], help="a session's items as JSON lines")
    export.add_argument("session_id")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    export.add_argument(
        "--include-corrupt",
        action="store_true",
        help='export items that are not JSON as {"corrupt_item": "<text>"} (default: skip)',
    )
    export.set_defaults(command=_export)

    rm = actions.add_parser("rm", parents=[target], help="delete a session (asks first)")
    rm.add_argument("session_id")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask (for scripts)")
    rm.add_argument("--json", action="store_true")
    rm.set_defaults(command=_rm)

    stats = actions.add_parser("stats", parents=[target], help="totals and size distribution")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(command=_stats)


@asynccontextmanager
async def _keyspace(args: argparse.Namespace) -> AsyncIterator[Keyspace]:
    keyspace = Keyspace.connect(args.redis_url, args.key_prefix)
    try:
        yield keyspace
    finally:
        await keyspace.aclose()


async def _collect(keyspace: Keyspace, session_glob: str, *, quiet: bool) -> list[SessionSummary]:
    """Every session matching ``session_glob``, with a progress bar on big keyspaces."""
    await keyspace.ping()
    show_progress = not quiet and sys.stderr.isatty()
    total = await keyspace.estimated_keys() if show_progress else 0
    if total < PROGRESS_THRESHOLD_KEYS:
        found: list[SessionSummary] = []
        async for batch in keyspace.scan(session_glob):
            found.extend(await keyspace.describe(batch))
        return found
    from rich.progress import Progress

    with Progress(console=_render.console(stderr=True), transient=True) as progress:
        # SCAN cannot say how far along it is: a pulsing bar and a running count.
        task = progress.add_task(f"scanning {total} keys", total=None)
        found = []
        async for batch in keyspace.scan(session_glob):
            found.extend(await keyspace.describe(batch))
            progress.update(task, description=f"scanning {total} keys: {len(found)} sessions")
        return found


_SORT_KEYS: dict[str, Callable[[SessionSummary], Any]] = {
    "id": lambda s: s.session_id,
    "items": lambda s: (s.items, s.session_id),
    "ttl": lambda s: (math.inf if s.ttl_seconds is None else s.ttl_seconds, s.session_id),
    "memory": lambda s: (s.memory_bytes or 0, s.session_id),
}


async def _ls(args: argparse.Namespace) -> int:
    async with _keyspace(args) as keyspace:
        found = await _collect(keyspace, args.match, quiet=args.json)
    chosen = [s for s in found if s.items >= args.min_items]
    chosen.sort(key=_SORT_KEYS[args.sort], reverse=args.desc)
    if args.limit is not None:
        chosen = chosen[: max(args.limit, 0)]
    if args.json:
        _render.print_json([s.as_json() for s in chosen])
        return 0
    out = _render.console()
    out.print(_render.location(args.redis_url, args.key_prefix))
    if not chosen:
        out.print(f"no sessions match {args.match!r}")
        return 0
    shown = f"{len(chosen)} of {len(found)}" if len(chosen) < len(found) else str(len(found))
    out.print(_render.sessions_table(chosen, f"{shown} sessions"))
    return 0


async def _show(args: argparse.Namespace) -> int:
    detail = await _load(args)
    if args.json:
        shown = detail.items[-args.last :] if args.last > 0 else ()
        _render.print_json(
            {
                "session_id": detail.session_id,
                "key": detail.key,
                "items": len(detail.items),
                "ttl_seconds": detail.ttl_seconds,
                "memory_bytes": detail.memory_bytes,
                "payload_bytes": detail.payload_bytes,
                "companion_keys": list(detail.companions),
                "corrupt_indexes": detail.corrupt_indexes,
                "last_items": [item.as_json(content=args.content) for item in shown],
            }
        )
        return 0
    out = _render.console()
    out.print(_render.session_header(detail))
    out.print(_render.item_table(detail, args.last, content=args.content))
    if not args.content:
        out.print("content hidden; add --content to print it", style="dim")
    return 0


async def _load(args: argparse.Namespace) -> SessionDetail:
    async with _keyspace(args) as keyspace:
        return await load_session(keyspace, args.session_id)


def _export(args: argparse.Namespace) -> int:
    detail = asyncio.run(_load(args))
    lines = [
        item.export_line() for item in detail.items if args.include_corrupt or not item.corrupt
    ]
    if args.output:
        with open(args.output, "w", encoding="utf-8") as file:
            _write_lines(file, lines)
        where = args.output
    else:
        _write_lines(sys.stdout, lines)
        where = "stdout"
    skipped = len(detail.items) - len(lines)
    note = f"; skipped {skipped} corrupt item(s) (--include-corrupt keeps them)" if skipped else ""
    print(f"exported {len(lines)} item(s) of {args.session_id!r} to {where}{note}", file=sys.stderr)
    return 0


def _write_lines(file: TextIO, lines: Sequence[str]) -> None:
    for line in lines:
        file.write(line + "\n")
    file.flush()


async def _rm(args: argparse.Namespace) -> int:
    async with _keyspace(args) as keyspace:
        items = await count_items(keyspace, args.session_id)
        if not args.yes and not _confirm(
            f"delete session {args.session_id!r} ({items} items) from "
            f"{redact_url(args.redis_url)}? This cannot be undone. [y/N] "
        ):
            print("nothing deleted", file=sys.stderr)
            return EXIT_DECLINED
        removed = await delete_session(keyspace, args.session_id)
    if args.json:
        _render.print_json({"session_id": args.session_id, "deleted": True, "items": items})
    else:
        print(f"deleted session {args.session_id!r}: {items} items, {removed} key(s)")
    return 0


def _confirm(question: str) -> bool:
    print(question, end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
        echoed = sys.stdin.isatty()
    except (OSError, ValueError):  # stdin closed or detached
        answer, echoed = "", False
    if not echoed:
        print(file=sys.stderr)  # end the question's line, as a typed answer would
    return answer.strip().lower() in ("y", "yes")


def _percentiles(values: Sequence[int]) -> dict[str, int]:
    if not values:
        return {"p50": 0, "p99": 0, "max": 0}
    ordered = sorted(values)

    def rank(q: float) -> int:
        return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]

    return {"p50": rank(0.5), "p99": rank(0.99), "max": ordered[-1]}


async def _stats(args: argparse.Namespace) -> int:
    async with _keyspace(args) as keyspace:
        found = await _collect(keyspace, "*", quiet=args.json)
    memory = [s.memory_bytes for s in found if s.memory_bytes is not None]
    stats = {
        "sessions": len(found),
        "items": sum(s.items for s in found),
        "memory_bytes": sum(memory) if memory or not found else None,
        "without_ttl": sum(1 for s in found if s.ttl_seconds is None),
        "items_per_session": _percentiles([s.items for s in found]),
        "memory_bytes_per_session": _percentiles(memory),
    }
    if args.json:
        _render.print_json(stats)
        return 0
    out = _render.console()
    out.print(_render.location(args.redis_url, args.key_prefix))
    for table in _render.stats_tables(stats, "totals"):
        out.print(table)
    return 0
