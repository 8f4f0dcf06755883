"""``sessions ls|export|rm --owner`` and the age ``show`` reports, on a real Valkey and Cluster."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from openai_agents_session.store.keys import life_key, owner_index_key
from support import free_port

from .conftest import Store, messages

SECRET = "0wner-s3cret"


@pytest.fixture
def secret_store(valkey_store: Store) -> Iterator[Store]:
    """``valkey_store`` reached through a user whose password must never be printed."""
    user = f"owners-{uuid.uuid4().hex[:8]}"
    valkey_store.admin.execute_command("ACL", "SETUSER", user, "on", f">{SECRET}", "~*", "+@all")
    host, port = valkey_store.url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    valkey_store.url = f"redis://{user}:{SECRET}@{host}:{port}/0"
    try:
        yield valkey_store
    finally:
        valkey_store.admin.execute_command("ACL", "DELUSER", user)


def two_owners(store: Store) -> None:
    store.write("a-1", messages(2), owner="alice", ttl=600)
    store.write("a-2", messages(3), owner="alice")
    store.write("b-1", messages(1), owner="bob")
    store.write("nobody", messages(1))


# ---------------------------------------------------------------- ls --owner


def test_ls_owner_lists_only_that_owners_sessions_with_items_ttl_and_memory(
    valkey_store: Store,
) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "ls", "--owner", "alice", "--json")

    assert result.code == 0, result.err
    rows = {row["session_id"]: row for row in result.json()}
    assert sorted(rows) == ["a-1", "a-2"]
    assert rows["a-1"]["items"] == 2 and rows["a-2"]["items"] == 3
    assert 0 < rows["a-1"]["ttl_seconds"] <= 600
    assert rows["a-2"]["ttl_seconds"] is None
    assert rows["a-1"]["key"] == valkey_store.key("a-1")
    assert all(row["memory_bytes"] > 0 for row in rows.values())


def test_ls_owner_sorts_and_limits_like_ls(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli(
        "sessions", "ls", "--owner", "alice", "--json", "--sort", "items", "--desc", "--limit", "1"
    )

    assert [row["session_id"] for row in result.json()] == ["a-2"]


def test_ls_owner_prints_a_table_naming_the_owner(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "ls", "--owner", "alice")

    assert result.code == 0, result.err
    assert "2 sessions of owner 'alice'" in result.out
    assert "a-1" in result.out and "a-2" in result.out and "b-1" not in result.out


def test_ls_owner_takes_an_owner_with_markup_as_text(valkey_store: Store) -> None:
    valkey_store.write("m-1", messages(1), owner="[bold]x[/bold]")

    result = valkey_store.cli("sessions", "ls", "--owner", "[bold]x[/bold]")

    assert result.code == 0, result.err
    assert "of owner '[bold]x[/bold]'" in result.out


def test_ls_owner_leaves_out_sessions_deleted_since(valkey_store: Store) -> None:
    two_owners(valkey_store)
    valkey_store.admin.delete(valkey_store.key("a-1"))

    result = valkey_store.cli("sessions", "ls", "--owner", "alice", "--json")

    assert [row["session_id"] for row in result.json()] == ["a-2"]


def test_ls_owner_without_sessions_says_so(valkey_store: Store) -> None:
    two_owners(valkey_store)

    table = valkey_store.cli("sessions", "ls", "--owner", "carol")
    as_json = valkey_store.cli("sessions", "ls", "--owner", "carol", "--json")

    assert table.code == as_json.code == 0
    assert "owner 'carol' has no sessions" in table.out
    assert "written without owner=" in table.out
    assert as_json.json() == []


def test_ls_refuses_owner_and_match_together(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "ls", "--owner", "alice", "--match", "a-*")

    assert result.code == 2
    assert "--match 'a-*' and --owner 'alice' cannot be combined" in result.err
    assert result.out == ""


def test_ls_refuses_an_empty_owner(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "ls", "--owner", "")

    assert result.code == 2
    assert "--owner must not be empty" in result.err


# ---------------------------------------------------------------- export --owner


def test_export_owner_writes_one_json_line_per_session(valkey_store: Store, tmp_path: Path) -> None:
    two_owners(valkey_store)
    target = tmp_path / "alice.jsonl"

    result = valkey_store.cli("sessions", "export", "--owner", "alice", str(target))

    assert result.code == 0, result.err
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert sorted(lines, key=lambda line: line["session_id"]) == [
        {"session_id": "a-1", "items": messages(2)},
        {"session_id": "a-2", "items": messages(3)},
    ]
    assert "exported 2 session(s) (5 items) of owner 'alice'" in result.err
    assert result.out == ""


def test_export_owner_takes_the_file_as_o_too(valkey_store: Store, tmp_path: Path) -> None:
    valkey_store.write("u-1", [{"role": "user", "content": "héllo"}], owner="ünïcode")
    target = tmp_path / "u.jsonl"

    result = valkey_store.cli("sessions", "export", "--owner", "ünïcode", "-o", str(target))

    assert result.code == 0, result.err
    assert target.read_text(encoding="utf-8") == (
        '{"session_id":"u-1","items":[{"role":"user","content":"héllo"}]}\n'
    )


def test_export_owner_without_sessions_writes_an_empty_file(
    valkey_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "none.jsonl"

    result = valkey_store.cli("sessions", "export", "--owner", "carol", str(target))

    assert result.code == 0, result.err
    assert target.read_text() == ""
    assert "owner 'carol' has no sessions" in result.err


def test_export_owner_refuses_an_existing_file_before_connecting(
    valkey_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "earlier.jsonl"
    target.write_text("an earlier export\n")
    valkey_store.url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

    refused = valkey_store.cli("sessions", "export", "--owner", "alice", str(target))

    assert refused.code == 2
    assert f"'{target}' exists; add --force to overwrite it" in refused.err
    assert target.read_text() == "an earlier export\n"


def test_export_owner_overwrites_with_force(valkey_store: Store, tmp_path: Path) -> None:
    two_owners(valkey_store)
    target = tmp_path / "earlier.jsonl"
    target.write_text("an earlier export\n")

    forced = valkey_store.cli("sessions", "export", "--owner", "bob", "--force", str(target))

    assert forced.code == 0, forced.err
    assert [json.loads(line)["session_id"] for line in target.read_text().splitlines()] == ["b-1"]


def test_export_owner_leaves_no_file_when_the_server_cannot_be_read(
    valkey_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "never.jsonl"
    valkey_store.url = f"redis://127.0.0.1:{free_port()}/0"

    result = valkey_store.cli("sessions", "export", "--owner", "alice", str(target))

    assert result.code == 2
    assert "cannot reach Redis" in result.err
    assert not target.exists()


def test_export_owner_refuses_a_session_id_and_a_file_together(
    valkey_store: Store, tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"

    result = valkey_store.cli("sessions", "export", "a-1", "--owner", "alice", "-o", str(target))

    assert result.code == 2
    assert f"export --owner takes one FILE: got 'a-1' and -o '{target}'" in result.err
    assert not target.exists()


def test_export_owner_needs_a_file(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "export", "--owner", "alice")

    assert result.code == 2
    assert "export --owner needs a FILE" in result.err


def test_export_owner_refuses_include_corrupt(valkey_store: Store, tmp_path: Path) -> None:
    result = valkey_store.cli(
        "sessions", "export", "--owner", "alice", "--include-corrupt", str(tmp_path / "x")
    )

    assert result.code == 2
    assert "--include-corrupt does not apply to export --owner" in result.err


def test_export_needs_a_session_id_or_an_owner(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "export")

    assert result.code == 2
    assert "export SESSION_ID, or export --owner OWNER FILE" in result.err


def test_export_by_id_is_unchanged_for_an_owned_session(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "export", "a-1")

    assert result.code == 0, result.err
    assert [json.loads(line) for line in result.out.splitlines()] == messages(2)


# ---------------------------------------------------------------- rm --owner


def test_rm_owner_with_yes_erases_every_session_of_the_owner_and_no_other(
    valkey_store: Store,
) -> None:
    two_owners(valkey_store)
    valkey_store.pop("a-2")  # leaves content in the popped-items hash

    result = valkey_store.cli("sessions", "rm", "--owner", "alice", "--yes")

    assert result.code == 0, result.err
    assert "erased 2 session(s) of owner 'alice'" in result.out
    for session_id in ("a-1", "a-2"):
        assert valkey_store.admin.exists(valkey_store.key(session_id)) == 0
    assert not valkey_store.admin.keys(f"{valkey_store.prefix}:a-2*popped*")
    assert valkey_store.admin.exists(owner_index_key(valkey_store.prefix, "alice")) == 0
    assert valkey_store.admin.llen(valkey_store.key("b-1")) == 1
    assert valkey_store.admin.llen(valkey_store.key("nobody")) == 1


def test_rm_owner_reports_as_json(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "rm", "--owner", "alice", "--yes", "--json")

    assert result.code == 0, result.err
    assert result.json() == {
        "deleted": True,
        "dry_run": False,
        "items": 5,
        "sessions": [{"session_id": "a-1", "items": 2}, {"session_id": "a-2", "items": 3}],
        "erased": 2,
    }


def test_rm_owner_dry_run_shows_what_it_would_erase_and_deletes_nothing(
    valkey_store: Store,
) -> None:
    two_owners(valkey_store)

    shown = valkey_store.cli("sessions", "rm", "--owner", "alice", "--dry-run")
    as_json = valkey_store.cli("sessions", "rm", "--owner", "alice", "--dry-run", "--json")

    assert shown.code == as_json.code == 0
    assert shown.out.startswith("would erase every session of owner 'alice': 2 sessions (5 items)")
    assert as_json.json()["deleted"] is False and as_json.json()["dry_run"] is True
    assert as_json.json()["erased"] == 0
    assert valkey_store.admin.llen(valkey_store.key("a-1")) == 2
    assert valkey_store.admin.llen(valkey_store.key("a-2")) == 3
    assert valkey_store.admin.zcard(owner_index_key(valkey_store.prefix, "alice")) == 2


def test_rm_owner_asks_first_with_the_count_and_a_sample(valkey_store: Store) -> None:
    for n in range(7):
        valkey_store.write(f"c-{n}", messages(1), owner="carol")

    declined = valkey_store.cli("sessions", "rm", "--owner", "carol", stdin="n\n")
    no_answer = valkey_store.cli("sessions", "rm", "--owner", "carol", stdin="")

    assert declined.code == no_answer.code == 1
    question = declined.err.splitlines()[0]
    assert question.startswith("erase every session of owner 'carol': 7 sessions (7 items)")
    assert "'c-0', 'c-1', 'c-2', 'c-3', 'c-4' and 2 more" in question
    assert "cannot be undone" in question
    assert "nothing deleted" in declined.err
    assert all(valkey_store.admin.exists(valkey_store.key(f"c-{n}")) for n in range(7))


def test_rm_owner_erases_when_confirmed(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "rm", "--owner", "bob", stdin="y\n")

    assert result.code == 0, result.err
    assert "erased 1 session(s) of owner 'bob'" in result.out
    assert valkey_store.admin.exists(valkey_store.key("b-1")) == 0


def test_rm_owner_without_sessions_erases_nothing(valkey_store: Store) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "rm", "--owner", "carol", "--yes")

    assert result.code == 0, result.err
    assert "owner 'carol' has no sessions" in result.out
    assert len(valkey_store.cli("sessions", "ls", "--json").json()) == 4


@pytest.mark.parametrize(
    ("extra", "named"),
    [(["a-1"], "got 'a-1' too"), (["--match", "a-*"], "got --match 'a-*' too")],
    ids=["ids", "match"],
)
def test_rm_owner_refuses_other_sessions_with_it(
    valkey_store: Store, extra: list[str], named: str
) -> None:
    two_owners(valkey_store)

    result = valkey_store.cli("sessions", "rm", "--owner", "alice", *extra, "--yes")

    assert result.code == 2
    assert "--owner 'alice' erases the owner's sessions and takes no other sessions" in result.err
    assert named in result.err
    assert len(valkey_store.cli("sessions", "ls", "--json").json()) == 4


def test_owner_commands_never_print_the_password(secret_store: Store, tmp_path: Path) -> None:
    two_owners(secret_store)

    outputs = [
        secret_store.cli("sessions", "ls", "--owner", "alice"),
        secret_store.cli("sessions", "ls", "--owner", "carol"),
        secret_store.cli("sessions", "export", "--owner", "alice", str(tmp_path / "a.jsonl")),
        secret_store.cli("sessions", "export", "--owner", "carol", str(tmp_path / "c.jsonl")),
        secret_store.cli("sessions", "rm", "--owner", "alice", "--dry-run"),
        secret_store.cli("sessions", "rm", "--owner", "alice", stdin="n\n"),
        secret_store.cli("sessions", "rm", "--owner", "alice", "--yes"),
        secret_store.cli("sessions", "rm", "--owner", "carol", "--yes"),
        secret_store.cli("sessions", "show", "b-1"),
    ]

    assert [result.code for result in outputs] == [0, 0, 0, 0, 0, 1, 0, 0, 0]
    for result in outputs:
        assert SECRET not in result.out + result.err
    assert "***@" in outputs[2].err  # the summary names the server, masked


# ---------------------------------------------------------------- show: age


def test_show_reports_the_age_and_when_the_age_removes_the_session(valkey_store: Store) -> None:
    valkey_store.write("aging", messages(2), max_age=3600, ttl=600)
    born, until = (
        int(value)
        for value in valkey_store.admin.hmget(life_key(valkey_store.key("aging")), "born", "until")
    )

    shown = valkey_store.cli("sessions", "show", "aging", "--json").json()

    assert 0 <= shown["age_seconds"] < 60
    assert 3540 < shown["max_age_remaining_seconds"] <= 3600
    assert shown["removed_by_age_at"] == (
        datetime.fromtimestamp(until / 1000, tz=timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
    assert until - born == 3_600_000
    assert 0 < shown["ttl_seconds"] <= 600
    assert "life" in shown["companion_keys"]


def test_show_prints_the_age_next_to_the_ttl(valkey_store: Store) -> None:
    valkey_store.write("aging", messages(1), max_age=7200, owner="dora")

    result = valkey_store.cli("sessions", "show", "aging")

    assert result.code == 0, result.err
    words = " ".join(result.out.split())  # the table may fold a long value
    assert re.search(
        r"max age \d\.\ds old; removed at the latest at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 1h 59m\)",
        words,
    ), words
    assert "dora" not in result.out


def test_show_reports_no_age_for_a_session_without_max_age(valkey_store: Store) -> None:
    valkey_store.write("ageless", messages(1), owner="erin")

    shown = valkey_store.cli("sessions", "show", "ageless", "--json").json()
    table = valkey_store.cli("sessions", "show", "ageless")

    assert shown["age_seconds"] is None
    assert shown["removed_by_age_at"] is None
    assert shown["max_age_remaining_seconds"] is None
    assert "none (no max_age)" in table.out
    assert "erin" not in table.out + json.dumps(shown)


# ---------------------------------------------------------------- cluster


def test_ls_owner_and_rm_owner_on_a_cluster(cluster_store: Store) -> None:
    # Enough sessions that the Cluster spreads them over all three primaries.
    for n in range(12):
        cluster_store.write(f"k-{n:02d}", messages(n % 3 + 1), owner="kim", max_age=600)
    cluster_store.write("other", messages(1), owner="lee")

    listed = cluster_store.cli("sessions", "ls", "--owner", "kim", "--json")
    shown = cluster_store.cli("sessions", "show", "k-05", "--json")
    erased = cluster_store.cli("sessions", "rm", "--owner", "kim", "--yes", "--json")
    after = cluster_store.cli("sessions", "ls", "--json")

    assert listed.code == 0, listed.err
    assert sorted(row["session_id"] for row in listed.json()) == [f"k-{n:02d}" for n in range(12)]
    assert sum(row["items"] for row in listed.json()) == 24
    assert 0 <= shown.json()["age_seconds"] < 60
    assert erased.code == 0, erased.err
    assert erased.json()["erased"] == 12
    assert [row["session_id"] for row in after.json()] == ["other"]
