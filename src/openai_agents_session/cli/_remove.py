"""``sessions rm``: delete sessions on purpose, several at once, never by surprise.

Everything to delete is resolved first (ids checked, ``--match`` scanned), then
shown as a count and a sample, then confirmed; ``--dry-run`` stops after the
showing. An id that is not a session stops the command before anything is
deleted. A session that expires between the listing and its deletion is
reported as already gone, not as an error halfway through.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from typing import Any

from . import _render
from ._errors import EXIT_DECLINED, CliError, operator_line, redact_url
from ._keyspace import Keyspace
from ._nesting import nested_prefix_note
from ._session_detail import count_items, delete_session

__all__ = ["add_rm_parser", "remove_sessions"]

# Ids named in the confirmation question; the rest are counted.
SAMPLE_SIZE = 5
# Deletions in flight at once: enough to hide round trips, few enough to be gentle.
_CONCURRENT_DELETES = 32


@dataclass(frozen=True)
class Doomed:
    session_id: str
    items: int


def add_rm_parser(actions: Any, target: argparse.ArgumentParser) -> None:
    rm = actions.add_parser(
        "rm",
        parents=[target],
        help="delete sessions by id or --match (shows what and asks first)",
    )
    rm.add_argument("session_ids", nargs="*", metavar="SESSION_ID", help="sessions to delete")
    rm.add_argument(
        "--match",
        metavar="GLOB",
        help="also delete every session whose id matches this Redis glob (e.g. 'tenant-7:*')",
    )
    rm.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted; delete nothing"
    )
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask (for scripts)")
    rm.add_argument("--json", action="store_true")


async def _resolve(keyspace: Keyspace, args: argparse.Namespace) -> list[Doomed]:
    if not args.session_ids and args.match is None:
        raise CliError("name the sessions to delete: one or more SESSION_ID, or --match GLOB")
    chosen: dict[str, int] = {}
    for session_id in dict.fromkeys(args.session_ids):
        chosen[session_id] = await count_items(keyspace, session_id)
    if args.match is not None:
        await keyspace.ping()
        async for batch in keyspace.scan(args.match):
            for summary in await keyspace.describe(batch):
                chosen.setdefault(summary.session_id, summary.items)
    return [Doomed(session_id, items) for session_id, items in sorted(chosen.items())]


def _summary(doomed: list[Doomed], args: argparse.Namespace) -> str:
    sample = ", ".join(repr(d.session_id) for d in doomed[:SAMPLE_SIZE])
    more = f" and {len(doomed) - SAMPLE_SIZE} more" if len(doomed) > SAMPLE_SIZE else ""
    items = sum(d.items for d in doomed)
    noun = "session" if len(doomed) == 1 else "sessions"
    return (
        f"{len(doomed)} {noun} ({items} items) under prefix {args.key_prefix!r} of "
        f"{redact_url(args.redis_url)}: {sample}{more}"
    )


async def _delete(keyspace: Keyspace, doomed: list[Doomed]) -> tuple[list[Doomed], int]:
    """Delete each session; returns those deleted and the number of keys removed."""
    limit = asyncio.Semaphore(_CONCURRENT_DELETES)

    async def one(session: Doomed) -> int | None:
        async with limit:
            try:
                return await delete_session(keyspace, session.session_id)
            except CliError:  # expired or replaced since it was listed
                return None

    removed = await asyncio.gather(*(one(session) for session in doomed))
    deleted = [s for s, keys in zip(doomed, removed, strict=True) if keys is not None]
    return deleted, sum(keys for keys in removed if keys is not None)


async def remove_sessions(keyspace: Keyspace, args: argparse.Namespace) -> int:
    doomed = await _resolve(keyspace, args)
    if not doomed:
        return _report(args, [], deleted=False, note=f"no sessions match {args.match!r}")
    summary = _summary(doomed, args)
    note = nested_prefix_note(args.key_prefix, (d.session_id for d in doomed))
    if note is not None and not args.json:
        print(operator_line(note, args.redis_url), file=sys.stderr)
    if args.dry_run:
        return _report(args, doomed, deleted=False, note=f"would delete {summary}")
    if not args.yes and not _confirm(f"delete {summary}? This cannot be undone. [y/N] ", args):
        print("nothing deleted", file=sys.stderr)
        return EXIT_DECLINED
    deleted, keys = await _delete(keyspace, doomed)
    gone = len(doomed) - len(deleted)
    note = (
        f"deleted {len(deleted)} session(s): {sum(d.items for d in deleted)} items, "
        f"{keys} key(s)" + (f"; {gone} had already expired or changed" if gone else "")
    )
    return _report(args, deleted, deleted=True, note=note)


def _report(args: argparse.Namespace, sessions: list[Doomed], *, deleted: bool, note: str) -> int:
    if args.json:
        _render.print_json(
            {
                "deleted": deleted,
                "dry_run": bool(args.dry_run),
                "items": sum(s.items for s in sessions),
                "sessions": [{"session_id": s.session_id, "items": s.items} for s in sessions],
            }
        )
    else:
        print(operator_line(note, args.redis_url))
    return 0


def _confirm(question: str, args: argparse.Namespace) -> bool:
    print(operator_line(question, args.redis_url), end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
        echoed = sys.stdin.isatty()
    except (OSError, ValueError):  # stdin closed or detached
        answer, echoed = "", False
    if not echoed:
        print(file=sys.stderr)  # end the question's line, as a typed answer would
    return answer.strip().lower() in ("y", "yes")
