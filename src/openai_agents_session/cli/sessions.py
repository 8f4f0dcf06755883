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
from ._connection import open_keyspace
from ._errors import CliError, operator_line, redact_url
from ._keyspace import Keyspace, SessionSummary
from ._nesting import nested_prefix_note
from ._owners import OWNER_HELP, check_owner, export_owner, no_sessions_note, owner_sessions
from ._remove import add_rm_parser, check_rm_arguments, remove_sessions
from ._session_detail import SessionDetail, load_session

__all__ = ["add_sessions_parser"]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_KEY_PREFIX = "openai_agents_session"
# Below this many keys a listing finishes before a progress bar would be readable.
PROGRESS_THRESHOLD_KEYS = 20_000
# Rows of the human `ls` table unless --limit or --all: a screenful, not 3,000 lines.
# --json lists everything (scripts want all of it).
DEFAULT_PAGE_ROWS = 50


def add_sessions_parser(commands: argparse._SubParsersAction[Any]) -> None:
    sessions = commands.add_parser("sessions", help="list, inspect, export and delete sessions")
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    target = argparse.ArgumentParser(add_help=False)
    default_url = os.environ.get("OPENAI_AGENTS_SESSION_REDIS_URL", DEFAULT_REDIS_URL)
    # The default may come from the environment with a password: --help shows it masked.
    shown_default = redact_url(default_url).replace("%", "%%")
    target.add_argument(
        "--redis-url",
        metavar="URL",
        default=default_url,
        help="redis://, rediss://, unix://, redis+cluster:// or redis+sentinel://host:port/"
        f"service (default: $OPENAI_AGENTS_SESSION_REDIS_URL or {shown_default})",
    )
    target.add_argument(
        "--key-prefix", default=DEFAULT_KEY_PREFIX, metavar="PREFIX", help="(%(default)s)"
    )

    ls = actions.add_parser("ls", parents=[target], help="sessions with items, TTL and memory")
    ls.add_argument(
        "--match", metavar="GLOB", help="glob on the session id (default: *; not with --owner)"
    )
    ls.add_argument("--owner", help=f"only the sessions of this owner ({OWNER_HELP})")
    ls.add_argument("--sort", choices=("id", "items", "ttl", "memory"), default="id")
    ls.add_argument("--desc", action="store_true", help="largest first")
    ls.add_argument("--min-items", type=int, default=0, metavar="N")
    page = ls.add_mutually_exclusive_group()
    page.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help=f"show only N rows (default: {DEFAULT_PAGE_ROWS} in the table, all with --json)",
    )
    page.add_argument("--all", action="store_true", help="show every row in the table")
    ls.add_argument("--json", action="store_true", help="a JSON array on stdout")
    ls.set_defaults(command=_ls)

    show = actions.add_parser("show", parents=[target], help="one session: size, TTL, items")
    show.add_argument("session_id")
    show.add_argument("--last", type=int, default=10, metavar="N", help="items to list (10)")
    show.add_argument("--content", action="store_true", help="also print the items' content")
    show.add_argument("--json", action="store_true")
    show.set_defaults(command=_show)

    export = actions.add_parser(
        "export",
        parents=[target],
        help="a session's items, or all of an owner's sessions, as JSON lines",
        description="export SESSION_ID [-o FILE]: one line per item of the session. "
        "export --owner OWNER FILE: one line per session of the owner, "
        '{"session_id": "...", "items": [...]}, the items oldest first.',
    )
    export.add_argument(
        "session_id", nargs="?", metavar="SESSION_ID", help="the session (with --owner: FILE)"
    )
    export.add_argument(
        "--owner", help=f"every session of this owner ({OWNER_HELP}) into FILE, one per line"
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    export.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (default: refuse)"
    )
    export.add_argument(
        "--include-corrupt",
        action="store_true",
        help='export items that are not JSON as {"corrupt_item": "<text>"} (default: skip)',
    )
    export.set_defaults(command=_export)

    add_rm_parser(actions, target)
    actions.choices["rm"].set_defaults(command=_rm)

    stats = actions.add_parser("stats", parents=[target], help="totals and size distribution")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(command=_stats)


@asynccontextmanager
async def _keyspace(args: argparse.Namespace) -> AsyncIterator[Keyspace]:
    keyspace = open_keyspace(args.redis_url, args.key_prefix)
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
    if args.owner is not None:
        check_owner(args.owner)
        if args.match is not None:
            raise CliError(
                f"--match {args.match!r} and --owner {args.owner!r} cannot be combined: "
                "--owner lists the owner's sessions from its index, --match scans ids; "
                "use one (with --json, filter the owner's ids with jq)"
            )
    async with _keyspace(args) as keyspace:
        if args.owner is None:
            found = await _collect(keyspace, args.match or "*", quiet=args.json)
        else:
            found = await owner_sessions(keyspace, args.owner)
    matching = [s for s in found if s.items >= args.min_items]
    matching.sort(key=_SORT_KEYS[args.sort], reverse=args.desc)
    limit = args.limit
    if limit is None and not (args.json or args.all):
        limit = DEFAULT_PAGE_ROWS
    chosen = matching if limit is None else matching[: max(limit, 0)]
    if args.json:
        _render.print_json([s.as_json() for s in chosen])
        return 0
    out = _render.console()
    out.print(_render.location(args.redis_url, args.key_prefix))
    if not chosen and args.owner is not None:
        out.print(_render.safe_text(operator_line(no_sessions_note(args.owner, args))))
        return 0
    if not chosen:
        out.print(_render.safe_text(f"no sessions match {args.match or '*'!r}"))
        return 0
    title = f"{len(matching)} sessions"
    if len(chosen) < len(matching):
        title = f"{len(chosen)} of {len(matching)} sessions (--limit N or --all for more)"
    if args.owner is not None:
        title += f" of owner {args.owner!r}"
    out.print(_render.sessions_table(chosen, title))
    # The owner's index names its sessions exactly; only a scan meets nested prefixes.
    note = nested_prefix_note(args.key_prefix, (s.session_id for s in matching))
    if note is not None and args.owner is None:
        print(operator_line(note, args.redis_url), file=sys.stderr)
    return 0


async def _show(args: argparse.Namespace) -> int:
    detail = await _load(args)
    if args.json:
        shown = detail.items[-args.last :] if args.last > 0 else ()
        age = detail.age
        _render.print_json(
            {
                "session_id": detail.session_id,
                "key": detail.key,
                "items": len(detail.items),
                "ttl_seconds": detail.ttl_seconds,
                "memory_bytes": detail.memory_bytes,
                "payload_bytes": detail.payload_bytes,
                "companion_keys": list(detail.companions),
                "age_seconds": age.age_seconds if age else None,
                "removed_by_age_at": age.removed_at_iso() if age else None,
                "max_age_remaining_seconds": age.remaining_seconds if age else None,
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
    if args.owner is not None:
        return export_owner(args)
    if args.session_id is None:
        raise CliError(
            "name the session to export: export SESSION_ID, or export --owner OWNER FILE"
        )
    if args.output and not args.force and os.path.lexists(args.output):
        # Checked before connecting: an export must never cost an earlier one.
        raise CliError(f"{args.output!r} exists; add --force to overwrite it")
    detail = asyncio.run(_load(args))
    lines = [
        item.export_line() for item in detail.items if args.include_corrupt or not item.corrupt
    ]
    if args.output:
        # "x" also refuses a file created while the session was being read.
        with open(args.output, "w" if args.force else "x", encoding="utf-8") as file:
            _write_lines(file, lines)
        where = args.output
    else:
        _write_lines(sys.stdout, lines)
        where = "stdout"
    skipped = len(detail.items) - len(lines)
    note = f"; skipped {skipped} corrupt item(s) (--include-corrupt keeps them)" if skipped else ""
    message = f"exported {len(lines)} item(s) of {args.session_id!r} to {where}{note}"
    print(operator_line(message), file=sys.stderr)
    return 0


def _write_lines(file: TextIO, lines: Sequence[str]) -> None:
    for line in lines:
        file.write(line + "\n")
    file.flush()


async def _rm(args: argparse.Namespace) -> int:
    check_rm_arguments(args)
    async with _keyspace(args) as keyspace:
        return await remove_sessions(keyspace, args)


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
