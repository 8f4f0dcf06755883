"""Session items shaped like the ones the Agents SDK stores, a few hundred bytes each.

A real conversation mixes user messages, assistant output messages, tool calls and
tool results; the generator cycles through those shapes with deterministic text so
every contender stores exactly the same items in every run.
"""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["conversation", "mean_item_bytes"]

_WORDS = (
    "the",
    "order",
    "shipped",
    "from",
    "warehouse",
    "on",
    "tuesday",
    "and",
    "should",
    "arrive",
    "within",
    "three",
    "business",
    "days",
    "your",
    "refund",
    "was",
    "approved",
    "café",
    "résumé",
    "tracking",
    "number",
    "customer",
    "account",
    "balance",
    "invoice",
    "weather",
    "forecast",
    "for",
    "paris",
    "tomorrow",
    "is",
    "sunny",
    "with",
    "light",
    "wind",
    "please",
    "confirm",
    "delivery",
    "address",
    "before",
    "we",
    "continue",
)


def _text(rng: random.Random, low: int, high: int) -> str:
    target = rng.randint(low, high)
    words: list[str] = []
    size = 0
    while size < target:
        word = rng.choice(_WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words).capitalize() + "."


def _ident(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_{rng.getrandbits(96):024x}"


def _user_message(rng: random.Random) -> dict[str, Any]:
    return {"role": "user", "content": _text(rng, 120, 260)}


def _assistant_message(rng: random.Random) -> dict[str, Any]:
    return {
        "id": _ident(rng, "msg"),
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {"type": "output_text", "text": _text(rng, 200, 420), "annotations": [], "logprobs": []}
        ],
    }


def _function_call(rng: random.Random) -> dict[str, Any]:
    arguments = {"order_id": rng.randint(10_000, 99_999), "note": _text(rng, 40, 90)}
    return {
        "type": "function_call",
        "id": _ident(rng, "fc"),
        "call_id": _ident(rng, "call"),
        "name": "lookup_order",
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def _function_output(rng: random.Random) -> dict[str, Any]:
    return {
        "type": "function_call_output",
        "call_id": _ident(rng, "call"),
        "output": json.dumps({"status": "shipped", "detail": _text(rng, 120, 240)}),
    }


# One agent turn: the user asks, the model calls a tool, reads the result, answers.
_TURN = (_user_message, _function_call, _function_output, _assistant_message)


def conversation(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` items in turn order (user, tool call, tool output, assistant, ...)."""
    rng = random.Random(seed)
    return [_TURN[index % len(_TURN)](rng) for index in range(count)]


def mean_item_bytes(items: list[dict[str, Any]]) -> float:
    """Mean compact-JSON size of ``items`` in bytes (UTF-8)."""
    sizes = [
        len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()) for item in items
    ]
    return sum(sizes) / len(sizes)
