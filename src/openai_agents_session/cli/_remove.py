"""``sessions rm``: delete sessions on purpose, several at once, never by surprise.

Everything to delete is resolved first (ids checked, ``--match`` scanned, or the
sessions of ``--owner`` listed from the owner's index), then
shown as a count and a sample, then confirmed; ``--dry-run`` stops after the
showing. An id that is not a session stops the command before anything is
deleted. A session that expires between the listing and its deletion is
reported as already gone, not as an error halfway through.

``--owner`` erases through ``OwnerIndex.erase``: every session in the owner's index,
including one created after the listing, and the index itself. It is idempotent:
after a failure, running the command again finishes the job.
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
from ._owners import OWNER_HELP, check_owner, no_sessions_note, owner_index, owner_sessions
from ._session_detail import count_items, delete_session

__all__ = ["add_rm_parser", "check_rm_arguments", "remove_sessions"]

# Ids named in the confirmation question; the rest are counted.
SAMPLE_SIZE = 5
# Deletions in flight at once: enough to hide round trips, few enough to be gentle.
_CONCURRENT_DELETES = 32


@dataclass(frozen=True, order=True)
class Doomed:
    session_id: str
    items: int


def add_rm_parser(actions: Any, target: argparse.ArgumentParser) -> None:
    rm = actions.add_parser(
        "rm",
        parents=[target],
        help="delete sessions by id, --match or --owner (shows what and asks first)",
    )
    rm.add_argument("session_ids", nargs="*", metavar="SESSION_ID", help="sessions to delete")
    rm.add_argument(
        "--match",
        metavar="GLOB",
        help="also delete every session whose id matches this Redis glob (e.g. 'tenant-7:*')",
    )
    rm.add_argument(
        "--owner",
        help=f"erase every session of this owner ({OWNER_HELP}); not with ids or --match",
    )
    rm.add_argument(
        "--dry-run", action="store_true", help="show what would be deleted; delete nothing"
    )
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask (for scripts)")
    rm.add_argument("--json", action="store_true")


async def _resolve(keyspace: Keyspace, args: argparse.Namespace) -> list[Doomed]:
    if not args.session_ids and args.match is None:
        raise CliError(
            "name the sessions to delete: one or more SESSION_ID, or --match GLOB, or --owner OWNER"
        )
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


def check_rm_arguments(args: argparse.Namespace) -> None:
    """Refuse ``--owner`` with anything else that names sessions, before connecting."""
    if args.owner is None:
        return
    check_owner(args.owner)
    if args.session_ids or args.match is not None:
        named = " ".join(repr(s) for s in args.session_ids)
        if args.match is not None:
            named = f"{named} --match {args.match!r}".strip()
        raise CliError(
            f"--owner {args.owner!r} erases the owner's sessions and takes no other "
            f"sessions; got {named} too. Run rm once with --owner, once with the rest"
        )


async def remove_sessions(keyspace: Keyspace, args: argparse.Namespace) -> int:
    if args.owner is not None:
        return await _erase_owner(keyspace, args)
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


async def _erase_owner(keyspace: Keyspace, args: argparse.Namespace) -> int:
    owner = args.owner
    listed = await owner_sessions(keyspace, owner)
    doomed = sorted(Doomed(s.session_id, s.items) for s in listed)
    if not doomed:
        return _report(args, [], deleted=False, note=no_sessions_note(owner, args))
    summary = _summary(doomed, args)
    if args.dry_run:
        return _report(
            args,
            doomed,
            deleted=False,
            note=f"would erase every session of owner {owner!r}: {summary}",
        )
    question = f"erase every session of owner {owner!r}: {summary}? This cannot be undone. [y/N] "
    if not args.yes and not _confirm(question, args):
        print("nothing deleted", file=sys.stderr)
        return EXIT_DECLINED
    erased = await owner_index(keyspace).erase(owner)
    # The erase takes every session the index holds when it runs: one created since
    # the listing is erased too, one that ended meanwhile is not counted.
    differs = f" ({len(doomed)} were listed)" if erased != len(doomed) else ""
    note = f"erased {erased} session(s) of owner {owner!r}{differs}"
    return _report(args, doomed, deleted=True, note=note, erased=erased)


def _report(
    args: argparse.Namespace,
    sessions: list[Doomed],
    *,
    deleted: bool,
    note: str,
    erased: int | None = None,
) -> int:
    if args.json:
        report: dict[str, Any] = {
            "deleted": deleted,
            "dry_run": bool(args.dry_run),
            "items": sum(s.items for s in sessions),
            "sessions": [{"session_id": s.session_id, "items": s.items} for s in sessions],
        }
        if args.owner is not None:
            # What the erase itself counted; the list above is what was shown before it.
            report["erased"] = erased if erased is not None else 0
        _render.print_json(report)
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
