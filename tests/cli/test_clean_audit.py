"""``crmseg clean`` and ``crmseg dupes`` as a user runs them, checked against the base itself."""

from __future__ import annotations


def test_undo_of_an_unknown_merge_names_the_option_that_lists_merges(invoke):
    result = invoke("dupes", "undo", "999")
    assert result.exit_code == 2
    assert "`crmseg dupes list --merges`" in result.stderr
    assert invoke("dupes", "list", "--merges").exit_code == 0


def _state(db_path):
    """Every contact, ledger entry and merge as a user would compare them (``updated_at`` aside)."""
    from cli.store import open_database

    con = open_database(db_path, wait=0)
    try:
        contacts = con.execute("SELECT * EXCLUDE (updated_at) FROM contacts ORDER BY id").fetchall()
        ledger = con.execute("SELECT key, reason, source FROM suppressions ORDER BY ALL").fetchall()
        tags = con.execute("SELECT * FROM contact_tags ORDER BY ALL").fetchall()
        events = con.execute("SELECT id, contact_id FROM events ORDER BY id").fetchall()
        return contacts, ledger, tags, events
    finally:
        con.close()


def _status(db_path, email):
    from cli.store import open_database

    con = open_database(db_path, wait=0)
    try:
        return con.execute("SELECT status, status_reason FROM contacts WHERE email = ?", [email]).fetchone()
    finally:
        con.close()


def test_clean_undo_puts_back_what_a_run_changed(invoke, db_path, tmp_path):
    import json

    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "Email;Prénom;Nom;Téléphone;Date de naissance;Tags;Opt-in email;Date opt-in\n"
        "info@refuge-des-lilas.fr;;;;;;Oui;01/01/2026\n"
        "paul@orange.fr;Paul;Martin;;;;Oui;01/01/2026\n"
        "rita@orange.fr;Rita;Blanc;;;;Oui;01/01/2026\n"
        "lucas.petit@gmail.com;Lucas;Petit;06 99 88 77 66;01/01/1990;newsletter;Oui;01/01/2026\n"
        "lucas.petit@hotmail.fr;Lucas;Petit;06 99 88 77 66;01/01/1990;donateur;Oui;01/01/2026\n",
        encoding="utf-8",
    )
    events = tmp_path / "events.csv"
    events.write_text(
        "Email,Event,Date\npaul@orange.fr,unsubscribed,2026-03-01\nrita@orange.fr,hard_bounce,2026-03-01\n"
        "lucas.petit@hotmail.fr,opened,2026-03-01\n",
        encoding="utf-8",
    )
    (tmp_path / "crmseg.yaml").write_text("cleaning:\n  role_addresses: suppress\n", encoding="utf-8")
    assert invoke("import", "contacts", str(contacts)).exit_code == 0
    assert invoke("import", "events", str(events)).exit_code == 0
    before = _state(db_path)
    run = invoke("--as-of", "2026-11-20", "--json", "clean")
    assert run.exit_code == 0, run.stderr
    run_id = json.loads(run.stdout)["run_id"]
    after_run = _state(db_path)
    assert after_run != before
    assert _status(db_path, "info@refuge-des-lilas.fr") == ("suppressed", "role")

    dry = invoke("--json", "clean", "--undo", str(run_id), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert _state(db_path) == after_run
    undone = invoke("--json", "clean", "--undo", str(run_id))
    assert undone.exit_code == 0, undone.stderr
    assert json.loads(undone.stdout)["merges_undone"] == 1
    assert _state(db_path) == before
    again = invoke("clean", "--undo", str(run_id))
    assert again.exit_code == 2 and "already undone" in again.stderr
    # The merge undone with the run waits for review again; it was not a "two people" verdict.
    pending = invoke("--json", "dupes", "list")
    assert len(json.loads(pending.stdout)) == 1
    # Back to `role_addresses: flag`, the next clean flags the role address and no longer suppresses it.
    (tmp_path / "crmseg.yaml").write_text("cleaning:\n  role_addresses: flag\n", encoding="utf-8")
    assert invoke("--as-of", "2026-11-20", "clean").exit_code == 0
    assert _status(db_path, "info@refuge-des-lilas.fr") == ("active", None)


def test_clean_undo_keeps_suppressed_an_address_a_later_import_put_in_the_ledger(invoke, db_path, tmp_path):
    """The run suppressed an unsubscriber; an import then said the address bounced. Undoing the
    run takes its own ledger entry away, but the bounce still holds the address: it stays suppressed."""
    import json

    from cli.store import open_database

    (tmp_path / "contacts.csv").write_text("Email;Prénom;Nom\nxa.yb@free.fr;Xa;Yb\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text("email,type,date\nxa.yb@free.fr,unsubscribe,2026-10-01\n", encoding="utf-8")
    (tmp_path / "bounced.csv").write_text("Email;Prénom;Nom;Bounce\nxa.yb@free.fr;Xa;Yb;oui\n", encoding="utf-8")
    assert invoke("import", "contacts", str(tmp_path / "contacts.csv")).exit_code == 0
    assert invoke("import", "events", str(tmp_path / "events.csv")).exit_code == 0
    run = invoke("--as-of", "2026-11-20", "--json", "clean")
    run_id = json.loads(run.stdout)["run_id"]
    assert _status(db_path, "xa.yb@free.fr") == ("suppressed", "unsubscribe")
    assert invoke("import", "contacts", str(tmp_path / "bounced.csv")).exit_code == 0

    undone = invoke("--json", "clean", "--undo", str(run_id))
    assert undone.exit_code == 0, undone.stderr
    report = json.loads(undone.stdout)
    assert (report["statuses"], report["changed_since_left"], report["ledger_entries_removed"]) == (0, 1, 1)
    assert _status(db_path, "xa.yb@free.fr") == ("suppressed", "hard_bounce")
    con = open_database(db_path, wait=0)
    try:
        assert con.execute("SELECT reason, source FROM suppressions").fetchall() == [("hard_bounce", "import:3")]
    finally:
        con.close()
