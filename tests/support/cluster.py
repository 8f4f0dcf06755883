"""A throwaway Redis Cluster on loopback ports, with optional replicas, and the
moves an operator makes on one: migrating a slot by hand, resharding, failing over.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .servers import ServerProcess, command

__all__ = ["Cluster", "SlotMigration"]

_SLOTS = 16384


class Cluster:
    """A Redis Cluster of ``primaries`` nodes, each with ``replicas`` replicas.

    ``node_timeout_ms`` is the cluster's failure-detection time (a primary killed
    is replaced by its replica about that long after).
    """

    def __init__(
        self,
        binary: Path | None = None,
        primaries: int = 3,
        *,
        replicas: int = 0,
        node_timeout_ms: int = 5000,
    ) -> None:
        config = {
            "cluster-enabled": "yes",
            "cluster-config-file": "nodes.conf",
            "cluster-node-timeout": str(node_timeout_ms),
            "cluster-require-full-coverage": "yes",
        }
        self.primaries = [ServerProcess(binary, config=config) for _ in range(primaries)]
        self.replicas = [ServerProcess(binary, config=config) for _ in range(primaries * replicas)]
        self.nodes = [*self.primaries, *self.replicas]
        self._replicas_per_primary = replicas

    @property
    def startup_nodes(self) -> list[tuple[str, int]]:
        return [(node.host, node.port) for node in self.primaries]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.primaries[0].port}"

    def start(self, timeout: float = 30.0) -> Cluster:
        try:
            for node in self.nodes:
                node.start()
            per_node = _SLOTS // len(self.primaries)
            for index, node in enumerate(self.primaries):
                first = index * per_node
                last = _SLOTS - 1 if index == len(self.primaries) - 1 else first + per_node - 1
                command(node.client(), "CLUSTER ADDSLOTSRANGE", first, last)
            seed = self.nodes[0]
            for node in self.nodes[1:]:
                command(node.client(), "CLUSTER MEET", seed.host, seed.port)
            self._wait(timeout, lambda: self._all_known())
            for index, replica in enumerate(self.replicas):
                primary = self.primaries[index // self._replicas_per_primary]
                command(replica.client(), "CLUSTER REPLICATE", node_id(primary))
            self._wait(timeout, lambda: self._all_ok() and self._replicas_synced())
        except BaseException:
            self.stop()
            raise
        return self

    def _all_known(self) -> bool:
        return all(
            int(node.client().cluster("INFO").get("cluster_known_nodes", 0)) == len(self.nodes)
            for node in self.nodes
        )

    def _all_ok(self) -> bool:
        return all(
            node.client().cluster("INFO").get("cluster_state") == "ok"
            for node in self.nodes
            if node.process is not None and node.process.poll() is None
        )

    def _replicas_synced(self) -> bool:
        return all(
            replica.client().info("replication").get("master_link_status") == "up"
            for replica in self.replicas
        )

    def _wait(self, timeout: float, done: Any) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if done():
                    return
            except Exception:  # a node between states answers oddly; ask again
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cluster did not settle in {timeout}s")

    def wait_until_ok(self, timeout: float = 30.0) -> None:
        """Until every running node reports ``cluster_state:ok``."""
        self._wait(timeout, self._all_ok)

    def owner_of(self, slot: int) -> ServerProcess:
        """The node serving ``slot`` now, as the first running primary sees it."""
        for node in self.nodes:
            if node.process is None or node.process.poll() is not None:
                continue
            for first, last, master, *_ in command(node.client(), "CLUSTER SLOTS"):
                if first <= slot <= last:
                    port = int(master[1])
                    return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"no node serves slot {slot}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def node_id(node: ServerProcess) -> str:
    value = command(node.client(), "CLUSTER MYID")
    return value.decode() if isinstance(value, bytes) else str(value)


class SlotMigration:
    """Moving one slot from ``source`` to ``target`` step by step, as redis-cli does.

    ``begin()`` marks the slot IMPORTING on the target and MIGRATING on the
    source; ``move(keys)`` migrates keys one ``MIGRATE`` at a time; ``finish()``
    moves what is left and assigns the slot to the target on every node.
    """

    def __init__(self, cluster: Cluster, slot: int, target: ServerProcess) -> None:
        self.cluster = cluster
        self.slot = slot
        self.source = cluster.owner_of(slot)
        self.target = target
        if self.source is target:
            raise ValueError(f"slot {slot} is already on port {target.port}")

    def begin(self) -> None:
        command(
            self.target.client(), "CLUSTER SETSLOT", self.slot, "IMPORTING", node_id(self.source)
        )
        command(
            self.source.client(), "CLUSTER SETSLOT", self.slot, "MIGRATING", node_id(self.target)
        )

    def move(self, keys: Iterable[str | bytes]) -> None:
        batch = list(keys)
        if batch:
            target = (self.target.host, self.target.port)
            command(self.source.client(), "MIGRATE", *target, "", 0, 5000, "KEYS", *batch)

    def remaining_keys(self) -> Sequence[bytes]:
        client = self.source.client()
        # As separate words: redis-py decodes the reply of "CLUSTER GETKEYSINSLOT" (and
        # mangles a key that is not UTF-8), not that of "CLUSTER".
        keys: list[bytes] = command(client, "CLUSTER", "GETKEYSINSLOT", self.slot, 100000)
        return keys

    def finish(self) -> None:
        while keys := self.remaining_keys():
            self.move(keys)
        target_id = node_id(self.target)
        for node in (self.target, self.source, *self.cluster.primaries):
            command(node.client(), "CLUSTER SETSLOT", self.slot, "NODE", target_id)
