"""Credentials in every URL form stay off the screen; stored bytes never drive the terminal."""

from __future__ import annotations

import pytest

from openai_agents_session import RedisSession
from openai_agents_session._redaction import escape_control, redact_text, redact_url
from support import ServerProcess, free_port

from .conftest import Store, messages, run_cli

SECRET = "s3cret-Value"
ESCAPES = "\x1b[2J\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\x1b[31m\u202e"

URL_FORMS = [
    f"redis://:{SECRET}@127.0.0.1:{{port}}/0",
    f"redis://app:{SECRET}@127.0.0.1:{{port}}/0",
    f"redis://127.0.0.1:{{port}}/0?password={SECRET}",
    f"redis://127.0.0.1:{{port}}/0?username={SECRET}&password={SECRET}",
    f"redis://127.0.0.1:{{port}}/0?db=0&password={SECRET}",
]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"redis://app:{SECRET}@cache:6379/0", "redis://***@cache:6379/0"),
        (
            f"rediss://:{SECRET}@cache/0?ssl_ca_certs=/ca.pem",
            "rediss://***@cache/0?ssl_ca_certs=/ca.pem",
        ),
        (f"redis://cache/0?password={SECRET}&db=1", "redis://cache/0?password=***&db=1"),
        (f"redis://cache/0?db=1&username={SECRET}", "redis://cache/0?db=1&username=***"),
        (
            f"redis+sentinel://:{SECRET}@s1:26379,s2:26379/primary?password={SECRET}",
            "redis+sentinel://***@s1:26379,s2:26379/primary?password=***",
        ),
        (f"rediss://:{SECRET}@[::1/0", "rediss://***@[::1/0"),  # not even a valid URL
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_every_credential_form_is_redacted(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_text_quoting_a_secret_in_another_form_is_masked() -> None:
    url = "redis://:p%40ss-word@cache/0"

    assert redact_text("AUTH failed for p@ss-word and p%40ss-word", url) == (
        "AUTH failed for *** and ***"
    )


def test_control_characters_are_shown_as_escapes() -> None:
    assert escape_control("a\x1b[2Jb\n\t\x9b\u202ec é ok") == "a\\x1b[2Jb\\n\\t\\x9b\\u202ec é ok"


@pytest.mark.parametrize(
    "url",
    [
        f"redis+sentinel://:{SECRET}@127.0.0.1:26379/?password={SECRET}",
        f"http://user:{SECRET}@127.0.0.1/?password={SECRET}",
    ],
)
def test_from_url_errors_never_quote_credentials(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        RedisSession.from_url("s", url)

    assert SECRET not in str(raised.value)
    assert "***" in str(raised.value)


@pytest.mark.parametrize("form", URL_FORMS)
def test_connection_errors_never_quote_credentials(
    capsys: pytest.CaptureFixture[str], form: str
) -> None:
    url = form.format(port=free_port())

    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    assert "cannot reach Redis at redis://" in result.err
    assert SECRET not in result.err + result.out


@pytest.mark.parametrize(
    "url",
    [
        f"redis+sentinel://:{SECRET}@127.0.0.1:1/?password={SECRET}",
        f"ftp://:{SECRET}@127.0.0.1:1/?password={SECRET}",
        f"redis://127.0.0.1:1/?PASSWORD={SECRET}",  # an option redis-py does not know
    ],
)
def test_url_errors_never_quote_credentials(capsys: pytest.CaptureFixture[str], url: str) -> None:
    result = run_cli(capsys, ["sessions", "ls", "--redis-url", url])

    assert result.code == 2
    assert SECRET not in result.err + result.out


@pytest.mark.parametrize("form", URL_FORMS[::2])
def test_headers_prompts_and_summaries_never_quote_credentials(
    capsys: pytest.CaptureFixture[str], valkey_server: ServerProcess, form: str
) -> None:
    # Valkey without a password accepts any, so each form reaches a working server.
    store = Store(form.format(port=valkey_server.port), "redact", valkey_server.client(), capsys)
    store.write("kept", messages(1))
    try:
        outputs = [
            store.cli("sessions", "ls"),
            store.cli("sessions", "stats"),
            store.cli("sessions", "rm", "kept", stdin="n\n"),
            store.cli("sessions", "rm", "kept", "--dry-run"),
        ]
    finally:
        store.admin.delete(store.key("kept"))
        store.admin.close()

    for result in outputs:
        assert SECRET not in result.out + result.err
    assert "***" in outputs[0].out
    assert "***" in outputs[2].err


def test_hostile_ids_and_item_kinds_reach_the_terminal_escaped(valkey_store: Store) -> None:
    hostile_id = f"victim{ESCAPES}"
    valkey_store.write(
        hostile_id,
        [{"type": f"message{ESCAPES}", "role": f"user{ESCAPES}", "content": f"hi{ESCAPES}"}],
    )

    outputs = [
        valkey_store.cli("sessions", "ls"),
        valkey_store.cli("sessions", "show", hostile_id, "--content"),
        valkey_store.cli("sessions", "export", hostile_id, "-o", "/dev/null", "--force"),
        valkey_store.cli("sessions", "rm", hostile_id, "--dry-run"),
        valkey_store.cli("sessions", "rm", "--match", "victim*", stdin="n\n"),
        valkey_store.cli("sessions", "show", f"absent{ESCAPES}"),
    ]

    for result in outputs:
        screen = result.out + result.err
        assert "\x1b" not in screen and "\x07" not in screen and "\u202e" not in screen
    assert "victim\\x1b[2J" in outputs[0].out
    assert "\\x1b[31m" in outputs[1].out
    assert all(result.code in (0, 1) for result in outputs[:5])
    assert outputs[5].code == 2


def test_json_output_keeps_the_exact_id(valkey_store: Store) -> None:
    hostile_id = f"victim{ESCAPES}"
    valkey_store.write(hostile_id, messages(1))

    result = valkey_store.cli("sessions", "ls", "--json")

    assert [row["session_id"] for row in result.json()] == [hostile_id]


def test_help_shows_a_default_url_from_the_environment_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_AGENTS_SESSION_REDIS_URL", f"redis://:{SECRET}@cache:6379/0")

    result = run_cli(capsys, ["sessions", "ls", "--help"])

    assert result.code == 0
    assert SECRET not in result.out
    assert "redis://***@cache:6379/0" in result.out
