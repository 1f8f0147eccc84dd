"""Duplicates as French contact files hold them: civilities in names, abbreviated streets,
households (spouses, parent and child) at one address and phone."""

from __future__ import annotations

from datetime import date

from cli.cleaning.review import merge_all

from .conftest import add_contact, clean

LYON = dict(street="10 rue de la Paix", postal_code="69002", city="Lyon", phone="+33478000001")


def _live(con) -> list[int]:
    return [r[0] for r in con.execute("SELECT id FROM contacts WHERE status <> 'merged' ORDER BY id").fetchall()]


def test_a_civility_in_the_name_and_an_abbreviated_street_still_merge(con):
    claire = add_contact(con, email="claire.dubois@laposte.net", first_name="Mme Claire", last_name="Dubois",
                         street="3 rue Victor Hugo", postal_code="33000", birth_date=date(1982, 10, 20))
    add_contact(con, email="cdubois@gmail.com", first_name="Claire", last_name="Dubois",
                street="3 rue Victor Hugo", postal_code="33000", birth_date=date(1982, 10, 20))
    jp = add_contact(con, email="jp.martin@free.fr", first_name="Jean-Pierre", last_name="Martin",
                     street="5 avenue Foch", postal_code="75016", phone="+33145678910", birth_date=date(1960, 6, 1))
    add_contact(con, email="jeanpierre.martin@gmail.com", first_name="Jean Pierre", last_name="Martin",
                street="5 av. Foch", postal_code="75016", phone="+33145678910", birth_date=date(1960, 6, 1))
    roux = add_contact(con, email="francois.roux@sfr.fr", first_name="François", last_name="Roux",
                       street="22 bd Gambetta", postal_code="06000", birth_date=date(1955, 7, 15))
    add_contact(con, first_name="ROUX", last_name="Francois", street="22 boulevard Gambetta", postal_code="06000",
                birth_date=date(1955, 7, 15))
    report = clean(con, only=["duplicates"]).reports[0]
    assert report.details["fuzzy_merged"] == 3
    pairs = con.execute("SELECT least(id, merged_into), greatest(id, merged_into) FROM contacts "
                        "WHERE status = 'merged' ORDER BY 1").fetchall()
    assert pairs == [(claire, claire + 1), (jp, jp + 1), (roux, roux + 1)]


def test_spouses_at_one_address_and_phone_are_never_merged_by_clean(con):
    couples = [
        (("Michel", "M"), ("Michèle", "F")),
        (("Daniel", None), ("Danièle", None)),
        (("Pascal", None), ("Pascale", None)),
        (("Dominique", "M"), ("Dominique", "F")),
    ]
    for n, ((first_a, gender_a), (first_b, gender_b)) in enumerate(couples):
        last = f"Martin{n}"
        add_contact(con, email=f"{first_a.lower()}.{n}@orange.fr", first_name=first_a, last_name=last,
                    gender=gender_a, **LYON)
        add_contact(con, email=f"{first_b.lower()}.{n}b@orange.fr", first_name=first_b, last_name=last,
                    gender=gender_b, **LYON)
    clean(con, only=["duplicates"])
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'merged'").fetchone()[0] == 0
    pending = con.execute("SELECT score FROM duplicate_pairs WHERE status = 'pending'").fetchall()
    assert len(pending) == 4 and all(0.8 <= s < 0.95 for (s,) in pending)


def test_a_record_without_birth_date_does_not_merge_a_father_and_his_son(con):
    father = add_contact(con, email="louis.lambert@free.fr", first_name="Louis", last_name="Lambert",
                         birth_date=date(1950, 2, 2), **LYON)
    son = add_contact(con, email="louis.lambert.fils@free.fr", first_name="Louis", last_name="Lambert",
                      birth_date=date(1980, 3, 3), **LYON)
    either = add_contact(con, email="l.lambert@gmail.com", first_name="Louis", last_name="Lambert", **LYON)
    clean(con, only=["duplicates"])
    assert _live(con) == [father, son, either]
    merge_all(con, 0.8)
    assert _live(con) == [father, son, either]
    # Both pairs wait for a person to say which Louis the third record is.
    assert con.execute("SELECT count(*) FROM duplicate_pairs WHERE status = 'pending'").fetchone()[0] == 2
