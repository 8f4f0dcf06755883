"""The options of ``instrument()`` / ``@instrumented``, checked once."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from .privacy import SessionIdMode, check_session_id_mode, resolve_hash_key

__all__ = ["CAPTURE_CONTENT_VARIABLE", "InstrumentationOptions"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED = {"operation", "outcome", "error_type", "signal", "le", "quantile"}
# The GenAI instrumentations' switch for message content; it sets our default.
CAPTURE_CONTENT_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_CONTENT_ON = {"true", "1", "yes", "span_only", "event_only", "span_and_event"}


@dataclass(frozen=True)
class InstrumentationOptions:
    """See :func:`openai_agents_session.instrument` for what each option does."""

    tracer_provider: TracerProvider | None = None
    registry: CollectorRegistry | None = None
    logger: Any | None = None
    session_id_mode: SessionIdMode = "hashed"
    session_id_key: bytes | str | None = None
    slow_threshold_seconds: float = 0.25
    capture_content: bool | None = None
    labels: Mapping[str, str] | None = None
    labels_from_context: Callable[[Any], Mapping[str, str]] | None = None
    otel_metrics: bool = False
    meter_provider: MeterProvider | None = None
    prometheus: bool = True
    # Resolved from the options above and the environment.
    hash_key: bytes = field(init=False, default=b"")
    content: bool = field(init=False, default=False)

    @property
    def otel(self) -> bool:
        """Whether metrics also go through the OpenTelemetry metrics API."""
        return self.otel_metrics or self.meter_provider is not None

    def __post_init__(self) -> None:
        check_session_id_mode(self.session_id_mode)
        if self.session_id_mode == "hashed":
            object.__setattr__(self, "hash_key", resolve_hash_key(self.session_id_key))
        elif self.session_id_key is not None:
            resolve_hash_key(self.session_id_key)  # still refuse a bad key
        content = self.capture_content
        if content is None:
            content = os.environ.get(CAPTURE_CONTENT_VARIABLE, "").strip().lower() in _CONTENT_ON
        object.__setattr__(self, "content", bool(content))
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
        if not self.prometheus and self.registry is not None:
            raise ValueError(
                "registry is where Prometheus metrics go, and prometheus=False turns them "
                "off: pass one or the other"
            )
        if self.labels_from_context is not None and not self.labels:
            raise ValueError(
                "labels_from_context needs `labels` declaring the label names and their "
                "default values, e.g. labels={'tenant': 'unknown'}"
            )
