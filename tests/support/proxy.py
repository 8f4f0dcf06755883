"""A loopback TCP proxy that injects connection faults between a client and a server.

``FaultProxy`` listens on 127.0.0.1 and relays bytes to a Redis/Valkey server. It
reads the RESP protocol in both directions, so a fault hits one *command*, at a
precise point of its life:

* ``drop``: the command never reaches the server; the connection is reset.
* ``cut_request``: half of the command's bytes reach the server, then the
  connection is reset (the server discards the incomplete command).
* ``stall_request``: the command is held for ``seconds``, then delivered even if
  the client gave up on it meanwhile (a late packet).
* ``cut_reply``: the server runs the command; its reply is discarded and the
  connection reset, so the client cannot tell whether it was applied.
* ``stall_reply``: the reply is held for ``seconds``, then delivered if the client
  still listens (a client socket timeout fires first when it is shorter).

Example::

    async with FaultProxy(server.port, faults=[Fault("cut_reply", commands=("EVALSHA",),
                                                     every=4)]) as proxy:
        client = redis.asyncio.Redis(port=proxy.port)

Replies are matched to commands by order, which holds for RESP2 and for RESP3
without push messages (no client tracking, no pub/sub through the proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Fault", "FaultAction", "FaultProxy", "ProxyStats"]

FaultAction = Literal["drop", "cut_request", "stall_request", "cut_reply", "stall_reply"]
_ACTIONS = ("drop", "cut_request", "stall_request", "cut_reply", "stall_reply")
_READ_SIZE = 1 << 16
# How long a link whose client left waits for the server's last replies.
_DRAIN_SECONDS = 5.0


@dataclass
class Fault:
    """Inject ``action`` into every ``every``-th command that matches.

    Args:
        action: where the connection fails (see the module docstring).
        commands: command names that match (case-insensitive); empty = any command.
        every: fire on the ``every``-th, ``2 * every``-th... matching command,
            counted across all connections (client retries count too).
        times: fire at most this many times; ``None`` = no limit.
        seconds: how long a stall holds the command or its reply.
        when: an extra test on the command's arguments (``args[0]`` is its name).
    """

    action: FaultAction
    commands: Sequence[str] = ()
    every: int = 1
    times: int | None = None
    seconds: float = 0.0
    when: Callable[[Sequence[bytes]], bool] | None = None
    matched: int = 0
    fired: int = 0
    _names: frozenset[bytes] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.action not in _ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {_ACTIONS}")
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every!r}")
        self._names = frozenset(name.upper().encode() for name in self.commands)

    def _fires_on(self, args: Sequence[bytes]) -> bool:
        if self._names and (not args or args[0].upper() not in self._names):
            return False
        if self.when is not None and not self.when(args):
            return False
        self.matched += 1
        if self.matched % self.every or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass
class ProxyStats:
    """What went through the proxy."""

    connections: int = 0
    commands: int = 0
    replies: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_ACTIONS, 0))


class FaultProxy:
    """Relay 127.0.0.1:``port`` to ``upstream_host``:``upstream_port``, injecting faults."""

    def __init__(
        self,
        upstream_port: int,
        upstream_host: str = "127.0.0.1",
        *,
        faults: Iterable[Fault] = (),
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = "127.0.0.1"
        self.port = 0
        self.faults: list[Fault] = list(faults)
        self.stats = ProxyStats()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._busy_count = 0  # stalls in progress, links finishing after their client left
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until every stalled command was delivered and answered by the server.

        A stalled request is delivered even after its client gave up; once this
        returns, the server has run it (or the connection failed).
        """
        await asyncio.wait_for(self._idle.wait(), timeout)

    @contextlib.contextmanager
    def _busy(self) -> Iterator[None]:
        self._busy_count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy_count -= 1
            if not self._busy_count:
                self._idle.set()

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        """Stop listening and reset every connection; idempotent."""
        if self._server is not None:
            self._server.close()
            self._server = None
        links = list(self._links)
        for link in links:
            link.abort()
        for link in links:
            await link.finished()

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _fault_for(self, args: Sequence[bytes]) -> Fault | None:
        for fault in self.faults:
            if fault._fires_on(args):
                self.stats.faults[fault.action] += 1
                return fault
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(writer)
            return
        self.stats.connections += 1
        link = _Link(self, reader, writer, up_reader, up_writer)
        self._links.add(link)
        try:
            await link.run()
        finally:
            self._links.discard(link)


class _Link:
    """One client connection and its server connection."""

    def __init__(
        self,
        proxy: FaultProxy,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        server_reader: asyncio.StreamReader,
        server_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.client = (client_reader, client_writer)
        self.server = (server_reader, server_writer)
        self.sent = 0  # commands forwarded to the server on this link
        self.replied = 0  # replies the server sent back on this link
        self.answered = asyncio.Event()  # set whenever replied catches up with sent
        self.reply_faults: dict[int, Fault] = {}
        self._done = asyncio.Event()

    async def run(self) -> None:
        try:
            await asyncio.gather(self._requests(), self._replies(), return_exceptions=True)
        finally:
            self.abort()
            self._done.set()

    async def finished(self) -> None:
        await self._done.wait()

    def abort(self) -> None:
        _abort(self.client[1])
        _abort(self.server[1])

    async def _requests(self) -> None:
        reader, server_writer = self.client[0], self.server[1]
        buffer = bytearray()
        try:
            while data := await reader.read(_READ_SIZE):
                buffer += data
                relay = bytearray()
                while (parsed := parse_command(buffer)) is not None:
                    end, args = parsed
                    command = bytes(buffer[:end])
                    del buffer[:end]
                    self.proxy.stats.commands += 1
                    fault = self.proxy._fault_for(args)
                    if fault is None:
                        relay += command
                        self.sent += 1
                        continue
                    server_writer.write(relay)
                    relay = bytearray()
                    if not await self._inject(fault, command):
                        return
                server_writer.write(relay)
                await server_writer.drain()
        except (ConnectionError, OSError):
            self.abort()
            return
        # The client left: let the server answer what it was sent, then close.
        with self.proxy._busy(), contextlib.suppress(asyncio.TimeoutError):
            while True:
                self.answered.clear()
                if self.replied >= self.sent or self.server[0].at_eof():
                    break
                await asyncio.wait_for(self.answered.wait(), _DRAIN_SECONDS)
        server_writer.close()

    async def _inject(self, fault: Fault, command: bytes) -> bool:
        """Apply a request-side fault; ``False`` when the link is gone."""
        server_writer = self.server[1]
        if fault.action == "drop":
            self.abort()
            return False
        if fault.action == "cut_request":
            server_writer.write(command[: max(1, len(command) // 2)])
            await server_writer.drain()
            self.abort()
            return False
        if fault.action == "stall_request":
            with self.proxy._busy():
                await asyncio.sleep(fault.seconds)
        else:
            self.reply_faults[self.sent] = fault
        server_writer.write(command)
        self.sent += 1
        await server_writer.drain()
        return True

    async def _replies(self) -> None:
        reader, client_writer = self.server[0], self.client[1]
        buffer = bytearray()
        try:
            while data := await reader.read(_READ_SIZE):
                buffer += data
                relay = bytearray()
                while (end := reply_end(buffer)) is not None:
                    reply = bytes(buffer[:end])
                    del buffer[:end]
                    self.proxy.stats.replies += 1
                    fault = self.reply_faults.pop(self.replied, None)
                    self.replied += 1
                    self.answered.set()
                    if fault is None:
                        relay += reply
                        continue
                    client_writer.write(relay)
                    relay = bytearray()
                    if fault.action == "cut_reply":
                        self.abort()
                        return
                    with self.proxy._busy():
                        await asyncio.sleep(fault.seconds)
                    client_writer.write(reply)
                client_writer.write(relay)
                await client_writer.drain()
        except (ConnectionError, OSError):
            pass  # either side went away: reset both below
        # The server closed (or died): the client sees its connection reset.
        self.answered.set()
        self.abort()


def _abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()


def _line(buffer: bytearray, pos: int) -> tuple[bytes, int] | None:
    end = buffer.find(b"\r\n", pos)
    return None if end < 0 else (bytes(buffer[pos:end]), end + 2)


def parse_command(buffer: bytearray) -> tuple[int, list[bytes]] | None:
    """(length, arguments) of the first complete client command, or ``None``."""
    if not buffer:
        return None
    if buffer[:1] != b"*":  # an inline command: one line of words
        end = buffer.find(b"\n")
        return None if end < 0 else (end + 1, bytes(buffer[:end]).split())
    header = _line(buffer, 0)
    if header is None:
        return None
    count, pos = int(header[0][1:]), header[1]
    args: list[bytes] = []
    for _ in range(max(count, 0)):
        length_line = _line(buffer, pos)
        if length_line is None:
            return None
        length, pos = int(length_line[0][1:]), length_line[1]
        if len(buffer) < pos + length + 2:
            return None
        args.append(bytes(buffer[pos : pos + length]))
        pos += length + 2
    return pos, args


def reply_end(buffer: bytearray) -> int | None:
    """Where the first complete RESP2/RESP3 reply in ``buffer`` ends, or ``None``."""
    pos, pending = 0, 1
    while pending:
        line = _line(buffer, pos)
        if line is None:
            return None
        head, pos = line
        pending -= 1
        kind, size = head[:1], head[1:]
        if kind in (b"$", b"!", b"="):  # bulk string, bulk error, verbatim string
            length = int(size)
            if length >= 0:
                if len(buffer) < pos + length + 2:
                    return None
                pos += length + 2
        elif kind in (b"*", b"~", b">"):  # array, set, push
            pending += max(int(size), 0)
        elif kind == b"%":  # map: key and value per entry
            pending += 2 * int(size)
        elif kind == b"|":  # attributes, then the reply they describe
            pending += 2 * int(size) + 1
    return pos
