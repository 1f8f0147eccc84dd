"""An address suppressed as invalid, then corrected: the person can be emailed again."""

from __future__ import annotations

from cli.cleaning.undo import undo_run
from cli.suppression import refresh_contact_keys

from .conftest import add_contact, add_events, clean, status_of


def _correct(con, contact_id: int, email: str) -> None:
    """What an import by external id with --on-conflict update does to the email."""
    con.execute("UPDATE contacts SET email = ? WHERE id = ?", [email, contact_id])
    refresh_contact_keys(con)


def test_a_corrected_address_is_no_longer_suppressed_as_invalid(con):
    typo = add_contact(con, email="jean@example.com", external_id="ADH-1")
    bounced = add_contact(con, email="luc@yopmail.com", external_id="ADH-2")
    clean(con, only=["invalid"])
    assert status_of(con, typo) == ("suppressed", "invalid")
    add_events(con, bounced, ("hard_bounce", "2026-10-01"))
    clean(con, only=["bounces"])  # a hard bounce too: another reason holds it
    _correct(con, typo, "jean.durand@orange.fr")
    _correct(con, bounced, "luc.durand@orange.fr")

    result = clean(con, only=["invalid"])
    assert status_of(con, typo) == ("active", None)
    assert status_of(con, bounced) == ("suppressed", "invalid")
    assert result.reports[0].details["unsuppressed"] == 1
    # The wrong address stays in the ledger; the right one is in none.
    reasons = dict(con.execute("SELECT key, reason FROM suppressions WHERE contact_id = ?", [typo]).fetchall())
    assert list(reasons.values()) == ["invalid"]
    assert con.execute("SELECT count(*) FROM suppressions WHERE key = crmseg_key('jean.durand@orange.fr')"
                       ).fetchone()[0] == 0
    # Logged and reversible like every change of a clean.
    undo_run(con, result.run_id)
    assert status_of(con, typo) == ("suppressed", "invalid")
