"""Counting round trips on a real connection.

A round trip is one write of commands to the socket followed by reading their
replies; redis.asyncio sends every command, pipeline or transaction through
``send_packed_command``, so counting its calls counts round trips exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, ConnectionPool

__all__ = ["CountingConnection", "RoundTripCounter", "counting_cluster", "counting_pool"]


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

    Use it through ``Redis(connection_pool=counting_pool(host, port, tally))`` or
    ``counting_cluster(host, port, tally)``.
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


def counting_pool(
    host: str, port: int, counter: RoundTripCounter, **options: Any
) -> ConnectionPool:
    """A connection pool whose connections count round trips into ``counter``."""
    return ConnectionPool(
        host=host, port=port, connection_class=CountingConnection, counter=counter, **options
    )


def counting_cluster(
    host: str, port: int, counter: RoundTripCounter, **options: Any
) -> RedisCluster:
    """A ``RedisCluster`` whose connections, to every node, count into ``counter``."""
    client = RedisCluster(host=host, port=port, **options)
    # RedisCluster takes no connection_class; every node, present or discovered
    # later, builds its connections from these shared keyword arguments.
    extra = {"connection_class": CountingConnection, "counter": counter}
    client.nodes_manager.connection_kwargs.update(extra)
    for node in client.nodes_manager.startup_nodes.values():
        node.connection_class = CountingConnection
        node.connection_kwargs["counter"] = counter
    return client
