"""Running a recursive step where the caller's stack depth cannot change its outcome.

The json module recurses once per nesting level, against the same recursion limit
as the caller's frames. An item nested 200 levels encodes fine from a shallow
caller and raises ``RecursionError`` from a deep one (an agent framework, a
recursive tool), so without care the same item would be accepted or refused,
readable or "corrupt", depending on who asks. A new thread starts with an empty
stack: the step is retried there, only when the caller's stack was the problem.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["on_fresh_stack"]

T = TypeVar("T")


def on_fresh_stack(step: Callable[[], T]) -> T:
    """Run ``step`` in a new thread and return its result or raise its exception."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = step()
        except BaseException as exc:  # handed back to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="openai-agents-session-fresh-stack")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
