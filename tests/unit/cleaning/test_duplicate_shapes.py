"""Duplicate shapes of French, Belgian and Dutch files that the fuzzy pass must find (or must not merge)."""

from __future__ import annotations

from datetime import date

from .conftest import add_contact, clean


def _pending(con) -> list[tuple[int, int, float]]:
    return con.execute(
        "SELECT contact_a, contact_b, score FROM duplicate_pairs WHERE status = 'pending' ORDER BY 1, 2"
    ).fetchall()


def _merged(con) -> list[tuple[int, int]]:
    return con.execute(
        "SELECT least(id, merged_into), greatest(id, merged_into) FROM contacts WHERE status = 'merged' ORDER BY 1"
    ).fetchall()


def test_a_dutch_postcode_with_and_without_its_space_is_one_postcode(con):
    home = dict(first_name="Jan", last_name="de Vries", phone="+31612345678", street="Kerkstraat 1", city="Amsterdam")
    a = add_contact(con, email="jan.devries@ziggo.nl", postal_code="1017 GA", **home)
    b = add_contact(con, email="j.devries@werk.nl", postal_code="1017ga", **home)
    clean(con, only=["duplicates"])
    assert _merged(con) == [(a, b)]
