"""What the duplicates pass reports, against what it did to the base."""

from __future__ import annotations

from datetime import date

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


def test_sure_pairs_held_back_for_review_count_as_new_pairs_for_review(con):
    # A father and a son of one name, linked through a postal record with no birth date: the two
    # pairs score 1.0 but their cluster holds two people, so both wait in `dupes list`.
    home = dict(phone="+33666666666", street="4 rue Neuve", postal_code="13001", city="Marseille", gender="M")
    add_contact(con, email="louis@free.fr", first_name="Louis", last_name="Lambert", birth_date=date(1950, 2, 1), **home)
    add_contact(con, email="louis.jr@free.fr", first_name="Louis", last_name="Lambert", birth_date=date(1985, 4, 3), **home)
    add_contact(con, email=None, first_name="Louis", last_name="Lambert", **home)
    report = clean(con, only=["duplicates"]).reports[0]
    assert report.changed == 0
    assert report.details["pending_pairs"] == 2
    assert report.details["new_pairs_for_review"] == 2
    # A second run finds nothing new.
    assert clean(con, only=["duplicates"]).reports[0].details["new_pairs_for_review"] == 0
