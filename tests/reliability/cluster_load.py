"""Load on cluster sessions while the cluster changes under it, and its audit.

Each writer owns some sessions and sends numbered batches to them in turn, popping
one item now and then. Afterwards every item of every batch must be stored or
returned by a pop exactly once, and no call may have raised.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from openai_agents_session import RedisSession

PARTS = 2
POP_EVERY = 5


@dataclass
class Load:
    sessions: list[RedisSession]
    writers: int = 8
    operations: int = 0
    acknowledged: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    raised_batches: set[str] = field(default_factory=set)
    sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    popped: list[dict[str, Any]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        await asyncio.gather(*(self._writer(n) for n in range(self.writers)))

    async def _writer(self, number: int) -> None:
        mine = self.sessions[number :: self.writers]
        turn = 0
        while not self.stop.is_set():
            session = mine[turn % len(mine)]
            name = f"{number}-{turn}"
            items = [{"b": name, "p": part} for part in range(PARTS)]
            self.sent[name] = items
            await self._call(name, session.add_items(items))
            if turn % POP_EVERY == POP_EVERY - 1:
                item = await self._call(None, session.pop_item())
                if isinstance(item, dict):
                    self.popped.append(item)
            turn += 1

    async def _call(self, batch: str | None, call: Any) -> Any:
        self.operations += 1
        try:
            result = await call
        except Exception as error:
            self.errors[f"{type(error).__name__}: {str(error)[:80]}"] += 1
            if batch is not None:
                self.raised_batches.add(batch)
            return None
        self.acknowledged += 1
        return result


@dataclass
class Outcome:
    lost: int  # items of acknowledged batches neither stored nor popped
    duplicated: int  # items stored or popped more than once
    false_failures: int  # batches whose call raised but which were stored


def audit(load: Load, stored_lists: list[list[bytes]]) -> Outcome:
    seen: Counter[str] = Counter()
    for raw_items in stored_lists:
        for raw in raw_items:
            seen[json.dumps(json.loads(raw), sort_keys=True)] += 1
    for item in load.popped:
        seen[json.dumps(item, sort_keys=True)] += 1
    lost = duplicated = false_failures = 0
    for name, items in load.sent.items():
        counts = [seen[json.dumps(item, sort_keys=True)] for item in items]
        duplicated += sum(max(0, count - 1) for count in counts)
        if name in load.raised_batches:
            false_failures += any(counts)
        else:
            lost += sum(1 for count in counts if count == 0)
    return Outcome(lost, duplicated, false_failures)
