"""Round trips per call, counted on the wire by a counting connection.

Each contender runs every operation once as a warm-up (so scripts are cached on the
server and connections are open), then once more while the counter records each
write-and-read exchange on the socket and the commands it carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contenders import Contender
from operations import CLEAR_PREFILL, PREFILL, Operation
from redis.asyncio import ConnectionPool, Redis

from openai_agents_session.testing import CountingConnection, RoundTripCounter

__all__ = ["count_round_trips"]


async def _prepare(
    contender: Contender, session: Any, operation: Operation, items: list[Any]
) -> None:
    if operation.kind == "clear":
        await session.add_items(items[:CLEAR_PREFILL])
    else:
        await session.add_items((items * (PREFILL // len(items) + 1))[:PREFILL])


async def count_round_trips(
    port: int, contenders: Sequence[Contender], operations: Sequence[Operation], items: list[Any]
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{contender: {operation: {"round_trips": n, "commands": [[...], ...]}}}``."""
    counter = RoundTripCounter()
    connections = ConnectionPool(
        host="127.0.0.1", port=port, connection_class=CountingConnection, counter=counter
    )
    client = Redis(connection_pool=connections)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        for contender in contenders:
            results[contender.name] = {}
            for operation in operations:
                measured = None
                for attempt in ("warm-up", "counted"):
                    session = contender.session(client, f"rt-{operation.kind}-{attempt}")
                    await _prepare(contender, session, operation, items)
                    counter.reset()
                    await operation.call(session, items[:10])
                    measured = {
                        "round_trips": counter.round_trips,
                        "commands": [list(c) for c in counter.commands],
                    }
                    await session.clear_session()
                results[contender.name][operation.name] = measured or {}
    finally:
        await client.aclose()
        await connections.disconnect()
    return results
