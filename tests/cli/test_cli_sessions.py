"""``sessions ls|show|export|rm|stats`` on a real Valkey and a real 3-primary Cluster."""

from __future__ import annotations

import json

import pytest

from openai_agents_session.cli import sessions
from openai_agents_session.cli._session_detail import session_keys

from .conftest import Store, messages


def test_ls_lists_every_session_with_items_ttl_and_memory(store: Store) -> None:
    # Enough sessions that a Cluster spreads them over all three primaries.
    for n in range(30):
        store.write(f"user-{n:02d}", messages(n % 4 + 1), ttl=600 if n % 2 else None)

    result = store.cli("sessions", "ls", "--json")

    assert result.code == 0, result.err
    listed = {row["session_id"]: row for row in result.json()}
    assert sorted(listed) == [f"user-{n:02d}" for n in range(30)]
    assert listed["user-03"]["items"] == 4
    assert listed["user-03"]["key"] == store.key("user-03")
    assert 0 < listed["user-01"]["ttl_seconds"] <= 600
    assert listed["user-02"]["ttl_seconds"] is None
    assert all(row["memory_bytes"] > 0 for row in listed.values())


def test_ls_leaves_out_keys_that_are_not_lists(store: Store) -> None:
    store.write("real", messages(2))
    store.admin.set(store.key("a-string"), "not a session")
    store.admin.hset(store.key("a-hash"), "field", "value")

    result = store.cli("sessions", "ls", "--json")

    assert [row["session_id"] for row in result.json()] == ["real"]


def test_ls_lists_sessions_under_a_hash_tagged_prefix(valkey_store: Store) -> None:
    from openai_agents_session.store.keys import operation_log_key

    valkey_store.prefix = "{" + valkey_store.prefix + "}"
    valkey_store.write("tagged", messages(1))
    assert valkey_store.admin.exists(operation_log_key(valkey_store.key("tagged")))

    result = valkey_store.cli("sessions", "ls", "--json")

    assert [row["session_id"] for row in result.json()] == ["tagged"]


def test_ls_sorts_filters_and_limits(valkey_store: Store) -> None:
    for name, count in (("alpha", 3), ("beta", 1), ("gamma", 5), ("other", 9)):
        valkey_store.write(name, messages(count))

    by_items = valkey_store.cli("sessions", "ls", "--json", "--sort", "items", "--desc")
    matching = valkey_store.cli("sessions", "ls", "--json", "--match", "*a", "--min-items", "2")
    top = valkey_store.cli("sessions", "ls", "--json", "--sort", "items", "--desc", "--limit", "2")

    assert [r["session_id"] for r in by_items.json()] == ["other", "gamma", "alpha", "beta"]
    assert [r["session_id"] for r in matching.json()] == ["alpha", "gamma"]
    assert [r["session_id"] for r in top.json()] == ["other", "gamma"]


def test_ls_treats_glob_characters_in_the_prefix_literally(valkey_store: Store) -> None:
    valkey_store.prefix = valkey_store.prefix + "[x]*"
    valkey_store.write("literal", messages(1))

    result = valkey_store.cli("sessions", "ls", "--json")

    assert [row["session_id"] for row in result.json()] == ["literal"]


def test_ls_prints_a_table_for_people(valkey_store: Store) -> None:
    valkey_store.write("table-user", messages(2), ttl=3600)

    result = valkey_store.cli("sessions", "ls")

    assert result.code == 0
    assert "table-user" in result.out
    assert "1 sessions" in result.out
    assert valkey_store.prefix in result.out


def test_ls_says_so_when_nothing_matches(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "ls")

    assert result.code == 0
    assert "no sessions match" in result.out


def test_show_reports_size_ttl_and_flags_corrupt_items(store: Store) -> None:
    store.write("shown", messages(3), ttl=900)
    store.admin.rpush(store.key("shown"), b"{not json")

    result = store.cli("sessions", "show", "shown", "--json", "--last", "2")

    assert result.code == 0, result.err
    shown = result.json()
    assert shown["items"] == 4
    assert 0 < shown["ttl_seconds"] <= 900
    assert shown["memory_bytes"] > 0
    assert shown["companion_keys"] == ["ops", "popped"]
    assert shown["corrupt_indexes"] == [3]
    assert [(i["index"], i["kind"], i["corrupt"]) for i in shown["last_items"]] == [
        (2, "message/user", False),
        (3, "not JSON", True),
    ]
    assert all("content" not in item for item in shown["last_items"])


def test_show_prints_content_only_on_request(valkey_store: Store) -> None:
    valkey_store.write("private", [{"role": "user", "content": "my secret address"}])

    hidden = valkey_store.cli("sessions", "show", "private")
    revealed = valkey_store.cli("sessions", "show", "private", "--content")
    as_json = valkey_store.cli("sessions", "show", "private", "--json", "--content")

    assert "my secret address" not in hidden.out
    assert "--content" in hidden.out
    assert "my secret address" in revealed.out
    assert as_json.json()["last_items"][0]["content"]["content"] == "my secret address"


def test_export_writes_every_item_as_a_json_line(store: Store) -> None:
    items = [{"role": "user", "content": "héllo\nworld"}, {"type": "function_call", "name": "f"}]
    store.write("exported", items)

    result = store.cli("sessions", "export", "exported")

    assert result.code == 0, result.err
    assert [json.loads(line) for line in result.out.splitlines()] == items
    assert "exported 2 item(s)" in result.err


def test_export_to_a_file_skips_corrupt_items_unless_asked(valkey_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    valkey_store.write("mixed", messages(2))
    valkey_store.admin.rpush(valkey_store.key("mixed"), b"\xff broken")
    target = tmp_path / "export.jsonl"

    skipped = valkey_store.cli("sessions", "export", "mixed", "-o", str(target))
    lines_without = target.read_text().splitlines()
    kept = valkey_store.cli(
        "sessions", "export", "mixed", "-o", str(target), "--include-corrupt", "--force"
    )
    lines_with = target.read_text().splitlines()

    assert skipped.code == kept.code == 0
    assert len(lines_without) == 2
    assert "skipped 1 corrupt item(s)" in skipped.err
    assert len(lines_with) == 3
    assert "corrupt_item" in json.loads(lines_with[2])
    assert skipped.out == kept.out == ""


def test_export_refuses_to_overwrite_a_file_without_force(valkey_store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    valkey_store.write("again", messages(2))
    target = tmp_path / "earlier.jsonl"
    target.write_text("an earlier export\n")

    refused = valkey_store.cli("sessions", "export", "again", "-o", str(target))
    kept = target.read_text()
    forced = valkey_store.cli("sessions", "export", "again", "-o", str(target), "--force")

    assert refused.code == 2
    assert f"'{target}' exists; add --force to overwrite it" in refused.err
    assert kept == "an earlier export\n"
    assert forced.code == 0, forced.err
    assert len(target.read_text().splitlines()) == 2


def test_rm_with_yes_deletes_the_list_and_its_popped_items_and_keeps_its_log(
    store: Store,
) -> None:
    store.write("leaving", messages(4))
    store.pop("leaving")
    store.write("staying", messages(1))
    # The list, the log, the popped items and the life hash (none: no max_age, no owner).
    keys = session_keys(store.key("leaving"))
    assert [store.admin.exists(key) for key in keys] == [1, 1, 1, 0]

    result = store.cli("sessions", "rm", "leaving", "--yes", "--json")

    assert result.code == 0, result.err
    assert result.json() == {
        "deleted": True,
        "dry_run": False,
        "items": 3,
        "sessions": [{"session_id": "leaving", "items": 3}],
    }
    # The log (expiring, ids only) is what keeps a late copy of a write from re-creating
    # it; the popped items are content, and go.
    assert [store.admin.exists(key) for key in keys] == [0, 1, 0, 0]
    assert store.admin.llen(store.key("staying")) == 1


def test_rm_asks_first_and_keeps_the_session_unless_confirmed(valkey_store: Store) -> None:
    valkey_store.write("careful", messages(2))

    declined = valkey_store.cli("sessions", "rm", "careful", stdin="n\n")
    no_answer = valkey_store.cli("sessions", "rm", "careful", stdin="")
    kept = valkey_store.admin.llen(valkey_store.key("careful"))
    confirmed = valkey_store.cli("sessions", "rm", "careful", stdin="y\n")

    assert declined.code == no_answer.code == 1
    assert "delete 1 session (2 items)" in declined.err
    assert "'careful'" in declined.err
    assert "nothing deleted" in declined.err
    assert kept == 2
    assert confirmed.code == 0
    assert "deleted 1 session(s): 2 items" in confirmed.out
    assert valkey_store.admin.exists(valkey_store.key("careful")) == 0


def test_rm_deletes_several_ids_and_a_match_together(store: Store) -> None:
    for name in ("a", "b", "tenant-7:x", "tenant-7:y", "tenant-8:z"):
        store.write(name, messages(2))

    result = store.cli("sessions", "rm", "a", "b", "--match", "tenant-7:*", "--yes", "--json")

    assert result.code == 0, result.err
    deleted = [s["session_id"] for s in result.json()["sessions"]]
    assert deleted == ["a", "b", "tenant-7:x", "tenant-7:y"]
    assert result.json()["items"] == 8
    left = store.cli("sessions", "ls", "--json")
    assert [row["session_id"] for row in left.json()] == ["tenant-8:z"]


def test_rm_shows_the_count_and_a_sample_before_asking(valkey_store: Store) -> None:
    for n in range(12):
        valkey_store.write(f"bulk-{n:02d}", messages(1))

    result = valkey_store.cli("sessions", "rm", "--match", "bulk-*", stdin="n\n")

    assert result.code == 1
    question = result.err.splitlines()[0]
    assert question.startswith("delete 12 sessions (12 items) under prefix")
    assert "'bulk-00', 'bulk-01', 'bulk-02', 'bulk-03', 'bulk-04' and 7 more" in question
    assert "cannot be undone" in question
    assert len(valkey_store.cli("sessions", "ls", "--json").json()) == 12


def test_rm_dry_run_shows_what_it_would_delete_and_deletes_nothing(valkey_store: Store) -> None:
    for n in range(3):
        valkey_store.write(f"dry-{n}", messages(2))

    shown = valkey_store.cli("sessions", "rm", "--match", "dry-*", "--dry-run")
    as_json = valkey_store.cli("sessions", "rm", "dry-0", "--dry-run", "--json", "--yes")

    assert shown.code == as_json.code == 0
    assert shown.out.startswith("would delete 3 sessions (6 items)")
    assert as_json.json()["deleted"] is False
    assert as_json.json()["dry_run"] is True
    assert len(valkey_store.cli("sessions", "ls", "--json").json()) == 3


def test_rm_with_an_unknown_id_deletes_nothing(valkey_store: Store) -> None:
    valkey_store.write("real", messages(1))

    result = valkey_store.cli("sessions", "rm", "real", "ghost", "--yes")

    assert result.code == 2
    assert "no session 'ghost'" in result.err
    assert valkey_store.admin.exists(valkey_store.key("real")) == 1


def test_rm_needs_ids_or_a_match(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "rm", "--yes")

    assert result.code == 2
    assert "one or more SESSION_ID, or --match GLOB" in result.err


def test_rm_match_with_nothing_matching_deletes_nothing(valkey_store: Store) -> None:
    result = valkey_store.cli("sessions", "rm", "--match", "nobody-*", "--yes")

    assert result.code == 0
    assert "no sessions match 'nobody-*'" in result.out


def test_stats_gives_totals_and_the_size_distribution(store: Store) -> None:
    for n in range(1, 11):
        store.write(f"s{n}", messages(n), ttl=600 if n > 3 else None)
    store.admin.set(store.key("not-a-list"), "x")

    result = store.cli("sessions", "stats", "--json")

    assert result.code == 0, result.err
    stats = result.json()
    assert stats["sessions"] == 10
    assert stats["items"] == sum(range(1, 11))
    assert stats["without_ttl"] == 3
    assert stats["items_per_session"] == {"p50": 5, "p99": 10, "max": 10}
    memory = stats["memory_bytes_per_session"]
    assert 0 < memory["p50"] <= memory["p99"] <= memory["max"]
    assert stats["memory_bytes"] >= memory["max"]


def test_stats_prints_tables_for_people(valkey_store: Store) -> None:
    valkey_store.write("one", messages(4))

    result = valkey_store.cli("sessions", "stats")

    assert result.code == 0
    assert "p99" in result.out
    assert "per session" in result.out


def test_ls_walks_a_keyspace_bigger_than_one_scan_step(store: Store) -> None:
    pipe = store.admin.pipeline(transaction=False)
    for n in range(2500):
        pipe.rpush(store.key(f"bulk-{n:04d}"), b'{"role":"user","content":"x"}')
    pipe.execute()

    result = store.cli("sessions", "ls", "--json")

    assert result.code == 0, result.err
    assert len({row["session_id"] for row in result.json()}) == 2500


def test_ls_shows_one_page_by_default_and_says_how_many_in_all(valkey_store: Store) -> None:
    pipe = valkey_store.admin.pipeline(transaction=False)
    for n in range(sessions.DEFAULT_PAGE_ROWS + 25):
        pipe.rpush(valkey_store.key(f"page-{n:03d}"), b'{"role":"user","content":"x"}')
    pipe.execute()
    total = sessions.DEFAULT_PAGE_ROWS + 25

    paged = valkey_store.cli("sessions", "ls")
    everything = valkey_store.cli("sessions", "ls", "--all")

    shown = [n for n in range(total) if f"page-{n:03d}" in paged.out]
    assert shown == list(range(sessions.DEFAULT_PAGE_ROWS))
    assert f"{sessions.DEFAULT_PAGE_ROWS} of {total} sessions" in paged.out
    assert "--all" in paged.out
    assert all(f"page-{n:03d}" in everything.out for n in range(total))
    assert f"{total} sessions" in everything.out


def test_ls_shows_progress_on_a_big_keyspace(
    valkey_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "PROGRESS_THRESHOLD_KEYS", 1)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    for n in range(3):
        valkey_store.write(f"p{n}", messages(1))

    result = valkey_store.cli("sessions", "ls")

    assert result.code == 0, result.err
    assert all(f"p{n}" in result.out for n in range(3))


def test_ls_and_rm_warn_when_ids_may_belong_to_a_nested_prefix(valkey_store: Store) -> None:
    # Session "tenant-b:7" under the prefix is the key of session "7" under prefix+":tenant-b".
    valkey_store.write("tenant-b:7", messages(1))
    valkey_store.write("plain", messages(1))

    listed = valkey_store.cli("sessions", "ls")
    dry_run = valkey_store.cli("sessions", "rm", "--match", "*", "--dry-run")

    nested = f"{valkey_store.prefix}:tenant-b"
    for result in (listed, dry_run):
        assert result.code == 0
        assert "prefixes nest" in result.err and repr(nested) in result.err


def test_ls_says_nothing_of_nesting_when_no_id_holds_a_colon(valkey_store: Store) -> None:
    valkey_store.write("plain", messages(1))

    assert "nest" not in valkey_store.cli("sessions", "ls").err


def test_rm_deletes_the_items_kept_for_replayed_pops(valkey_store: Store) -> None:
    valkey_store.write("popped", messages(3))
    valkey_store.pop("popped")
    popped_key = valkey_store.key("popped").encode() + b"\xffpopped"
    assert any(key.startswith(popped_key) for key in valkey_store.admin.keys("*popped*"))

    assert valkey_store.cli("sessions", "rm", "popped", "--yes").code == 0

    leftovers = valkey_store.admin.keys(f"{valkey_store.prefix}:popped*")
    assert all(b"\xffops" in key for key in leftovers), leftovers  # ids only, no content
