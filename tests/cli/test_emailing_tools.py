"""Emailing tools' exports, as they come, through import, ``clean`` and an email list.

The promise under test: whoever unsubscribed, hard-bounced, complained or was
blocklisted in the tool is in no email list afterwards, and nobody else is
suppressed (a soft bounce once, a delayed send, an open). Each test imports a
plain contact list with consent first, as a user does.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

BASE = (
    "email,prenom,nom,opt-in email,date opt-in\n"
    "alice@orange.fr,Alice,Martin,oui,2024-01-10\n"
    "bob@free.fr,Bob,Bernard,oui,2024-01-10\n"
    "carol@gmail.com,Carol,Thomas,oui,2024-01-10\n"
    "dan@laposte.net,Dan,Petit,oui,2024-01-10\n"
    "frank@wanadoo.fr,Frank,Richard,oui,2024-01-10\n"
    "gina@hotmail.fr,Gina,Durand,oui,2024-01-10\n"
    "kim@bbox.fr,Kim,Simon,oui,2024-01-10\n"
)
EVERYONE = "name: everyone\npurpose: email\ninclude_inactive: true\nwhere:\n  email: {is_null: false}\n"


@pytest.fixture
def query(db_path: Path):
    """Run a read-only query on the test database after a command finished."""

    def _query(sql: str) -> list[tuple]:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    return _query


@pytest.fixture
def listed(invoke, db_path: Path, tmp_path: Path):
    """Import the base, then ``files`` (kind, name, text), clean, and return the emailed addresses."""
    segments = db_path.parent / "segments"
    segments.mkdir(exist_ok=True)
    (segments / "everyone.yaml").write_text(EVERYONE, encoding="utf-8")

    def _run(*files: tuple[str, str, str]) -> list[str]:
        for kind, name, text in (("contacts", "base.csv", BASE), *files):
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            result = invoke("import", kind, str(path))
            assert result.exit_code == 0, result.stderr
        assert invoke("--as-of", "2025-06-30", "clean").exit_code == 0
        out = tmp_path / "everyone.csv"
        result = invoke("--as-of", "2025-06-30", "segment", "run", "everyone", "--out", str(out))
        assert result.exit_code == 0, result.stderr
        with open(out, encoding="utf-8", newline="") as handle:
            return sorted(row["email"] for row in csv.DictReader(handle))

    return _run


BREVO_LOGS = (
    "Date;Event;Email;Subject;Tag;Message-ID\n"
    "2025-05-02 10:00:01;requests;alice@orange.fr;Reçu;recu;<201@smtp-relay.mailin.fr>\n"
    "2025-05-02 11:20:00;opened;alice@orange.fr;Reçu;recu;<201@smtp-relay.mailin.fr>\n"
    "2025-05-02 10:00:04;hardBounces;carol@gmail.com;Reçu;recu;<203@smtp-relay.mailin.fr>\n"
    "2025-05-02 10:00:05;softBounces;frank@wanadoo.fr;Reçu;recu;<206@smtp-relay.mailin.fr>\n"
    "2025-05-02 10:00:09;invalid;kim@bbox.fr;Reçu;recu;<210@smtp-relay.mailin.fr>\n"
    + "".join(f"2025-05-02 1{h}:30:10;deferred;gina@hotmail.fr;Reçu;recu;<207@smtp-relay.mailin.fr>\n" for h in range(5))
    + "2025-05-03 01:30:10;delivered;gina@hotmail.fr;Reçu;recu;<207@smtp-relay.mailin.fr>\n"
)


def test_brevo_logs_hard_bounces_and_invalid_suppress_and_deferred_sends_do_not(listed, query):
    emails = listed(("events", "brevo_logs.csv", BREVO_LOGS))
    assert emails == ["alice@orange.fr", "bob@free.fr", "dan@laposte.net", "frank@wanadoo.fr", "gina@hotmail.fr"]
    assert query("SELECT type, count(*) FROM events GROUP BY type ORDER BY type") == [
        ("email_open", 1), ("email_sent", 7), ("hard_bounce", 2), ("soft_bounce", 1)
    ]
    assert query("SELECT count(*) FROM import_rejects") == [(0,)]
