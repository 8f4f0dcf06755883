"""Counting round trips on a real connection.

A round trip is one write of commands to the socket followed by reading their
replies; redis.asyncio sends every command, pipeline or transaction through
``send_packed_command``, so counting its calls counts round trips exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio.connection import Connection

__all__ = ["CountingConnection", "RoundTripCounter"]


class RoundTripCounter:
    """Shared tally of round trips and the commands each one carried."""

    def __init__(self) -> None:
        self.round_trips = 0
        self.commands: list[list[str]] = []

    def reset(self) -> None:
        self.round_trips = 0
        self.commands.clear()


class CountingConnection(Connection):
    """A ``Connection`` that records each round trip in ``counter``.

    Use it as ``Redis(connection_class=CountingConnection, counter=tally)`` (or
    ``RedisCluster(..., connection_class=CountingConnection, counter=tally)``).
    """

    def __init__(self, *args: Any, counter: RoundTripCounter | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.counter = counter

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        if self.counter is not None and self.is_connected:
            self.counter.round_trips += 1
            self.counter.commands.append(_command_names(command))
        await super().send_packed_command(command, check_health)


def _command_names(packed: bytes | str | Iterable[bytes]) -> list[str]:
    data = packed if isinstance(packed, (bytes, str)) else b"".join(packed)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    # RESP arrays: "*N\r\n$len\r\nNAME\r\n..."; the name follows each array header.
    names = []
    lines = text.split("\r\n")
    for index, line in enumerate(lines):
        if line.startswith("*") and index + 2 < len(lines):
            names.append(lines[index + 2].upper())
    return names
