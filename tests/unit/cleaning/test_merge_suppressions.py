"""Which suppression a merged contact keeps: the person's will follows the person, an address's
fault (a bounce, an invalid or disposable domain) stays with that address."""

from __future__ import annotations

from datetime import date, datetime

from .conftest import add_contact, add_events, clean, status_of


def _lucas(con, old_email: str) -> tuple[int, int]:
    same = dict(first_name="Lucas", last_name="Petit", phone="+33699887766", birth_date=date(1990, 1, 1))
    old = add_contact(con, email=old_email, consent_email=None, consent_at=None, **same)
    new = add_contact(con, email="lucas.petit@gmail.com", consent_email=True, consent_at=datetime(2026, 9, 1),
                      street="4 rue Neuve", postal_code="69001", city="Lyon", **same)
    return old, new


def _ledger(con, email: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT s.reason FROM suppressions s WHERE s.key = crmseg_key(?) ORDER BY 1", [email]).fetchall()]


def test_an_old_address_that_bounced_does_not_suppress_the_new_one(con):
    old, new = _lucas(con, "lucas.petit@wanadoo.fr")
    add_events(con, old, ("hard_bounce", "2026-03-01"))
    clean(con, only=["bounces", "duplicates"])
    assert status_of(con, old)[0] == "merged"
    assert con.execute("SELECT email FROM contacts WHERE id = ?", [new]).fetchone()[0] == "lucas.petit@gmail.com"
    assert status_of(con, new) == ("active", None)
    assert _ledger(con, "lucas.petit@gmail.com") == []
    assert _ledger(con, "lucas.petit@wanadoo.fr") == ["hard_bounce"]


def test_a_disposable_address_does_not_suppress_the_real_one(con):
    old, new = _lucas(con, "lucas@yopmail.com")
    clean(con, only=["invalid", "duplicates"])
    assert status_of(con, new) == ("active", None)
    assert _ledger(con, "lucas.petit@gmail.com") == []


def test_an_unsubscribe_follows_the_person_to_the_kept_address(con):
    old, new = _lucas(con, "lucas.petit@wanadoo.fr")
    add_events(con, old, ("unsubscribe", "2026-03-01"))
    clean(con, only=["unsubscribes", "duplicates"])
    assert status_of(con, new) == ("suppressed", "unsubscribe")
    assert _ledger(con, "lucas.petit@gmail.com") == ["unsubscribe"]
