"""``gdpr export``: every table that holds the person contributes to the document."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cli.errors import InputError, NotFoundError
from cli.gdpr import EXPORT_SECTIONS, TABLES_WITHOUT_PEOPLE, document_text, export_person, forget_person, write_document
from tests.unit.people.helpers import PERSON, add_later_table, rich_person

AS_OF = date(2026, 11, 1)


def test_every_table_is_exported_or_known_to_hold_no_person(con):
    tables = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_catalog = current_database()").fetchall()}
    unclassified = tables - set(EXPORT_SECTIONS) - TABLES_WITHOUT_PEOPLE
    assert unclassified == set(), "classify these tables in cli/gdpr.py (EXPORT_SECTIONS or TABLES_WITHOUT_PEOPLE)"


def _document(con):
    return json.loads(document_text(export_person(con, PERSON["email"].upper(), as_of=AS_OF)))


# table -> a check that the person's row in it appears in the document.
CHECKS = {
    "contacts": lambda d, ids: {c["id"] for c in d["contacts"]} == {ids["person"], ids["old"]},
    "custom_values": lambda d, ids: d["custom_values"][str(ids["person"])] == {"interests": ["animaux"], "member_number": "ZQ-77"},
    "contact_tags": lambda d, ids: [t["tag"] for t in d["tags"]] == ["benevole"],
    "events": lambda d, ids: [(e["type"], e["amount"]) for e in d["events"]] == [("donation", 50.0)],
    "group_members": lambda d, ids: [g["name"] for g in d["groups"]] == ["bureau"],
    "groups": lambda d, ids: d["groups"][0]["fields"] == {"address": "3 place X"},
    "segment_members": lambda d, ids: [s["segment"] for s in d["segment_memberships"]] == ["donors"],
    "segment_runs": lambda d, ids: d["segment_memberships"][0]["as_of"] == "2026-10-01",
    "suppressions": lambda d, ids: sorted(s["reason"] for s in d["suppressions"]) == ["soft_bounce"],
    "imports": lambda d, ids: [i["file_name"] for i in d["imports"]] == ["members.csv"],
    "import_rejects": lambda d, ids: sorted(r["row_number"] for r in d["import_rejects"]) == [4, 5, 6],
    "import_issues": lambda d, ids: sorted(i["value"] for i in d["import_issues"]) == ["31/02/1980", "zephyrine.quasimodo@exampl"],
    "merges": lambda d, ids: d["merges"][0]["absorbed_record"]["contacts"][0]["email"] == PERSON["old_email"],
    "duplicate_pairs": lambda d, ids: [p["score"] for p in d["duplicate_pairs"]] == [0.81],
    "contact_scores": lambda d, ids: [s["rfm_segment"] for s in d["scores"]] == ["champions"],
    "stage_history": lambda d, ids: [s["stage"] for s in d["stage_history"]] == ["active_customer"],
    "cleaning_changes": lambda d, ids: sorted(c["pass"] for c in d["cleaning_changes"]) == ["duplicates", "invalid"],
    "audit_log": lambda d, ids: [a["action"] for a in d["audit_log"]] == ["merge"],
}


def test_checks_cover_every_exported_table():
    assert set(CHECKS) == set(EXPORT_SECTIONS)


@pytest.mark.parametrize("table", sorted(EXPORT_SECTIONS))
def test_each_table_holding_the_person_appears_in_the_document(con, table):
    ids = rich_person(con)
    document = _document(con)
    assert CHECKS[table](document, ids), json.dumps(document.get(EXPORT_SECTIONS[table]), indent=1)


def test_the_document_holds_nothing_of_other_people(con):
    rich_person(con)
    text = document_text(export_person(con, PERSON["email"], as_of=AS_OF))
    assert "paul.durand" not in text and "Durand" not in text


def test_a_table_added_later_appears_under_other(con):
    ids = rich_person(con)
    add_later_table(con, ids["person"])
    document = _document(con)
    assert sorted(r["checked"] for r in document["other"]["email_checks"]) == ["ok", "ok"]


def test_export_then_forget_removes_what_the_export_listed(con):
    rich_person(con)
    document = _document(con)
    forget_person(con, PERSON["email"])
    assert con.execute("SELECT count(*) FROM import_rejects").fetchone()[0] == 4 - len(document["import_rejects"])


def test_unknown_bad_and_forgotten_emails(con):
    rich_person(con)
    with pytest.raises(NotFoundError, match="no contact with the email nobody@example.org"):
        export_person(con, "nobody@example.org")
    with pytest.raises(InputError, match="not an email address"):
        export_person(con, "   ")
    forget_person(con, PERSON["email"])
    with pytest.raises(NotFoundError, match="was erased"):
        export_person(con, PERSON["email"])


def test_write_document_is_private_and_refuses_a_missing_folder(con, tmp_path):
    rich_person(con)
    path = write_document(export_person(con, PERSON["email"]), tmp_path / "zq.json")
    assert json.loads(path.read_text())["email"] == PERSON["email"]
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(InputError, match="does not exist"):
        write_document({}, tmp_path / "nope" / "x.json")


def test_an_address_only_seen_in_rejected_rows_is_exported(con):
    """What forget would erase (a donation row whose address matched no contact) is shown, not "nothing held"."""
    con.execute("INSERT INTO import_rejects VALUES (2, 7, 'unknown person', ?), (2, 8, 'unknown person', ?)",
                [json.dumps({"Adresse e-mail": "Lost@Example.org", "Montant": "40"}),
                 json.dumps({"Adresse e-mail": "someone.else@example.org", "Montant": "10"})])
    document = json.loads(document_text(export_person(con, "lost@example.org")))
    assert document["contacts"] == [] and document["email"] == "lost@example.org"
    assert [r["raw"]["Montant"] for r in document["import_rejects"]] == ["40"]
    with pytest.raises(NotFoundError, match="no contact with the email nobody@example.org"):
        export_person(con, "nobody@example.org")


def test_a_unicode_domain_finds_rows_that_spell_it_either_way(con):
    from tests.unit.people.helpers import add_contact

    add_contact(con, email="zoe@xn--exmple-cva.fr", first_name="Zoé", last_name="Lenoir")
    con.execute("INSERT INTO import_rejects VALUES (2, 7, 'unknown person', ?), (2, 8, 'unknown person', ?), "
                "(2, 9, 'unknown person', ?)",
                [json.dumps({"email": "ZOE@Exémple.FR", "Montant": "40"}),
                 json.dumps({"email": "zoe@XN--EXMPLE-CVA.fr", "Montant": "30"}),
                 # Another address: exemple.fr is not exémple.fr.
                 json.dumps({"email": "zoe@exemple.fr", "Montant": "10"})])
    for spelling in ("Zoe@Exémple.fr", "zoe@xn--exmple-cva.fr"):
        document = json.loads(document_text(export_person(con, spelling)))
        assert sorted(r["raw"]["Montant"] for r in document["import_rejects"]) == ["30", "40"], spelling
    forget_person(con, "ZOE@EXÉMPLE.FR")
    assert con.execute("SELECT raw ->> 'Montant' FROM import_rejects").fetchall() == [("10",)]
