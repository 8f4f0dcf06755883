"""Running one script for a session: one round trip, and what can go wrong with it.

* ``EVALSHA``, falling back to ``EVAL`` once when the server does not know the script.
* With ``durability``, the script and its ``WAIT``/``WAITAOF`` in one pipeline; a
  wait that fails or is refused raises ``DurabilityError`` (the write was applied).
* On a Redis Cluster, while the session's slot migrates (or a primary fails over),
  the cluster answers ``TRYAGAIN``, redis-py gives up after a few tries, and its
  cluster client sometimes fails on its own; every operation is idempotent, so
  these are retried until ``migration_wait`` seconds have passed.
* A permission error, also from inside a script, becomes ``StorePermissionError``.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import RedisCluster
from redis.exceptions import (
    ClusterError,
    ConnectionError,
    NoScriptError,
    RedisClusterException,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from .._clients import RedisClient
from ..errors import StorePermissionError, is_permission_error
from .durability import Durability
from .scripts import Script

__all__ = ["DEFAULT_MIGRATION_WAIT", "check_waitaof", "run_command", "run_script"]

# Errors a cluster raises while a slot moves or a primary changes, none of which
# mean the operation is wrong; "TTL exhausted" after TRYAGAIN is a ClusterError.
_CLUSTER_TRANSIENT = (
    ClusterError,
    RedisClusterException,
    TryAgainError,
    ConnectionError,
    TimeoutError,
)
# Seconds an operation keeps retrying while its cluster slot migrates.
DEFAULT_MIGRATION_WAIT = 10.0
_FIRST_PAUSE = 0.02
_LONGEST_PAUSE = 0.25

Key = str | bytes


async def run_script(
    client: RedisClient,
    script: Script[Any],
    keys: Sequence[Key],
    args: Sequence[Any],
    *,
    key_prefix: str,
    durability: Durability | None = None,
    migration_wait: float = 0.0,
) -> tuple[Any, int]:
    """Run ``script``; returns (reply, round trips)."""

    async def attempt() -> tuple[Any, int]:
        if durability is not None:
            return await _run_durably(client, script, keys, args, durability)
        return await _run_plain(client, script, keys, args)

    return await run_command(
        client,
        attempt,
        name=script.name,
        commands=script.commands,
        key_prefix=key_prefix,
        migration_wait=migration_wait,
    )


async def run_command(
    client: RedisClient,
    attempt: Callable[[], Awaitable[tuple[Any, int]]],
    *,
    name: str,
    commands: Sequence[str],
    key_prefix: str,
    migration_wait: float = 0.0,
) -> tuple[Any, int]:
    """Run ``attempt`` (one operation's request); returns (reply, round trips).

    A permission error becomes ``StorePermissionError`` naming ``commands``; on a
    cluster, transient errors are retried for ``migration_wait`` seconds (every
    operation is idempotent).
    """
    deadline: float | None = None
    pause = _FIRST_PAUSE
    round_trips = 0
    while True:
        try:
            reply, trips = await attempt()
            return reply, round_trips + trips
        except BaseException as exc:
            if is_permission_error(exc):
                raise StorePermissionError(
                    name, str(exc), key_prefix=key_prefix, commands=tuple(commands)
                ) from exc
            if not isinstance(client, RedisCluster) or not _cluster_transient(exc):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + migration_wait
            if now >= deadline:
                raise
            round_trips += 1
            await asyncio.sleep(min(pause, deadline - now))
            pause = min(pause * 2, _LONGEST_PAUSE)


def _cluster_transient(exc: BaseException) -> bool:
    if isinstance(exc, _CLUSTER_TRANSIENT):
        return True
    # redis-py's cluster client can trip over a connection that a redirect or a
    # topology refresh closed under it ("'NoneType' object has no attribute
    # 'writelines'"): its own race, not a fault of the command.
    if isinstance(exc, AttributeError):
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
        return bool(frames) and "/redis/" in frames[-1].replace("\\", "/")
    return False


async def _run_plain(
    client: RedisClient, script: Script[Any], keys: Sequence[Key], args: Sequence[Any]
) -> tuple[Any, int]:
    try:
        return await client.evalsha(script.sha, len(keys), *keys, *args), 1
    except NoScriptError:
        # EVAL both runs and caches the script on that server.
        return await client.eval(script.body, len(keys), *keys, *args), 2


async def _run_durably(
    client: RedisClient,
    script: Script[Any],
    keys: Sequence[Key],
    args: Sequence[Any],
    durability: Durability,
) -> tuple[Any, int]:
    round_trips = 0
    for send_body in (False, True):
        pipe = client.pipeline(transaction=False)
        if send_body:
            pipe.eval(script.body, len(keys), *keys, *args)
        else:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        pipe.execute_command(*durability.command())
        reply, waited = await pipe.execute(raise_on_error=False)
        round_trips += 1
        if isinstance(reply, NoScriptError):
            continue
        if isinstance(reply, Exception):
            raise reply
        durability.check(script.name, reply, waited)
        return reply, round_trips
    raise RuntimeError(f"the server refused to load the {script.name} script")


# Clients already known to accept WAITAOF: asked once per client.
_waitaof_known: weakref.WeakSet[Any] = weakref.WeakSet()


async def check_waitaof(client: RedisClient) -> None:
    """Refuse ``Durability(aof=True)`` before any write on a server without WAITAOF."""
    if client in _waitaof_known:
        return
    try:
        # Waits for nothing: answers at once where the command exists.
        await client.execute_command("WAITAOF", 0, 0, 0)
    except ResponseError as exc:
        if is_permission_error(exc):
            raise StorePermissionError(
                "durability check", str(exc), key_prefix="", commands=("waitaof",)
            ) from exc
        raise ValueError(
            "durability=Durability(aof=True) needs WAITAOF (Redis or Valkey 7.2+), which this "
            f"server refuses ({exc}); nothing was written. Use Durability(replicas=...) "
            "without aof, or upgrade the server."
        ) from exc
    _waitaof_known.add(client)
