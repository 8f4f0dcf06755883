"""``openai-agents-session doctor``: does this server give the store what it assumes?

Checks, each printed with what to do: the server's version and mode, its
``maxmemory-policy`` (only ``noeviction`` keeps exactly-once and every
acknowledged item), persistence, replicas, and a round trip of every store
operation on a scratch session under the key prefix, which proves the user's
permissions as the app will use them. Run it with the app's own credentials: a
least-privilege user may not run ``INFO``, and the checks it would need say so
instead of guessing. Exit 0 when nothing is wrong, 1 when something is (a
``problem`` line), 2 when the server cannot be reached.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from redis.asyncio import RedisCluster
from redis.exceptions import NoPermissionError, RedisError, ResponseError

from ..errors import StorePermissionError, is_permission_error
from ._connection import cli_client
from ._doctor_checks import Finding, clocks, eviction, persistence, replication, server
from ._errors import operator_line, redact_url

__all__ = ["add_doctor_parser"]

EXIT_PROBLEM = 1


def add_doctor_parser(commands: argparse._SubParsersAction[Any]) -> None:
    doctor = commands.add_parser(
        "doctor", help="check that a Redis server gives the store what it assumes"
    )
    doctor.add_argument(
        "--redis-url",
        default=os.environ.get("OPENAI_AGENTS_SESSION_REDIS_URL", "redis://localhost:6379/0"),
        help="the server to check, with the app's credentials (default: "
        "$OPENAI_AGENTS_SESSION_REDIS_URL, else redis://localhost:6379/0)",
    )
    doctor.add_argument(
        "--key-prefix",
        default="openai_agents_session",
        help="the prefix the app's sessions use; the scratch session goes under it",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object on stdout")
    doctor.set_defaults(command=run_doctor)


async def run_doctor(args: argparse.Namespace) -> int:
    client = cli_client(args.redis_url)
    try:
        # Unreachable, wrong password, TLS mismatch: the CLI's usual one-line errors.
        await client.ping()
        findings = [
            *await _server_findings(client),
            await _clock_finding(client),
            await _round_trip(client, args.key_prefix),
        ]
    finally:
        await client.aclose()
    _print(findings, args)
    return EXIT_PROBLEM if any(f.status == "problem" for f in findings) else 0


async def _server_findings(client: Any) -> list[Finding]:
    """One set of findings per primary (each node of a cluster holds its own settings)."""
    try:
        infos = await _info_by_primary(client)
    except (NoPermissionError, ResponseError) as exc:
        if not is_permission_error(exc):
            raise
        advice = "grant +info to the user doctor runs as (or run it as an admin) to check"
        return [
            Finding(check, "unknown", "could not check: this user may not run INFO", advice)
            for check in ("server", "eviction", "persistence", "replicas")
        ]
    findings: list[Finding] = []
    for label, (node, info) in infos.items():
        schedule = await _save_schedule(client, node)
        for finding in (
            server(info),
            eviction(info),
            persistence(info, schedule),
            replication(info),
        ):
            found = f"{label}: {finding.found}" if len(infos) > 1 else finding.found
            findings.append(Finding(finding.check, finding.status, found, finding.advice))
    return findings


async def _info_by_primary(client: Any) -> dict[str, tuple[Any, Mapping[str, Any]]]:
    """``INFO`` of each primary, by "host:port", with the node to address it (None: standalone)."""
    if isinstance(client, RedisCluster):
        infos: dict[str, tuple[Any, Mapping[str, Any]]] = {}
        for node in client.get_primaries():
            infos[f"{node.host}:{node.port}"] = (node, await client.info(target_nodes=node))
        return infos
    return {"": (None, await client.info())}


async def _clock_finding(client: Any) -> Finding:
    """The primaries' clocks compared, through ``TIME`` (which the store's user may run)."""
    nodes = client.get_primaries() if isinstance(client, RedisCluster) else [None]
    offsets: dict[str, float] = {}
    try:
        for node in nodes:
            sent = time.time()
            reply = await (client.time(target_nodes=node) if node is not None else client.time())
            received = time.time()
            seconds, micros = reply
            server_ms = int(seconds) * 1000 + int(micros) / 1000
            label = "" if node is None else f"{node.host}:{node.port}"
            # Against this machine's clock, at the middle of the round trip.
            offsets[label] = server_ms - (sent + received) / 2 * 1000
    except (NoPermissionError, ResponseError) as exc:
        if not is_permission_error(exc):
            raise
        return Finding(
            "clocks", "unknown", "could not check: this user may not run TIME", "grant +time"
        )
    return clocks(offsets)


async def _save_schedule(client: Any, node: Any) -> str | None:
    """``CONFIG GET save`` where the user may run it (admins), else ``None``."""
    try:
        if node is not None:
            reply = await client.config_get("save", target_nodes=node)
        else:
            reply = await client.config_get("save")
    except (NoPermissionError, ResponseError):
        return None
    values: dict[Any, Any] = dict(reply)
    value = values.get("save", values.get(b"save", ""))
    return value.decode() if isinstance(value, bytes) else str(value)


async def _round_trip(client: Any, key_prefix: str) -> Finding:
    """Every store operation once, on a scratch session deleted afterwards, then the
    data lifecycle's (max_age, an owner listed and erased) on another."""
    from .. import OwnerIndex, RedisSession  # the store, only for this check

    scratch = f"doctor-{os.urandom(6).hex()}"
    session = RedisSession(scratch, client, key_prefix=key_prefix, ttl=60)
    owned = RedisSession(
        f"{scratch}-owned", client, key_prefix=key_prefix, max_age=60, owner=scratch
    )
    started = time.perf_counter()
    try:
        await session.add_items([{"role": "user", "content": "doctor"}])
        await session.get_items()
        await session.add_items([{"role": "assistant", "content": "ok"}])
        await session.pop_item()
        await session._atomic_replace_items([{"role": "user", "content": "replaced"}])
        await session.clear_session()
        await owned.get_items()
        await owned.add_items([{"role": "user", "content": "doctor"}])
        index = OwnerIndex(client, key_prefix=key_prefix)
        listed = await index.sessions(scratch)
        erased = await index.erase(scratch)
        if listed != [owned.session_id] or erased != 1:
            return Finding(
                "round trip",
                "problem",
                f"the owner index under prefix {key_prefix!r} did not list and erase a "
                f"session it registered (listed {len(listed)}, erased {erased})",
                "run `openai-agents-session doctor --json` again; report it if it persists",
            )
    except StorePermissionError as exc:
        return Finding(
            "round trip",
            "problem",
            f"the store's operations are refused under prefix {key_prefix!r}",
            operator_line(str(exc), None),
        )
    except ResponseError as exc:  # READONLY, OOM, a disabled command...
        return Finding(
            "round trip",
            "problem",
            f"the store's operations failed under prefix {key_prefix!r}",
            operator_line(str(exc), None),
        )
    finally:
        # Else the scratch keys expire within two minutes anyway.
        with contextlib.suppress(RedisError):
            await client.delete(session.key, session.operation_log_key, session.popped_items_key)
        with contextlib.suppress(RedisError):
            await client.delete(owned.key, owned.operation_log_key, owned.life_key)
    elapsed = (time.perf_counter() - started) * 1000
    return Finding(
        "round trip",
        "ok",
        f"add_items, get_items, pop_item, replace_items, clear_session, and a session "
        f"with max_age and an owner listed and erased, under prefix {key_prefix!r}: "
        f"{elapsed:.1f} ms in all",
    )


_MARK = {"ok": "ok", "warn": "warn", "problem": "PROBLEM", "unknown": "?"}


def _print(findings: list[Finding], args: argparse.Namespace) -> None:
    url = redact_url(args.redis_url)
    if args.json:
        problems = sum(f.status == "problem" for f in findings)
        body = {"redis_url": url, "problems": problems, "findings": [f.as_dict() for f in findings]}
        print(json.dumps(body))
        return
    print(f"doctor: {url} (key prefix {args.key_prefix!r})")
    for finding in findings:
        print(f"  {_MARK[finding.status]:<9}{finding.check:<12}{finding.found}")
        if finding.advice:
            print(f"  {'':<9}{'':<12}-> {finding.advice}")
    problems = sum(f.status == "problem" for f in findings)
    summary = f"{problems} problem{'s' if problems != 1 else ''}" if problems else "no problems"
    print(summary)
