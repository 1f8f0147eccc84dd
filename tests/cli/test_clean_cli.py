"""``crmseg clean`` and ``crmseg dupes`` as a user runs them: exit code, stdout, stderr, then the base."""

from __future__ import annotations

import json
from datetime import date

from cli.store import open_database
from tests.unit.cleaning.conftest import add_contact, add_events


def _seed(db_path):
    con = open_database(db_path, wait=0)
    bounced = add_contact(con, email="anne@orange.fr")
    add_events(con, bounced, ("hard_bounce", "2026-10-01"))
    base = dict(street="12 rue des Lilas", postal_code="75011", city="Paris")
    add_contact(con, email="marie@free.fr", first_name="Marie", last_name="Dupont", phone="+33612345678",
                birth_date=date(1980, 1, 2), **base)
    add_contact(con, email=None, first_name="Marie", last_name="Dupond", **base)
    con.close()
    return bounced


def test_clean_prints_one_table_of_passes(invoke, db_path):
    _seed(db_path)
    result = invoke("--as-of", "2026-11-20", "clean")
    assert result.exit_code == 0, result.stderr
    for name in ["bounces", "unsubscribes", "complaints", "invalid", "duplicates", "inactive", "retention"]:
        assert name in result.stdout
    assert result.stderr == ""


def test_clean_json_dry_run_then_real_run(invoke, db_path):
    bounced = _seed(db_path)
    dry = invoke("--as-of", "2026-11-20", "--json", "clean", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    dry_data = json.loads(dry.stdout)
    assert dry_data["dry_run"] is True and dry_data["run_id"] is None
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT status FROM contacts WHERE id = ?", [bounced]).fetchone()[0] == "active"
    con.close()
    real = json.loads(invoke("--as-of", "2026-11-20", "--json", "clean").stdout)
    strip = lambda d: [(p["pass"], p["looked_at"], p["changed"], p["details"]) for p in d["passes"]]  # noqa: E731
    assert strip(dry_data) == strip(real)
    assert invoke("clean", "--undo", str(real["run_id"]), "--dry-run").exit_code == 0
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT status FROM contacts WHERE id = ?", [bounced]).fetchone()[0] == "suppressed"
    con.close()


def test_unknown_pass_exits_2_with_a_suggestion(invoke):
    result = invoke("clean", "--only", "bouncs")
    assert result.exit_code == 2
    assert "unknown pass `bouncs`" in result.stderr and "bounces" in result.stderr
    assert "Traceback" not in result.stderr


def test_dupes_list_show_merge_undo(invoke, db_path):
    _seed(db_path)
    assert invoke("--as-of", "2026-11-20", "clean", "--only", "duplicates").exit_code == 0
    listed = invoke("--json", "dupes", "list")
    assert listed.exit_code == 0, listed.stderr
    pairs = json.loads(listed.stdout)
    assert len(pairs) == 1 and 0.8 <= pairs[0]["score"] < 0.95
    pair_id = pairs[0]["pair_id"]
    assert "name" in pairs[0]["matched_fields"]

    shown = invoke("dupes", "show", str(pair_id))
    assert shown.exit_code == 0 and "Dupond" in shown.stdout and "Dupont" in shown.stdout

    merged = json.loads(invoke("--json", "dupes", "merge", str(pair_id)).stdout)
    merge_id = merged["merge_ids"][0]
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'merged'").fetchone()[0] == 1
    con.close()
    assert json.loads(invoke("--json", "dupes", "list").stdout) == []

    undone = invoke("dupes", "undo", str(merge_id))
    assert undone.exit_code == 0, undone.stderr
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'merged'").fetchone()[0] == 0
    con.close()
    again = invoke("dupes", "undo", str(merge_id))
    assert again.exit_code == 2 and "already undone" in again.stderr


def test_dupes_merge_all_uses_the_review_threshold_by_default(invoke, db_path):
    _seed(db_path)
    invoke("--as-of", "2026-11-20", "clean", "--only", "duplicates")
    result = invoke("--json", "dupes", "merge", "--all")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["min_score"] == 0.8 and data["merges"] == 1


def test_dupes_errors_name_the_id(invoke, db_path):
    _seed(db_path)
    shown = invoke("dupes", "show", "999")
    assert shown.exit_code == 2 and "no duplicate pair with id 999" in shown.stderr
    both = invoke("dupes", "merge", "3", "--all")
    assert both.exit_code == 2
    assert invoke("dupes", "undo", "42").exit_code == 2


def test_only_takes_comma_separated_passes(invoke, db_path):
    _seed(db_path)
    result = invoke("--json", "clean", "--only", "inactive,bounces", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert [p["pass"] for p in json.loads(result.stdout)["passes"]] == ["bounces", "inactive"]


def test_dupes_list_on_screen_shows_the_best_pairs_and_says_there_are_more(invoke, db_path, monkeypatch):
    con = open_database(db_path, wait=0)
    ids = [add_contact(con, email=f"p{i}@free.fr", first_name="Jean", last_name=f"Martin{i}") for i in range(4)]
    con.execute("INSERT INTO duplicate_pairs (contact_a, contact_b, score, matched_fields, status) VALUES "
                "(?, ?, 0.91, ['name'], 'pending'), (?, ?, 0.97, ['name'], 'pending'), (?, ?, 0.93, ['name'], 'pending')",
                [ids[0], ids[1], ids[1], ids[2], ids[2], ids[3]])
    con.close()
    assert len(json.loads(invoke("--json", "dupes", "list").stdout)) == 3
    monkeypatch.setattr("cli.commands.common.SCREEN_ROWS", 2)
    shown = invoke("dupes", "list")
    assert shown.exit_code == 0
    assert "the best 2 pending pairs" in shown.stdout and "0.970" in shown.stdout and "0.910" not in shown.stdout
    assert "--limit" in shown.stdout
    assert "3 pending pairs" in invoke("dupes", "list", "--limit", "5").stdout
    # --limit below the count says there are more, as the default screen limit does.
    limited = invoke("dupes", "list", "--limit", "1").stdout
    assert "the best 1 pending pairs" in limited and "0.930" not in limited
    assert [p["score"] for p in json.loads(invoke("--json", "dupes", "list", "--limit", "2").stdout)] == [0.97, 0.93]
