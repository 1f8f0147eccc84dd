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
