"""The measured operations: what each one calls and the state it needs first.

Every operation runs on sessions that already hold ``PREFILL`` items (a conversation
some turns in), so reads return real data, pops never find an empty list and
``max_items`` trimming is exercised by every write to our capped sessions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["OPERATIONS", "PREFILL", "Operation"]

# Items in every session a read, write or pop runs on; equal to ours max_items, so
# our writes trim one item per item written, the steady state of a capped session.
PREFILL = 1000
# Items in each session that clear_session deletes.
CLEAR_PREFILL = 10

Kind = Literal["read", "write", "pop", "clear"]


@dataclass(frozen=True)
class Operation:
    """One measured call; ``call(session, items)`` runs it once."""

    name: str
    kind: Kind
    call: Callable[[Any, list[Any]], Awaitable[Any]]
    items_per_call: int = 0


async def _add_one(session: Any, items: list[Any]) -> None:
    await session.add_items(items[:1])


async def _add_ten(session: Any, items: list[Any]) -> None:
    await session.add_items(items[:10])


async def _get_twenty(session: Any, items: list[Any]) -> list[Any]:
    result: list[Any] = await session.get_items(limit=20)
    return result


async def _get_all(session: Any, items: list[Any]) -> list[Any]:
    result: list[Any] = await session.get_items()
    return result


async def _pop(session: Any, items: list[Any]) -> Any:
    return await session.pop_item()


async def _clear(session: Any, items: list[Any]) -> None:
    await session.clear_session()


OPERATIONS: tuple[Operation, ...] = (
    Operation("add_items(1)", "write", _add_one, 1),
    Operation("add_items(10)", "write", _add_ten, 10),
    Operation("get_items(limit=20)", "read", _get_twenty),
    Operation("get_items() of 1000", "read", _get_all),
    Operation("pop_item", "pop", _pop),
    Operation("clear_session", "clear", _clear),
)
