"""The options of ``instrument()`` / ``@instrumented``, checked once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .privacy import DEFAULT_HASH_KEY, SessionIdMode, check_session_id_mode

__all__ = ["InstrumentationOptions"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED = {"operation", "outcome", "error_type", "signal", "le", "quantile"}


@dataclass(frozen=True)
class InstrumentationOptions:
    """See :func:`openai_agents_session.instrument` for what each option does."""

    tracer_provider: TracerProvider | None = None
    registry: CollectorRegistry | None = None
    logger: Any | None = None
    session_id_mode: SessionIdMode = "hashed"
    session_id_key: bytes = DEFAULT_HASH_KEY
    slow_threshold_seconds: float = 0.25
    capture_content: bool = False
    labels: Mapping[str, str] | None = None
    labels_from_context: Callable[[Any], Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        check_session_id_mode(self.session_id_mode)
        if isinstance(self.session_id_key, str):
            object.__setattr__(self, "session_id_key", self.session_id_key.encode())
        if not isinstance(self.session_id_key, bytes) or not self.session_id_key:
            raise TypeError(
                f"session_id_key must be non-empty bytes or str, got {self.session_id_key!r:.40}"
            )
        threshold = self.slow_threshold_seconds
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
            raise ValueError(f"slow_threshold_seconds must be a positive number, got {threshold!r}")
        for name, value in (self.labels or {}).items():
            if not isinstance(name, str) or not _LABEL_NAME.match(name) or name in _RESERVED:
                raise ValueError(
                    f"label name {name!r} is not allowed: use [a-zA-Z_][a-zA-Z0-9_]* and none "
                    f"of {sorted(_RESERVED)}"
                )
            if not isinstance(value, str):
                raise TypeError(f"label {name!r} needs a str default value, got {value!r:.40}")
        if self.labels_from_context is not None and not self.labels:
            raise ValueError(
                "labels_from_context needs `labels` declaring the label names and their "
                "default values, e.g. labels={'tenant': 'unknown'}"
            )
