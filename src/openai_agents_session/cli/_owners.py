"""``--owner``: one owner's sessions, found through the index the store keeps of them.

``RedisSession(..., owner="user-42")`` lists every session it creates in its owner's
index; ``sessions ls|export|rm --owner`` read that index (``OwnerIndex``) instead
of scanning the keyspace, so they find exactly the owner's sessions, whatever their
ids look like. Sessions written without ``owner=`` are in no index; ``--match``
finds those by id.

Listing and exporting also prune the index of ids whose session is gone (a small
script, as every ``OwnerIndex.sessions`` call does): what the operator's Redis user
needs for that is in README "Redis permissions".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from ..store.owners import OwnerIndex
from ._connection import open_keyspace
from ._errors import CliError, operator_line, redact_url
from ._keyspace import Keyspace, SessionSummary

__all__ = [
    "OWNER_HELP",
    "check_owner",
    "export_owner",
    "no_sessions_note",
    "owner_index",
    "owner_sessions",
]

OWNER_HELP = "the owner given as RedisSession(..., owner=OWNER)"


def check_owner(owner: str) -> str:
    """``owner`` as the store takes it, or a :class:`CliError` naming it."""
    if not owner:
        raise CliError("--owner must not be empty: give the owner the sessions were written with")
    try:
        owner.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Bytes of the command line that are not UTF-8 arrive as lone surrogates.
        raise CliError(
            f"--owner {owner!r} is not valid UTF-8 text (at position {exc.start}); "
            "owners are stored as UTF-8"
        ) from exc
    return owner


def owner_index(keyspace: Keyspace) -> OwnerIndex:
    return OwnerIndex(keyspace.client, key_prefix=keyspace.key_prefix)


async def owner_sessions(keyspace: Keyspace, owner: str) -> list[SessionSummary]:
    """The owner's sessions that hold items, with their length, TTL and memory."""
    # A wrong URL or password fails here at once, not after the index's retries.
    await keyspace.ping()
    session_ids = await owner_index(keyspace).sessions(owner)
    keys = [keyspace.key_for(session_id).encode("utf-8") for session_id in session_ids]
    return await keyspace.describe(keys)


def no_sessions_note(owner: str, args: argparse.Namespace) -> str:
    return (
        f"owner {owner!r} has no sessions under prefix {args.key_prefix!r} of "
        f"{redact_url(args.redis_url)} (sessions written without owner= are in no "
        "owner's index; --match finds them by id)"
    )


def export_line(session_id: str, items: list[Any]) -> str:
    """One session as one compact JSON line: ``{"session_id": ..., "items": [...]}``."""
    return json.dumps(
        {"session_id": session_id, "items": items}, ensure_ascii=False, separators=(",", ":")
    )


async def _read_all(args: argparse.Namespace, owner: str) -> list[tuple[str, int, str]]:
    keyspace = open_keyspace(args.redis_url, args.key_prefix)
    try:
        await keyspace.ping()
        return [
            (session_id, len(items), export_line(session_id, items))
            async for session_id, items in owner_index(keyspace).export(owner)
        ]
    finally:
        await keyspace.aclose()


def _output_file(args: argparse.Namespace) -> str:
    if args.session_id is not None and args.output is not None:
        raise CliError(
            f"export --owner takes one FILE: got {args.session_id!r} and -o {args.output!r}"
        )
    target: str | None = args.output if args.output is not None else args.session_id
    if not target:
        raise CliError("export --owner needs a FILE to write to: export --owner OWNER FILE")
    return target


def export_owner(args: argparse.Namespace) -> int:
    """Every session of ``--owner`` into FILE as JSON lines; nothing written on failure."""
    owner = check_owner(args.owner)
    target = _output_file(args)
    if args.include_corrupt:
        raise CliError(
            "--include-corrupt does not apply to export --owner: an owner's export holds the "
            "items the application reads back (JSON only); export a session by id to see "
            "its corrupt items"
        )
    if not args.force and os.path.lexists(target):
        # Checked before connecting: an export must never cost an earlier one.
        raise CliError(f"{target!r} exists; add --force to overwrite it")
    # Read whole before the file is opened: a failure while reading leaves no
    # partial export behind that could pass for a complete one.
    sessions = asyncio.run(_read_all(args, owner))
    # "x" also refuses a file created while the sessions were being read.
    with open(target, "w" if args.force else "x", encoding="utf-8") as file:
        for _, _, line in sessions:
            file.write(line + "\n")
    items = sum(count for _, count, _ in sessions)
    if sessions:
        message = (
            f"exported {len(sessions)} session(s) ({items} items) of owner {owner!r} under "
            f"prefix {args.key_prefix!r} of {redact_url(args.redis_url)} to {target}"
        )
    else:
        message = f"{no_sessions_note(owner, args)}; wrote an empty {target}"
    print(operator_line(message, args.redis_url), file=sys.stderr)
    return 0
