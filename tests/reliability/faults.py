"""What the connection-fault scenarios share: the faults, the client, the writer loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis

from openai_agents_session.store.scripts import ADD, POP
from support.proxy import FaultProxy

from .kit import SCALE, Ledger, batch

BATCHES = 40 * SCALE
PARTS = 3
SOCKET_TIMEOUT = 0.2  # the client gives up on a stalled command after this
STALL = 0.5

HOW_POP = {
    "cut_reply": "every 3rd pop applied by the server, reply discarded, connection reset",
    "stall_reply": f"every 3rd pop's reply held {STALL}s (client timeout {SOCKET_TIMEOUT}s)",
    "stall_request": f"every 3rd pop held {STALL}s (client timeout {SOCKET_TIMEOUT}s), "
    "then delivered late",
}
HOW = {
    "drop": "every 4th write dropped before the server; connection reset",
    "cut_request": "every 4th write cut mid-command (half its bytes sent); connection reset",
    "stall_request": f"every 4th write held {STALL}s (client timeout {SOCKET_TIMEOUT}s), "
    "then delivered late",
    "cut_reply": "every 4th write applied by the server, reply discarded, connection reset",
    "stall_reply": f"every 4th write's reply held {STALL}s (client timeout {SOCKET_TIMEOUT}s)",
}


def runs_script(script_sha: str, body: str) -> Callable[[Sequence[bytes]], bool]:
    def matches(args: Sequence[bytes]) -> bool:
        name = args[0].upper()
        return (name == b"EVALSHA" and args[1] == script_sha.encode()) or (
            name == b"EVAL" and args[1] == body.encode()
        )

    return matches


is_add_items = runs_script(ADD.sha, ADD.body)
is_pop_item = runs_script(POP.sha, POP.body)


def proxied_client(proxy: FaultProxy) -> Redis:
    # Default retry policy on purpose: the store must be safe with it.
    return Redis(host=proxy.host, port=proxy.port, socket_timeout=SOCKET_TIMEOUT)


async def write_batches(
    add: Callable[[list[dict[str, Any]]], Awaitable[None]], ledger: Ledger, writer: str = "w"
) -> None:
    for number in range(BATCHES):
        try:
            await add(batch(writer, number, PARTS))
        except Exception as error:
            ledger.fail(writer, number, error)
        else:
            ledger.ack(writer, number)
