"""Erasure leaves no trace of the person anywhere, and keeps everyone else."""

from __future__ import annotations

import pytest

from cli.erasure import checkpoint, erase_contacts, rewrite_database_file
from cli.gdpr import forget_person
from cli.normalise import normalise_email
from cli.store import open_database
from cli.suppression import is_forgotten
from tests.unit.people.helpers import PERSON, PERSON_NEEDLES, add_contact, add_later_table, rich_person


def traces(con, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every value, in every table and column, that holds a needle."""
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name, ordinal_position"
    ).fetchall()
    found = []
    for table, column in columns:
        # Names from information_schema, quoted; the needles are bound.
        query = (
            'SELECT DISTINCT n FROM "' + table + '", unnest($needles::VARCHAR[]) AS t(n) '
            'WHERE contains(strip_accents(lower("' + column + '"::VARCHAR)), n)'
        )
        for (needle,) in con.execute(query, {"needles": needles}).fetchall():
            found.append((table, column, needle))
    return found


def test_the_fixture_puts_the_person_everywhere(con):
    rich_person(con)
    add_later_table(con, 2)
    tables = {t for t, _, _ in traces(con, PERSON_NEEDLES)}
    assert {"contacts", "events", "merges", "import_rejects", "import_issues", "cleaning_changes", "audit_log",
            "email_checks"} <= tables


def test_forget_leaves_no_trace_in_any_table_or_column(con):
    ids = rich_person(con)
    add_later_table(con, ids["person"])
    result = forget_person(con, PERSON["email"])
    assert result.contacts_erased == 2
    assert traces(con, PERSON_NEEDLES) == []


def test_forget_keeps_everyone_else(con):
    ids = rich_person(con)
    add_later_table(con, ids["person"])
    forget_person(con, PERSON["email"])
    paul = ids["paul"]
    assert con.execute("SELECT email FROM contacts").fetchall() == [("paul.durand@example.org",)]
    for table, column in [("events", "contact_id"), ("contact_tags", "contact_id"), ("group_members", "contact_id"),
                          ("segment_members", "contact_id"), ("import_issues", "contact_id")]:
        rows = con.execute("SELECT " + column + " FROM " + table).fetchall()
        assert rows == [(paul,)], table
    assert con.execute("SELECT count(*) FROM import_rejects").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM email_checks").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM groups").fetchone()[0] == 1
    # The audit log keeps its lines; only the one naming the person is redacted, and the erasure is logged.
    actions = con.execute("SELECT action, details FROM audit_log ORDER BY id").fetchall()
    assert [a for a, _ in actions] == ["merge", "add", "forget"]
    assert "redacted" in actions[0][1]
    assert "benevole" in actions[1][1]


def test_forgotten_keys_stop_a_reimport_of_every_address_and_phone(con):
    rich_person(con)
    forget_person(con, PERSON["email"])
    for value in ("  Zephyrine.Quasimodo@EXAMPLE.org ", PERSON["old_email"], PERSON["phone"]):
        key = con.execute("SELECT crmseg_key(?)", [normalise_email(value) if "@" in value else value]).fetchone()[0]
        assert is_forgotten(con, key), value
    reasons = con.execute("SELECT DISTINCT reason FROM suppressions ORDER BY 1").fetchall()
    assert reasons == [("erased",), ("soft_bounce",)]  # the earlier entry stays, with no contact id
    assert con.execute("SELECT count(*) FROM suppressions WHERE contact_id IS NOT NULL").fetchone()[0] == 0


def test_reimporting_the_row_leaves_the_person_absent(con):
    """What import does with a row (SPEC §3): a row whose email key is forgotten is skipped."""
    rich_person(con)
    forget_person(con, PERSON["email"])
    row = {"email": " ZEPHYRINE.QUASIMODO@example.org", "first_name": "Zéphyrine"}
    key = con.execute("SELECT crmseg_key(?)", [normalise_email(row["email"])]).fetchone()[0]
    if not is_forgotten(con, key):
        add_contact(con, email=normalise_email(row["email"]), first_name=row["first_name"])
    assert traces(con, PERSON_NEEDLES) == []


def test_forget_by_the_old_merged_address_erases_the_whole_person(con):
    ids = rich_person(con)
    result = forget_person(con, PERSON["old_email"])
    assert result.contacts_erased == 2
    assert con.execute("SELECT id FROM contacts").fetchall() == [(ids["paul"],)]


def test_forget_twice_is_harmless_and_says_so(con):
    rich_person(con)
    forget_person(con, PERSON["email"])
    again = forget_person(con, PERSON["email"])
    assert again.already_forgotten and again.contacts_erased == 0


def test_forget_an_address_only_seen_in_a_rejected_row(con):
    con.execute("INSERT INTO import_rejects VALUES (1, 2, 'no identity', '{\"mail\": \"lost@example.org\"}')")
    result = forget_person(con, "lost@example.org")
    assert result.rows_removed == 1 and result.suppression_keys_added == 1
    assert con.execute("SELECT count(*) FROM import_rejects").fetchone()[0] == 0
    assert is_forgotten(con, con.execute("SELECT crmseg_key('lost@example.org')").fetchone()[0])


def test_forget_unknown_address_changes_nothing(con):
    from cli.errors import NotFoundError

    rich_person(con)
    with pytest.raises(NotFoundError, match="nothing is held"):
        forget_person(con, "nobody@example.org")
    assert con.execute("SELECT count(*) FROM suppressions").fetchone()[0] == 1


def test_a_last_name_alone_does_not_erase_someone_elses_rejected_row(con):
    rich_person(con)
    con.execute("INSERT INTO import_rejects VALUES (1, 20, 'bad', '{\"Nom\": \"Quasimodo-Brun\", \"Prénom\": \"Jean\"}')")
    forget_person(con, PERSON["email"])
    assert con.execute("SELECT count(*) FROM import_rejects WHERE row_number = 20").fetchone()[0] == 1


def test_erase_contacts_serves_the_retention_pass(con):
    ids = [add_contact(con, email=f"p{i}@example.org", first_name=f"P{i}", last_name="Prospect") for i in range(50)]
    con.execute("INSERT INTO events (contact_id, type, occurred_at) SELECT unnest(?), 'email_open', '2020-01-01'", [ids])
    assert erase_contacts(con, ids[:30], source="clean retention") == 30
    assert erase_contacts(con, [], source="clean retention") == 0
    assert con.execute("SELECT count(*) FROM contacts").fetchone()[0] == 20
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 20
    assert con.execute("SELECT count(DISTINCT key) FROM suppressions WHERE reason = 'erased' "
                       "AND source = 'clean retention'").fetchone()[0] == 30


def test_the_file_holds_no_byte_of_the_email_after_rewrite(db_path):
    con = open_database(db_path, wait=0, memory_limit="1GB")
    rich_person(con)
    checkpoint(con)
    assert PERSON["email"].encode() in db_path.read_bytes()
    forget_person(con, PERSON["email"])
    checkpoint(con)
    con.close()
    rewrite_database_file(db_path, wait=0)
    data = db_path.read_bytes().lower()
    for needle in (PERSON["email"], PERSON["old_email"], "quasimodo-brun"):
        assert needle.encode() not in data
    assert not db_path.with_name(db_path.name + ".wal").exists()
    con = open_database(db_path, wait=0, memory_limit="1GB")
    assert con.execute("SELECT email FROM contacts").fetchall() == [("paul.durand@example.org",)]
    # Sequences survive the rewrite: a new contact does not reuse an old id.
    new_id = add_contact(con, email="new@example.org")
    assert new_id > 3
    con.close()


def test_a_group_field_naming_the_person_is_exported_and_redacted(con):
    """A group's own fields (its contact person, a phone) may name someone who is not a member."""
    import json

    from cli.gdpr import export_person

    rich_person(con)
    con.execute("INSERT INTO groups (id, name, description, fields) VALUES (2, 'conseil', 'Board', ?), "
                "(3, 'jardin', 'Garden', ?)",
                [json.dumps({"contact": "Zéphyrine <" + PERSON["email"].upper() + ">", "tel": "06 98 76 54 32",
                             "address": "3 place X, Lyon"}),
                 json.dumps({"contact": "paul.durand@example.org"})])
    document = export_person(con, PERSON["email"])
    assert sorted(g["name"] for g in document["groups"]) == ["bureau", "conseil"]
    result = forget_person(con, PERSON["email"])
    fields = {name: json.loads(f) for name, f in con.execute("SELECT name, fields FROM groups").fetchall()}
    assert fields["conseil"] == {"contact": "(erased)", "tel": "(erased)", "address": "3 place X, Lyon"}
    assert fields["jardin"] == {"contact": "paul.durand@example.org"}
    assert fields["bureau"] == {"address": "3 place X"}
    assert result.rows_removed > 0
    assert traces(con, PERSON_NEEDLES + ["98 76 54 32"]) == []


def test_an_address_only_in_a_group_field_can_be_forgotten(con):
    import json

    con.execute("INSERT INTO groups (name, fields) VALUES ('conseil', '{\"contact\": \"lost@example.org\"}')")
    result = forget_person(con, "lost@example.org")
    assert result.rows_removed == 1
    assert json.loads(con.execute("SELECT fields FROM groups").fetchone()[0]) == {"contact": "(erased)"}
