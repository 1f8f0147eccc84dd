"""``crmseg gdpr export|forget`` end to end, down to the file's bytes."""

from __future__ import annotations

import json

from cli.store import open_database
from tests.unit.people.helpers import PERSON, PERSON_NEEDLES, rich_person
from tests.unit.people.test_erasure import traces


def _seed(db_path):
    con = open_database(db_path, wait=0, memory_limit="1GB")
    ids = rich_person(con)
    con.close()
    return ids


def test_export_to_stdout_and_to_a_file(invoke, db_path, tmp_path):
    _seed(db_path)
    result = invoke("gdpr", "export", PERSON["email"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["email"] == PERSON["email"] and len(document["contacts"]) == 2
    out = tmp_path / "zq.json"
    result = invoke("gdpr", "export", PERSON["email"], "--out", str(out))
    assert result.exit_code == 0 and str(out) in result.stdout
    assert json.loads(out.read_text())["events"][0]["amount"] == 50.0


def test_export_unknown_email_exits_2(invoke, db_path):
    _seed(db_path)
    result = invoke("gdpr", "export", "nobody@example.org")
    assert result.exit_code == 2 and "no contact with the email nobody@example.org" in result.stderr
    assert result.stdout == ""


def test_forget_erases_everywhere_even_in_the_file_bytes(invoke, db_path):
    _seed(db_path)
    result = invoke("gdpr", "forget", PERSON["email"], "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["erased"] == 2
    data = db_path.read_bytes().lower()
    for needle in (PERSON["email"], PERSON["old_email"], "quasimodo"):
        assert needle.encode() not in data, needle
    assert not db_path.with_name(db_path.name + ".wal").exists()
    con = open_database(db_path, wait=0, memory_limit="1GB")
    try:
        assert traces(con, PERSON_NEEDLES) == []
        logged = con.execute("SELECT details FROM audit_log WHERE command = 'gdpr' AND action = 'forget'").fetchall()
        assert len(logged) == 1 and "@" not in logged[0][0]
    finally:
        con.close()
    again = invoke("gdpr", "forget", PERSON["email"])
    assert again.exit_code == 0 and "already forgotten" in again.stdout
    gone = invoke("contacts", "show", PERSON["email"])
    assert gone.exit_code == 2 and "was erased" in gone.stderr


def test_forget_without_compaction_still_checkpoints(invoke, db_path):
    _seed(db_path)
    result = invoke("gdpr", "forget", PERSON["email"], "--no-compact")
    assert result.exit_code == 0
    assert not db_path.with_name(db_path.name + ".wal").exists()


def test_forget_unknown_email_exits_2(invoke, db_path):
    _seed(db_path)
    result = invoke("gdpr", "forget", "nobody@example.org")
    assert result.exit_code == 2 and "nothing is held" in result.stderr
    result = invoke("gdpr", "forget", "not an address")
    assert result.exit_code == 2 and "not an email address" in result.stderr


def test_a_person_without_email_is_exported_and_forgotten_by_id_or_phone(invoke, db_path, query):
    # A postal donor writes to ask for their data, then to be forgotten: they have no email.
    invoke("import", "contacts", str(_postal_file(db_path)))
    donor = query("SELECT id FROM contacts WHERE last_name = 'Sanscourriel'")[0][0]
    document = json.loads(invoke("gdpr", "export", f"#{donor}").stdout)
    assert [c["last_name"] for c in document["contacts"]] == ["Sanscourriel"] and document["email"] is None
    by_phone = json.loads(invoke("gdpr", "export", "03 84 11 22 33").stdout)
    assert by_phone["contact_ids"] == [donor]
    # Two people of one household share a landline: the phone does not say whom to erase.
    shared = invoke("gdpr", "forget", "03 81 00 00 00")
    assert shared.exit_code == 2 and "2 contacts share the phone +33381000000" in shared.stderr
    result = invoke("gdpr", "forget", "03 84 11 22 33", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["erased"] == 1 and json.loads(result.stdout)["unkeyed"] is False
    assert query("SELECT count(*) FROM contacts WHERE last_name = 'Sanscourriel'") == [(0,)]
    assert query("SELECT kind FROM suppressions WHERE reason = 'erased'") == [("phone",)]
    # Without email or phone, nothing can stop a later import: the user is told so.
    nobody = query("SELECT id FROM contacts WHERE last_name = 'Papier'")[0][0]
    result = invoke("gdpr", "forget", str(nobody))
    assert result.exit_code == 0 and "nothing can stop a later import" in result.stdout
    assert query("SELECT count(*) FROM contacts WHERE last_name = 'Papier'") == [(0,)]
    assert query("SELECT last_name FROM contacts ORDER BY 1") == [("Foyer",), ("Foyer",)]


def _postal_file(db_path):
    path = db_path.parent / "donateurs_courrier.csv"
    path.write_text(
        "Nom;Prénom;Adresse;Code postal;Ville;Téléphone\n"
        "Sanscourriel;Odette;3 rue Haute;39100;Dole;03 84 11 22 33\n"
        "Papier;Jules;5 rue Basse;39100;Dole;\n"
        "Foyer;Anne;1 place Neuve;25000;Besançon;03 81 00 00 00\n"
        "Foyer;Marc;1 place Neuve;25000;Besançon;03 81 00 00 00\n",
        encoding="utf-8",
    )
    return path


def _hold_when_released(monkeypatch, db_path, holders):
    """Make another process take the database (and keep it a while) as soon as this one closes it.

    What a queued cron job does: it polls the lock and gets the base the moment it is free.
    """
    import subprocess
    import sys

    from cli.commands.common import AppContext

    close = AppContext.close
    script = (
        "import sys, time, duckdb\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "con.close()\n"
    )

    def close_then_hold(self):
        was_open = self._con is not None
        close(self)
        if was_open and not holders:
            holder = subprocess.Popen([sys.executable, "-c", script, str(db_path), "4"],
                                      stdout=subprocess.PIPE, text=True)
            assert holder.stdout.readline().strip() == "held"
            holders.append(holder)

    monkeypatch.setattr(AppContext, "close", close_then_hold)


def test_forget_keeps_the_database_until_the_file_is_rewritten(invoke, db_path, monkeypatch):
    """Another crmseg taking the base between the erasure and the rewrite made forget exit 3 (busy)
    after erasing, with the erased values still in the file's freed blocks."""
    _seed(db_path)
    holders = []
    _hold_when_released(monkeypatch, db_path, holders)
    try:
        result = invoke("--wait", "0.5", "gdpr", "forget", PERSON["email"])
        assert result.exit_code == 0, result.stderr
    finally:
        for holder in holders:
            holder.wait(timeout=60)
    data = db_path.read_bytes().lower()
    for needle in (PERSON["email"], PERSON["old_email"], "quasimodo"):
        assert needle.encode() not in data, needle


def test_forgetting_again_finishes_an_interrupted_rewrite(invoke, db_path):
    """A forget whose rewrite did not happen (killed, disk full, --no-compact) is completed by running it again."""
    _seed(db_path)
    assert invoke("gdpr", "forget", PERSON["email"], "--no-compact").exit_code == 0
    again = invoke("gdpr", "forget", PERSON["email"])
    assert again.exit_code == 0 and "already forgotten" in again.stdout
    data = db_path.read_bytes().lower()
    for needle in (PERSON["email"], PERSON["old_email"], "quasimodo"):
        assert needle.encode() not in data, needle
    assert not db_path.with_name(db_path.name + ".wal").exists()
