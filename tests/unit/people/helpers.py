"""Building small bases for the people tests (tags, groups, contacts, GDPR)."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from cli.suppression import refresh_contact_keys


def add_contact(con: duckdb.DuckDBPyConnection, **fields: Any) -> int:
    """Insert one contact with these column values; return its id."""
    columns = list(fields)
    placeholders = ", ".join("?" for _ in columns)
    # Column names come from the test's own keyword arguments.
    statement = "INSERT INTO contacts (" + ", ".join(columns) + ") VALUES (" + placeholders + ") RETURNING id"
    contact_id = con.execute(statement, list(fields.values())).fetchone()[0]
    refresh_contact_keys(con)
    return contact_id


def add_event(con: duckdb.DuckDBPyConnection, contact_id: int, type_: str, when: str, amount: float | None = None) -> None:
    con.execute(
        "INSERT INTO events (contact_id, type, occurred_at, amount, currency) VALUES (?, ?, ?, ?, ?)",
        [contact_id, type_, when, amount, "EUR" if amount is not None else None],
    )


def merged_chain(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Anne's three records a@, b@, c@: a@ merged into b@, then b@ into c@. Returns their ids."""
    from cli.cleaning.merge import PlannedMerge, merge_contacts
    from cli.store import transaction

    a = add_contact(con, email="a@example.org", first_name="Anne", last_name="Vieux")
    b = add_contact(con, email="b@example.org", first_name="Anne", last_name="Vieux")
    c = add_contact(con, email="c@example.org", first_name="Anne", last_name="Vieux", consent_email=True)
    for kept, absorbed in ((b, a), (c, b)):
        with transaction(con):
            merge_contacts(con, [PlannedMerge(kept=kept, absorbed=absorbed, score=0.97, rule="test")])
    return a, b, c


def small_base(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Three people: Hélène in Besançon, Paul in Lyon, Anne (suppressed) in Lyon."""
    ids = {
        "helene": add_contact(con, email="helene.martin@example.org", first_name="Hélène", last_name="Martin",
                              city="Besançon", phone="+33611111111", consent_email=True, consent_basis="consent",
                              consent_at="2025-03-01 10:00:00", consent_method="Mailchimp OPTIN_TIME"),
        "paul": add_contact(con, email="paul.durand@example.org", first_name="Paul", last_name="Durand", city="Lyon"),
        "anne": add_contact(con, email="anne@example.org", first_name="Anne", last_name="Leroy", city="Lyon",
                            status="suppressed", status_reason="hard_bounce"),
    }
    add_event(con, ids["helene"], "donation", "2026-01-10", 25)
    add_event(con, ids["helene"], "email_open", "2026-03-02")
    add_event(con, ids["helene"], "email_click", "2026-12-24")  # after the tests' as-of date
    add_event(con, ids["paul"], "meeting", "2025-06-01")
    return ids


PERSON = {
    "email": "zephyrine.quasimodo@example.org",
    "old_email": "zq.1999@oldmail.fr",
    "first_name": "Zéphyrine",
    "last_name": "Quasimodo-Brun",
    "phone": "+33698765432",
}
# How each value may be spelt where it lingers: lower-case, without accents.
PERSON_NEEDLES = ["zephyrine.quasimodo@example.org", "zq.1999@oldmail.fr", "zephyrine", "quasimodo", "698765432"]


def rich_person(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The person in every table that can hold them, next to Paul who must survive.

    Returns ids: ``person``, ``old`` (the record merged into the person), ``paul``.
    """
    p = PERSON
    paul = add_contact(con, email="paul.durand@example.org", first_name="Paul", last_name="Durand", city="Lyon")
    person = add_contact(con, email=p["email"], first_name=p["first_name"], last_name=p["last_name"],
                         phone=p["phone"], city="Besançon", street="7 impasse des Quasimodo",
                         consent_email=True, consent_basis="consent", import_id=1)
    old = add_contact(con, email=p["old_email"], first_name=p["first_name"], last_name=p["last_name"],
                      status="merged", merged_into=person)
    con.execute("INSERT INTO imports (id, file_name, content_hash, kind, started_at) "
                "VALUES (1, 'members.csv', 'h', 'contacts', '2026-01-01')")
    con.execute("INSERT INTO custom_values (contact_id, field, text_value) VALUES (?, 'member_number', 'ZQ-77')", [person])
    con.execute("INSERT INTO custom_values (contact_id, field, list_value) VALUES (?, 'interests', ['animaux'])", [person])
    con.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (?, 'benevole'), (?, 'benevole')", [person, paul])
    add_event(con, person, "donation", "2026-02-01", 50)
    con.execute("UPDATE events SET details = 'gift from Zéphyrine Quasimodo-Brun' WHERE contact_id = ?", [person])
    add_event(con, paul, "donation", "2026-02-01", 20)
    con.execute("INSERT INTO groups (id, name, fields) VALUES (1, 'bureau', '{\"address\": \"3 place X\"}')")
    con.execute("INSERT INTO group_members (group_id, contact_id) VALUES (1, ?), (1, ?)", [person, paul])
    con.execute("INSERT INTO segment_runs (id, segment, as_of, member_count) VALUES (1, 'donors', '2026-10-01', 2)")
    con.execute("INSERT INTO segment_members VALUES (1, ?), (1, ?)", [person, paul])
    con.execute("INSERT INTO contact_scores (contact_id, as_of, rfm_segment, lifecycle_stage) "
                "VALUES (?, '2026-10-01', 'champions', 'active_customer')", [person])
    con.execute("INSERT INTO stage_history (contact_id, stage, previous_stage, changed_at) VALUES (?, 'active_customer', 'prospect', '2026-02-01')", [person])
    con.execute("INSERT INTO duplicate_pairs (contact_a, contact_b, score) VALUES (?, ?, 0.81)", [paul, person])
    con.execute(
        "INSERT INTO merges (kept_id, absorbed_id, score, rule, absorbed_record, kept_before) VALUES (?, ?, 0.97, 'fuzzy', ?, ?)",
        [person, old,
         # The shape cli/cleaning/merge.py writes: {"contacts": [row], "contact_tags": [...], ...}.
         json.dumps({"contacts": [{"email": p["old_email"], "first_name": p["first_name"], "last_name": p["last_name"]}]}),
         json.dumps({"contacts": [{"email": p["email"], "phone": "+33698765432"}]})],
    )
    con.execute(
        "INSERT INTO cleaning_changes (run_id, pass, contact_id, change, before_value, after_value) "
        "VALUES (1, 'invalid', ?, 'email', ?, NULL), (1, 'duplicates', ?, 'note', ?, NULL)",
        [person, json.dumps(p["email"]), paul, json.dumps({"absorbed": p["old_email"]})],
    )
    # Rejected rows: by email (other case), by phone (national format), by full name; and Paul's.
    con.execute(
        "INSERT INTO import_rejects VALUES (1, 4, 'no identity', ?), (1, 5, 'bad', ?), (1, 6, 'bad', ?), (1, 7, 'bad', ?)",
        [json.dumps({"Courriel": "Zephyrine.Quasimodo@Example.org", "Ville": "Besançon"}),
         json.dumps({"Téléphone": "06 98 76 54 32"}),
         json.dumps({"Prénom": "ZEPHYRINE", "Nom": "Quasimodo-Brun"}),
         json.dumps({"Courriel": "paul.durand@example.org"})],
    )
    # Issues: one linked to the person, one on the same import row (a misspelt address), Paul's.
    con.execute(
        "INSERT INTO import_issues VALUES (1, 9, ?, 'birth_date', '31/02/1980', 'not a date'), "
        "(1, 9, NULL, 'email2', 'zephyrine.quasimodo@exampl', 'not an email'), "
        "(1, 10, ?, 'birth_date', 'soon', 'not a date')",
        [person, paul],
    )
    con.execute(
        "INSERT INTO suppressions (key, kind, reason, source, contact_id) "
        "SELECT email_key, 'email', 'soft_bounce', 'clean', id FROM contacts WHERE id = ?",
        [person],
    )
    con.execute("INSERT INTO audit_log (command, action, details) VALUES ('dupes', 'merge', ?), ('tag', 'add', ?)",
                [json.dumps({"kept": p["email"]}), json.dumps({"tag": "benevole", "contacts": 2})])
    return {"person": person, "old": old, "paul": paul}


def add_later_table(con: duckdb.DuckDBPyConnection, person: int) -> None:
    """A table a later migration might add, holding the person by id and by text."""
    con.execute("CREATE TABLE email_checks (contact_id BIGINT, checked VARCHAR, note VARCHAR)")
    con.execute("INSERT INTO email_checks VALUES (?, 'ok', NULL), (NULL, 'ok', ?), (NULL, 'ok', 'someone else')",
                [person, "bounce for " + PERSON["email"]])
