"""No content and no raw session id in any signal unless the app opts in."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from openai_agents_session import RedisSession, SessionKeyTypeError, instrument
from openai_agents_session.instrumentation import conversation_id

SECRET_ID = "alice@example.com"
SECRET_TEXT = "my card number is 4111"


async def _exercise(session: Any, client: Redis) -> list[Any]:
    with capture_logs() as logs:
        await session.add_items([{"role": "user", "content": SECRET_TEXT}])
        await session.get_items()
        await session.pop_item()
        await client.set("openai_agents_session:" + SECRET_ID + "-x", "x")
        await session.clear_session()
    return logs


def _everything(exporter: InMemorySpanExporter, registry: CollectorRegistry, logs: Any) -> str:
    spans = [
        json.dumps(
            {
                "name": s.name,
                "attributes": dict(s.attributes or {}),
                "events": [dict(e.attributes or {}) for e in s.events],
                "status": s.status.description,
            }
        )
        for s in exporter.get_finished_spans()
    ]
    return "\n".join([*spans, generate_latest(registry).decode(), json.dumps(logs, default=str)])


async def test_default_signals_hold_no_content_and_no_raw_session_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client), tracer_provider=provider, registry=registry
    )
    text = _everything(exporter, registry, await _exercise(session, valkey_client))
    assert SECRET_ID not in text
    assert "alice" not in text
    assert SECRET_TEXT not in text
    assert "gen_ai.conversation.id" in text  # hashed, present


async def test_raw_mode_shows_the_session_id_but_still_no_content(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client),
        tracer_provider=provider,
        registry=registry,
        session_id_mode="raw",
    )
    logs = await _exercise(session, valkey_client)
    spans = exporter.get_finished_spans()
    assert spans[0].attributes is not None
    assert spans[0].attributes["gen_ai.conversation.id"] == SECRET_ID
    assert logs[0]["session"] == SECRET_ID
    assert SECRET_ID not in generate_latest(registry).decode()
    assert SECRET_TEXT not in _everything(exporter, registry, logs)


async def test_none_mode_drops_the_session_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession(SECRET_ID, valkey_client),
        tracer_provider=provider,
        registry=registry,
        session_id_mode="none",
    )
    logs = await _exercise(session, valkey_client)
    assert "gen_ai.conversation.id" not in _everything(exporter, registry, logs)
    assert "session" not in logs[0]


async def test_capture_content_is_opt_in(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(
        RedisSession("content", valkey_client),
        tracer_provider=provider,
        registry=registry,
        capture_content=True,
    )
    logs = await _exercise(session, valkey_client)
    assert logs[0]["content"] == [{"role": "user", "content": SECRET_TEXT}]
    add_span = exporter.get_finished_spans()[0]
    assert SECRET_TEXT in add_span.events[0].attributes["openai_agents_session.content"]  # type: ignore[index]
    assert SECRET_TEXT not in generate_latest(registry).decode()


async def test_hash_key_changes_the_conversation_id(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    for key in (b"one", b"two"):
        session = instrument(
            RedisSession("same-id", valkey_client),
            tracer_provider=provider,
            registry=registry,
            session_id_key=key,
        )
        await session.get_items()
    first, second = (s.attributes["gen_ai.conversation.id"] for s in exporter.get_finished_spans())  # type: ignore[index]
    assert first != second


HOSTILE_IDS = ["back\\slash", "new\nline", "tab\there", "both'\"quotes", "ünï\u2028cødé"]


class FailingSession:
    """Fails the way stores do: with the session's key in the message, as repr shows it."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id

    async def get_items(self, limit: int | None = None) -> Any:
        key = f"openai_agents_session:{self.session_id}"
        try:
            raise KeyError(key)
        except KeyError as inner:
            raise RuntimeError(f"cannot read {key!r} ({key.encode()!r})") from inner

    async def add_items(self, items: Any) -> None: ...

    async def pop_item(self) -> Any: ...

    async def clear_session(self) -> None: ...


def _forms(session_id: str) -> list[str]:
    encoded = session_id.encode()
    return [
        session_id,
        repr(session_id)[1:-1],
        repr(encoded)[2:-1],
        json.dumps(session_id)[1:-1],
        session_id.encode("unicode_escape").decode(),
    ]


@pytest.mark.parametrize("session_id", HOSTILE_IDS)
async def test_error_text_holds_no_form_of_the_session_id(
    session_id: str, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(FailingSession(session_id), tracer_provider=provider, registry=registry)
    with capture_logs() as logs, pytest.raises(RuntimeError) as raised:
        await session.get_items()
    key = f"openai_agents_session:{session_id}"
    assert repr(key) in str(raised.value)  # the caller's exception is untouched
    event = exporter.get_finished_spans()[-1].events[0].attributes or {}
    texts = [str(event["exception.message"]), str(event["exception.stacktrace"])]
    texts += [json.dumps(logs, default=str), repr(logs)]
    for text in texts:
        for form in _forms(session_id):
            assert form not in text, (form, text)
    stack = str(event["exception.stacktrace"])
    assert stack.startswith("Traceback (most recent call last):")
    assert "builtins.KeyError" not in stack and "KeyError: " in stack  # the chain is kept
    assert "direct cause" in stack and "RuntimeError: " in stack
    assert "withheld" in str(event["exception.message"])


async def test_a_short_session_id_does_not_garble_other_text(
    provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    class Unreachable(FailingSession):
        async def get_items(self, limit: int | None = None) -> Any:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    session = instrument(Unreachable("1"), tracer_provider=provider, registry=registry)
    with capture_logs() as logs, pytest.raises(ConnectionError):
        await session.get_items()
    message = str(
        (exporter.get_finished_spans()[-1].events[0].attributes or {})["exception.message"]
    )
    # The whole message (a connection error cannot hold a key): never a rewritten one.
    assert message == "Error 111 connecting to 127.0.0.1:6379. Connection refused."
    conversation = exporter.get_finished_spans()[-1].attributes["gen_ai.conversation.id"]  # type: ignore[index]
    assert str(conversation) not in json.dumps(logs, default=str).replace(
        f'"session": "{conversation}"', ""
    )


class KeyedSession(FailingSession):
    """Fails with an error of ``kind`` whose own text names the session's file or key."""

    def __init__(self, session_id: str, kind: str) -> None:
        super().__init__(session_id)
        self.kind = kind

    async def get_items(self, limit: int | None = None) -> Any:
        if self.kind == "file":
            # A real error of the file system, for a store with a file per session.
            path = Path(f"/nonexistent-directory/{self.session_id}.json")
            return await asyncio.to_thread(path.read_text)

        class SessionUnavailable(ConnectionError):
            pass

        raise SessionUnavailable(f"session openai_agents_session:{self.session_id} unavailable")


@pytest.mark.parametrize("kind", ["file", "own-subclass"])
async def test_an_error_that_can_name_the_session_is_withheld_even_if_it_looks_like_io(
    kind: str, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session = instrument(KeyedSession("alice-1", kind), tracer_provider=provider, registry=registry)
    with capture_logs() as logs, pytest.raises(OSError) as raised:
        await session.get_items()
    assert "alice-1" in str(raised.value)
    assert logs[-1]["error"].startswith("(message withheld: it names the session")
    assert "alice-1" not in _everything(exporter, registry, logs)


SECRET_LIMIT = "SECRET-LIMIT-123"


async def _bad_limit_call(
    inner: Any, provider: Any, registry: CollectorRegistry, **options: Any
) -> tuple[BaseException, list[Any]]:
    """``get_items(limit=SECRET_LIMIT)`` on ``inner`` directly, then instrumented.

    Returns the instrumented call's exception after checking it is the one the
    inner session raises, and the log events of that call.
    """
    with pytest.raises(Exception) as direct:
        await inner.get_items(limit=SECRET_LIMIT)
    session = instrument(inner, tracer_provider=provider, registry=registry, **options)
    with capture_logs() as logs, pytest.raises(type(direct.value)) as raised:
        await session.get_items(limit=SECRET_LIMIT)
    assert str(raised.value) == str(direct.value)
    return raised.value, logs


async def test_a_bad_limit_reaches_no_signal_through_the_sdks_sqlite_session(
    provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    from agents import SQLiteSession

    inner = SQLiteSession("bad-limit")
    try:
        _, logs = await _bad_limit_call(inner, provider, registry)
    finally:
        inner.close()
    assert logs[-1]["event"] == "session.operation_failed"
    assert "limit" not in logs[-1]
    assert (exporter.get_finished_spans()[-1].attributes or {}).get(
        "openai_agents_session.limit"
    ) is None
    assert SECRET_LIMIT not in _everything(exporter, registry, logs)


async def test_a_bad_limit_reaches_no_signal_through_redis_session(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    store = RedisSession("bad-limit", valkey_client)
    _, logs = await _bad_limit_call(store, provider, registry)
    assert logs[-1]["error_type"] == "serialization"
    assert "str" in logs[-1]["error"]  # the type is told: by the store or by the notice
    assert SECRET_LIMIT not in _everything(exporter, registry, logs)


class EchoingSession(FailingSession):
    """Rejects a bad limit the way many sessions do: by quoting it, maybe cut short."""

    def __init__(self, session_id: str, shown: int) -> None:
        super().__init__(session_id)
        self.shown = shown

    async def get_items(self, limit: int | None = None) -> Any:
        if not isinstance(limit, int):
            raise ValueError(f"limit must be a number, got {limit!r:.{self.shown}}")
        return []


@pytest.mark.parametrize("mode", ["hashed", "raw"])
@pytest.mark.parametrize("shown", [80, 16], ids=["whole", "cut-short"])
async def test_an_error_echoing_a_bad_limit_is_withheld_and_names_its_type(
    mode: str,
    shown: int,
    provider: Any,
    exporter: InMemorySpanExporter,
    registry: CollectorRegistry,
) -> None:
    exc, logs = await _bad_limit_call(
        EchoingSession("echo", shown), provider, registry, session_id_mode=mode
    )
    assert SECRET_LIMIT[:15] in str(exc)  # the caller's own exception keeps it
    notice = "(message withheld: it repeats the limit argument, a str)"
    assert logs[-1]["error"] == notice
    event = exporter.get_finished_spans()[-1].events[0].attributes or {}
    assert event["exception.message"] == notice
    assert f"ValueError: {notice}" in str(event["exception.stacktrace"])
    assert SECRET_LIMIT[:15] not in _everything(exporter, registry, logs)


async def test_only_an_int_limit_is_recorded(
    provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    class Accepting(FailingSession):
        async def get_items(self, limit: int | None = None) -> Any:
            return []

    session = instrument(Accepting("limits"), tracer_provider=provider, registry=registry)
    with capture_logs() as logs:
        for limit in (3, True, "3", 2.0, None):
            await session.get_items(limit)  # type: ignore[arg-type]
    recorded = [
        (span.attributes or {}).get("openai_agents_session.limit")
        for span in exporter.get_finished_spans()
    ]
    assert recorded == [3, None, None, None, None]
    assert [entry.get("limit") for entry in logs] == [3, None, None, None, None]


async def test_a_store_error_describes_itself_without_its_key(
    valkey_client: Redis, provider: Any, exporter: InMemorySpanExporter, registry: CollectorRegistry
) -> None:
    session_id = "tab\there 'and' \"quotes\""
    store = RedisSession(session_id, valkey_client)
    await valkey_client.set(store.key, "not a list", ex=60)
    session = instrument(store, tracer_provider=provider, registry=registry)
    with pytest.raises(SessionKeyTypeError):
        await session.get_items()
    span = exporter.get_finished_spans()[-1]
    message = str((span.events[0].attributes or {})["exception.message"])
    conversation = (span.attributes or {})["gen_ai.conversation.id"]
    assert message == (
        f"a Redis key of session {conversation} holds a string, not a list of session items; "
        "nothing was changed"
    )
    await valkey_client.delete(store.key)


KEY_CHECK = """
import warnings
from openai_agents_session.instrumentation import conversation_id
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first = conversation_id("user-48213")
    second = conversation_id("user-48213")
print(first, second, len(caught))
"""


def _conversation_in_new_process(environment: dict[str, str]) -> tuple[str, str, str]:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENAI_AGENTS_SESSION_ID_KEY"}
    done = subprocess.run(
        [sys.executable, "-c", KEY_CHECK],
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    first, second, warnings_seen = done.stdout.split()
    return first, second, warnings_seen


def test_without_a_key_each_process_hashes_with_its_own_random_key_and_warns_once() -> None:
    one = _conversation_in_new_process({})
    two = _conversation_in_new_process({})
    assert one[0] == one[1] and two[0] == two[1]  # stable within a process
    assert one[0] != two[0]  # not guessable from a public constant
    assert one[2] == two[2] == "1"
    assert conversation_id("user-48213", "hashed", b"openai-agents-session") not in (one[0], two[0])


def test_a_key_from_the_environment_joins_processes_without_a_warning() -> None:
    one = _conversation_in_new_process({"OPENAI_AGENTS_SESSION_ID_KEY": "shared-secret"})
    two = _conversation_in_new_process({"OPENAI_AGENTS_SESSION_ID_KEY": "shared-secret"})
    assert one == two
    assert one[0] == conversation_id("user-48213", "hashed", "shared-secret")
    assert one[2] == "0"
