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


def test_a_maiden_and_a_married_name_with_one_birth_date_and_phone_wait_for_review(con):
    home = dict(first_name="Claire", phone="+33622222222", street="3 place Bellecour", postal_code="69002",
                birth_date=date(1982, 5, 15), gender="F")
    maiden = add_contact(con, email="claire.bernard@free.fr", last_name="Bernard", **home)
    married = add_contact(con, email="claire.petit@gmail.com", last_name="Petit", **home)
    clean(con, only=["duplicates"])
    assert _merged(con) == []  # a surname change is never merged unseen
    [(a, b, score)] = _pending(con)
    assert (a, b) == (maiden, married) and 0.8 <= score < 0.95
    fields = con.execute("SELECT matched_fields FROM duplicate_pairs").fetchone()[0]
    assert fields[0] == "first_name" and "birth_date" in fields and "phone" in fields


def test_sisters_of_one_birth_date_or_namesakes_born_elsewhere_are_not_a_surname_change(con):
    home = dict(phone="+33622222222", street="3 place Bellecour", postal_code="69002", gender="F")
    # Twins: one birth date and phone, other first names.
    add_contact(con, email="anne.petit@free.fr", first_name="Anne", last_name="Petit", birth_date=date(1990, 1, 1), **home)
    add_contact(con, email="lea.martin@free.fr", first_name="Léa", last_name="Martin", birth_date=date(1990, 1, 1), **home)
    # One first name and phone, another birth date and surname.
    add_contact(con, email="sophie.durand@free.fr", first_name="Sophie", last_name="Durand",
                birth_date=date(1960, 3, 3), **home)
    add_contact(con, email="sophie.leroy@free.fr", first_name="Sophie", last_name="Leroy",
                birth_date=date(1992, 7, 7), **home)
    clean(con, only=["duplicates"])
    assert _pending(con) == [] and _merged(con) == []


def test_a_first_name_given_as_initials_waits_for_review(con):
    home = dict(last_name="Durand", street="5 avenue Foch", postal_code="69006", birth_date=date(1960, 10, 10), gender="M")
    full = add_contact(con, email="jp.durand@free.fr", first_name="Jean-Pierre", **home)
    initials = add_contact(con, email="jpd@laposte.net", first_name="J.-P.", **home)
    clean(con, only=["duplicates"])
    [(a, b, score)] = _pending(con)
    assert (a, b) == (full, initials) and 0.8 <= score < 0.95


def test_an_organisation_written_two_ways_is_one_organisation(con):
    office = dict(phone="+33140000000", street="10 rue de la Paix", postal_code="75002", city="Paris")
    a = add_contact(con, email="contact@lesamis.fr", organisation="ASSOCIATION LES AMIS", kind="organisation", **office)
    b = add_contact(con, email="tresorier@lesamis.org", organisation="Les Amis (association)", kind="organisation",
                    **office)
    # Another organisation at the same address, and a person on the same switchboard phone.
    other = add_contact(con, email="info@louvre-jeunes.fr", organisation="Association Louvre Jeunes",
                        kind="organisation", **office)
    person = add_contact(con, email="marie@lesamis.fr", first_name="Marie", last_name="Amis", **office)
    clean(con, only=["duplicates"])
    assert _merged(con) == [(a, b)]
    assert not any({other, person} & {x, y} for x, y, _ in _pending(con))
