"""Every contender as a factory of session objects over one shared client.

A contender knows how to build a session for an id, where that session's items
live (so the harness can pre-fill lists with raw ``RPUSH``) and a pattern that
matches every key a session with a distinctive id owns (for ``MEMORY USAGE``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents.extensions.memory import RedisSession as SdkRedisSession
from baselines import FloorSession, SeedPatternSession
from redis.asyncio import Redis
from telemetry_setups import BareSpanSession, TelemetrySetup, metrics_and_logs, sampled_spans

from openai_agents_session import RedisSession

__all__ = ["Contender", "SessionConfig", "build_contenders", "instrumentation_available"]

FLOOR = "floor"
OURS = "ours"
OURS_METRICS_LOGS = "ours+metrics+logs"
OURS_SPANS = "ours+spans"
OURS_BARE_SPAN = "ours+bare SDK span"
SDK = "sdk"
SEED = "seed pattern"


@dataclass(frozen=True)
class SessionConfig:
    ttl: int = 3600
    max_items: int = 1000


@dataclass
class Contender:
    name: str
    description: str
    make: Callable[[Redis, str], Any]
    list_key: Callable[[str], str]
    key_pattern: Callable[[str], str]
    setup: TelemetrySetup | None = field(default=None, repr=False)

    def session(self, client: Redis, session_id: str) -> Any:
        return self.make(client, session_id)


def instrumentation_available() -> bool:
    try:
        from openai_agents_session import instrument  # noqa: F401
    except ImportError:
        return False
    return True


def _ours(config: SessionConfig, prefix: str) -> Callable[[Redis, str], RedisSession]:
    def make(client: Redis, session_id: str) -> RedisSession:
        return RedisSession(
            session_id, client, key_prefix=prefix, ttl=config.ttl, max_items=config.max_items
        )

    return make


def _instrumented(
    config: SessionConfig, prefix: str, setup: TelemetrySetup
) -> Callable[[Redis, str], Any]:
    from openai_agents_session import instrument

    inner = _ours(config, prefix)

    def make(client: Redis, session_id: str) -> Any:
        return instrument(inner(client, session_id), **setup.instrument_kwargs())

    return make


def _bare_span(
    config: SessionConfig, prefix: str, setup: TelemetrySetup
) -> Callable[[Redis, str], Any]:
    inner = _ours(config, prefix)
    provider = setup.tracer_provider
    assert provider is not None

    def make(client: Redis, session_id: str) -> Any:
        return BareSpanSession(inner(client, session_id), provider)

    return make


def build_contenders(config: SessionConfig, *, instrumented: bool) -> list[Contender]:
    """All contenders; the two instrumented ones only when ``instrumented``."""
    contenders = [
        Contender(
            FLOOR,
            "redis-py: json.dumps + RPUSH; LRANGE + json.loads; RPOP + json.loads; DEL",
            lambda client, sid: FloorSession(client, f"bench:floor:{sid}"),
            lambda sid: f"bench:floor:{sid}",
            lambda sid: f"bench:floor:{sid}",
        ),
        Contender(
            OURS,
            f"openai_agents_session.RedisSession(ttl={config.ttl}, max_items={config.max_items})",
            _ours(config, "bench:ours"),
            lambda sid: f"bench:ours:{sid}",
            # The list, and companion keys that embed the list's name in a hash tag.
            lambda sid: f"*bench:ours:{sid}*",
        ),
    ]
    if instrumented:
        logs = metrics_and_logs()
        spans = sampled_spans()
        bare = sampled_spans()
        contenders += [
            Contender(
                OURS_METRICS_LOGS,
                "ours wrapped by instrument(): Prometheus metrics, structlog at INFO, "
                "OpenTelemetry API without an SDK provider",
                _instrumented(config, "bench:ours-ml", logs),
                lambda sid: f"bench:ours-ml:{sid}",
                lambda sid: f"*bench:ours-ml:{sid}*",
                logs,
            ),
            Contender(
                OURS_SPANS,
                "ours wrapped by instrument(): as above plus every span sampled and "
                "exported by a BatchSpanProcessor to a null exporter",
                _instrumented(config, "bench:ours-sp", spans),
                lambda sid: f"bench:ours-sp:{sid}",
                lambda sid: f"*bench:ours-sp:{sid}*",
                spans,
            ),
            Contender(
                OURS_BARE_SPAN,
                "ours inside one SDK span per operation, nothing else: no attributes, "
                "metrics or logs; same provider and BatchSpanProcessor as ours+spans. The "
                "floor of any span instrumentation",
                _bare_span(config, "bench:ours-bs", bare),
                lambda sid: f"bench:ours-bs:{sid}",
                lambda sid: f"*bench:ours-bs:{sid}*",
                bare,
            ),
        ]
    contenders += [
        Contender(
            SDK,
            f"agents.extensions.memory.RedisSession(ttl={config.ttl})",
            lambda client, sid: SdkRedisSession(
                sid, redis_client=client, key_prefix="bench:sdk", ttl=config.ttl
            ),
            lambda sid: f"bench:sdk:{sid}:messages",
            lambda sid: f"bench:sdk:{sid}*",
        ),
        Contender(
            SEED,
            f"RPUSH then EXPIRE {config.ttl}; LRANGE then EXPIRE; RPOP then EXPIRE; DEL",
            lambda client, sid: SeedPatternSession(client, f"bench:seed:{sid}", config.ttl),
            lambda sid: f"bench:seed:{sid}",
            lambda sid: f"bench:seed:{sid}",
        ),
    ]
    return contenders
