"""Opt-in durability: wait for replicas (or AOF fsyncs) in the same round trip as a write.

Redis replicates asynchronously: a write acknowledged by the primary can be lost
if the primary fails before a replica has it. With ``durability=Durability(...)``
every write script is followed, in the same pipeline (one round trip), by
``WAIT numreplicas timeout`` or ``WAITAOF numlocal numreplicas timeout``. When fewer
replicas confirm than asked, or the server refuses the wait command itself (no
permission, unknown command), the call raises ``DurabilityError``: the write *was
applied* and must not be sent again as a new one. A durable ``pop_item`` that
cannot be confirmed hands its item over in ``DurabilityError.item``.
``aof=True`` is refused before the first write on a server without ``WAITAOF``
(Redis before 7.2).

What it does not give: ``WAIT`` does not make Redis strongly consistent. A replica
that confirmed can still lose the write if it fails too, or if a failover promotes
a replica that had not confirmed it. With Sentinel, promote only caught-up replicas
(``min-replicas-to-write`` on the primary narrows the window further).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import DurabilityError
from .validate import check_optional_positive_int

__all__ = ["Durability"]


@dataclass(frozen=True)
class Durability:
    """How many confirmations a write waits for.

    Args:
        replicas: replicas that must acknowledge the write (``WAIT``), or that must
            have fsynced it to their AOF when ``aof`` is set.
        timeout_ms: how long the server waits for them (0 would wait forever and is
            refused).
        aof: use ``WAITAOF`` (Redis/Valkey 7.2+): the primary's own AOF fsync plus
            ``replicas`` replica fsyncs.
    """

    replicas: int = 1
    timeout_ms: int = 1000
    aof: bool = False

    def __post_init__(self) -> None:
        if self.replicas != 0 or not self.aof:
            check_optional_positive_int("replicas", self.replicas)
        check_optional_positive_int("timeout_ms", self.timeout_ms)

    def command(self) -> tuple[Any, ...]:
        if self.aof:
            return ("WAITAOF", 1, self.replicas, self.timeout_ms)
        return ("WAIT", self.replicas, self.timeout_ms)

    def check(self, operation: str, reply: Any, waited: Any) -> None:
        """Raise ``DurabilityError`` unless ``waited`` confirms the applied write.

        ``reply`` is the write's own reply, kept on the error (a pop's item).
        """
        if isinstance(waited, BaseException):
            # Refused (unknown command, NOPERM, ...) or failed: applied, not confirmed.
            raise DurabilityError(
                operation,
                f"the server refused {self.command()[0]}: {waited}",
                cause=waited,
                item=reply,
            )
        if self.aof:
            local, replicas = int(waited[0]), int(waited[1])
            if local < 1:
                raise DurabilityError(
                    operation,
                    f"{local} of 1 local AOF fsyncs confirmed within {self.timeout_ms} ms "
                    "(is appendonly enabled?)",
                    required=1,
                    confirmed=local,
                    item=reply,
                )
            if replicas < self.replicas:
                raise DurabilityError(
                    operation,
                    f"{replicas} of {self.replicas} replica AOF fsyncs confirmed within "
                    f"{self.timeout_ms} ms",
                    required=self.replicas,
                    confirmed=replicas,
                    item=reply,
                )
            return
        if int(waited) < self.replicas:
            raise DurabilityError(
                operation,
                f"{int(waited)} of {self.replicas} replicas confirmed within {self.timeout_ms} ms",
                required=self.replicas,
                confirmed=int(waited),
                item=reply,
            )
