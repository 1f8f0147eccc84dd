"""What the duplicates pass reports, against what it did to the base."""

from __future__ import annotations

from .conftest import add_contact, clean


def test_pairs_left_for_review_are_not_counted_as_changed_contacts(con):
    base = dict(street="12 rue des Lilas", postal_code="69003", city="Lyon")
    add_contact(con, email="marie.dupont@free.fr", first_name="Marie", last_name="Dupont", **base)
    add_contact(con, email="m.dupond@orange.fr", first_name="Marie", last_name="Dupond", **base)
    before = con.execute("SELECT * FROM contacts ORDER BY id").fetchall()
    report = clean(con, only=["duplicates"]).reports[0]
    assert report.details["new_pairs_for_review"] == 1
    assert con.execute("SELECT * FROM contacts ORDER BY id").fetchall() == before
    assert report.changed == 0
