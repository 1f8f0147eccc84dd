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


MAILERLITE = (
    "Email,Name,Last name,Status,Subscribed,Groups\n"
    "alice@orange.fr,Alice,Martin,active,2024-01-10 09:12:44,Newsletter\n"
    "dan@laposte.net,Dan,Petit,junk,2024-01-10 09:12:44,Newsletter\n"
    "gina@hotmail.fr,Gina,Durand,unconfirmed,2024-01-10 09:12:44,Newsletter\n"
)
MAILJET = (
    "email,name,created_at,is_opt_in_pending,unsub,Bounce,Spam\n"
    "alice@orange.fr,Alice Martin,2024-01-10T09:12:44Z,false,false,false,false\n"
    "bob@free.fr,Bob Bernard,2024-01-10T09:12:44Z,false,true,false,false\n"
    "dan@laposte.net,Dan Petit,2024-01-10T09:12:44Z,false,false,false,true\n"
)
KLAVIYO = (
    "Email,Suppression reason,Suppressed at\n"
    "bob@free.fr,Unsubscribed,2025-03-04 18:22:10\n"
    "carol@gmail.com,Hard bounce,2025-02-11 10:05:33\n"
    "dan@laposte.net,Spam complaint,2025-04-01 08:00:00\n"
    "frank@wanadoo.fr,Manually suppressed,2025-04-02 08:00:00\n"
    "kim@bbox.fr,Invalid email,2025-04-03 08:00:00\n"
)


def test_mailerlite_junk_status_is_a_complaint_and_unconfirmed_no_issue(listed, query):
    emails = listed(("contacts", "mailerlite.csv", MAILERLITE))
    assert "dan@laposte.net" not in emails and "gina@hotmail.fr" in emails
    assert query("SELECT email, status_reason FROM contacts WHERE status = 'suppressed'") == [
        ("dan@laposte.net", "spam_complaint")
    ]
    assert query("SELECT count(*) FROM import_issues") == [(0,)]


def test_mailjet_unsub_and_spam_flags_suppress_and_false_flags_do_not(listed, query):
    emails = listed(("contacts", "mailjet.csv", MAILJET))
    assert emails == ["alice@orange.fr", "carol@gmail.com", "frank@wanadoo.fr", "gina@hotmail.fr", "kim@bbox.fr"]
    assert query("SELECT email, status_reason FROM contacts WHERE status = 'suppressed' ORDER BY email") == [
        ("bob@free.fr", "unsubscribe"), ("dan@laposte.net", "spam_complaint")
    ]
    assert query("SELECT reason FROM suppressions ORDER BY reason") == [("spam_complaint",), ("unsubscribe",)]


def test_a_suppression_list_with_its_reason_column_suppresses_everyone_on_it(listed, query):
    emails = listed(("contacts", "klaviyo.csv", KLAVIYO))
    assert emails == ["alice@orange.fr", "gina@hotmail.fr"]
    assert query("SELECT email, status_reason FROM contacts WHERE status = 'suppressed' ORDER BY email") == [
        ("bob@free.fr", "unsubscribe"), ("carol@gmail.com", "hard_bounce"), ("dan@laposte.net", "spam_complaint"),
        ("frank@wanadoo.fr", "unsubscribe"), ("kim@bbox.fr", "hard_bounce"),
    ]


MAILCHIMP_BOUNCED = (
    '"Email Address","First Name","Last Name","Bounce Type","Timestamp"\n'
    'carol@gmail.com,Carol,Thomas,hard,"2025-02-11 10:05:33"\n'
    'frank@wanadoo.fr,Frank,Richard,soft,"2025-02-11 10:05:34"\n'
)
MAILJET_EVENTS = (
    "event,time,email,campaign_name,hard_bounce,error_related_to,error\n"
    "open,2025-05-02 11:00:00,alice@orange.fr,Newsletter mai,,,\n"
    "bounce,2025-05-02 10:00:01,carol@gmail.com,Newsletter mai,true,recipient,user unknown\n"
    "bounce,2025-05-02 10:00:02,frank@wanadoo.fr,Newsletter mai,false,mailbox,quota exceeded\n"
)


@pytest.mark.parametrize("name, text", [("mc_bounced.csv", MAILCHIMP_BOUNCED), ("mailjet_events.csv", MAILJET_EVENTS)])
def test_a_bounce_kind_column_tells_hard_bounces_from_soft_ones(listed, query, name, text):
    emails = listed(("events", name, text))
    assert "carol@gmail.com" not in emails and "frank@wanadoo.fr" in emails
    assert query("SELECT c.email, e.type FROM events e JOIN contacts c ON c.id = e.contact_id "
                 "WHERE e.type LIKE '%bounce' ORDER BY 1") == [
        ("carol@gmail.com", "hard_bounce"), ("frank@wanadoo.fr", "soft_bounce")
    ]
    assert query("SELECT count(*) FROM import_rejects") == [(0,)]


def test_mailchimp_unsubscribe_and_abuse_reports_import_as_events(listed, query):
    # Per-campaign reports: the date column's header says the kind of event.
    unsub = "Email Address,First Name,Unsubscribe Date,Reason\nalice@orange.fr,Alice,2025-03-15 10:22:33,No longer interested\n"
    abuse = "Email Address,First Name,Abuse Report Date\nbob@free.fr,Bob,2025-03-16 08:00:00\n"
    emailed = listed(("events", "unsubscribes.csv", unsub), ("events", "abuse.csv", abuse))
    assert "alice@orange.fr" not in emailed and "bob@free.fr" not in emailed and "carol@gmail.com" in emailed
    assert query("SELECT c.email, e.type, e.occurred_at::VARCHAR FROM events e JOIN contacts c ON c.id = e.contact_id "
                 "WHERE e.type IN ('unsubscribe', 'spam_complaint') ORDER BY 1") == [
        ("alice@orange.fr", "unsubscribe", "2025-03-15 10:22:33"), ("bob@free.fr", "spam_complaint", "2025-03-16 08:00:00"),
    ]
