"""Merging and undoing: nothing is lost, and undo restores the base exactly."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.cleaning.merge import ADDRESS_REASONS, PlannedMerge, merge_contacts, undo_merge
from cli.cleaning.review import merge_all, undo
from cli.errors import InputError, NotFoundError
from cli.store import open_database
from cli.suppression import refresh_contact_keys

TABLES = ["contacts", "contact_tags", "custom_values", "group_members", "events", "suppressions"]

names = st.sampled_from([None, "Marie", "Jean", "Dupont", "Éloïse"])
stamps = st.one_of(st.none(), st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 11, 1)))
contact_values = st.fixed_dictionaries(
    {
        "email": st.sampled_from([None, "a@free.fr", "b@orange.fr"]),
        "first_name": names,
        "last_name": names,
        "phone": st.sampled_from([None, "+33612345678", "+33698765432"]),
        "street": st.sampled_from([None, "1 rue X", "2 avenue Y"]),
        "postal_code": st.sampled_from([None, "75011"]),
        "birth_date": st.one_of(st.none(), st.dates(min_value=date(1940, 1, 1), max_value=date(2005, 1, 1))),
        "consent_email": st.sampled_from([None, True, False]),
        "consent_at": stamps,
        "consent_withdrawn_at": stamps,
        "status": st.sampled_from(["active", "active", "suppressed"]),
        "status_reason": st.sampled_from([None, "unsubscribe", "hard_bounce"]),
        "is_inactive": st.booleans(),
        "updated_at": st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
    }
)
side = st.fixed_dictionaries(
    {
        "contact": contact_values,
        "tags": st.lists(st.sampled_from(["newsletter", "donor", "volunteer"]), unique=True, max_size=3),
        "groups": st.lists(st.sampled_from([1, 2]), unique=True, max_size=2),
        "interests": st.one_of(st.none(), st.lists(st.sampled_from(["animaux", "education"]), unique=True, min_size=1)),
        "score": st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)),
        "events": st.lists(st.sampled_from(["donation", "email_open", "unsubscribe"]), max_size=4),
    }
)


def _insert(con, data) -> int:
    values = dict(data["contact"])
    columns = list(values)
    # Column names are this module's constants.
    cid = con.execute(
        "INSERT INTO contacts (" + ", ".join(columns) + ") VALUES (" + ", ".join("?" for _ in columns) + ") RETURNING id",
        list(values.values()),
    ).fetchone()[0]
    for tag in data["tags"]:
        con.execute("INSERT INTO contact_tags (contact_id, tag, added_at) VALUES (?, ?, TIMESTAMP '2025-01-01')", [cid, tag])
    for group in data["groups"]:
        con.execute("INSERT INTO group_members (group_id, contact_id, added_at) VALUES (?, ?, TIMESTAMP '2025-02-02')",
                    [group, cid])
    if data["interests"] is not None:
        con.execute("INSERT INTO custom_values (contact_id, field, list_value) VALUES (?, 'interests', ?)",
                    [cid, data["interests"]])
    if data["score"] is not None:
        con.execute("INSERT INTO custom_values (contact_id, field, number_value) VALUES (?, 'score', ?)",
                    [cid, data["score"]])
    for i, kind in enumerate(data["events"]):
        con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES (?, ?, ?, 10.5)",
                    [cid, kind, datetime(2026, 1, 1 + i)])
    refresh_contact_keys(con)
    if values["status"] == "suppressed" and values["status_reason"]:
        con.execute(
            "INSERT INTO suppressions (key, kind, reason, source, contact_id) "
            "SELECT coalesce(email_key, phone_key), 'email', status_reason, 'test', id FROM contacts "
            "WHERE id = ? AND coalesce(email_key, phone_key) IS NOT NULL",
            [cid],
        )
    return cid


def snapshot(con):
    # Table names are the module's constant list.
    return {t: sorted(map(repr, con.execute("SELECT * FROM " + t).fetchall())) for t in TABLES}


@pytest.fixture(scope="module")
def shared_con(tmp_path_factory):
    connection = open_database(tmp_path_factory.mktemp("merge") / "m.duckdb", wait=0, memory_limit="1GB")
    yield connection
    connection.close()


def _reset(con):
    for table in TABLES + ["merges", "duplicate_pairs", "audit_log"]:
        con.execute("DELETE FROM " + table)  # constant table names


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kept=side, absorbed=side)
def test_merge_loses_nothing_and_undo_restores_the_base_exactly(shared_con, kept, absorbed):
    con = shared_con
    _reset(con)
    k = _insert(con, kept)
    a = _insert(con, absorbed)
    before = snapshot(con)
    events_before = con.execute("SELECT id, type, occurred_at FROM events ORDER BY id").fetchall()
    addresses = dict(con.execute("SELECT id, coalesce(email_key, phone_key) FROM contacts").fetchall())

    [merge_id] = merge_contacts(con, [PlannedMerge(k, a, 0.97, "test")])

    # Nothing lost: every event now on the kept contact, tags/groups/consent facts unioned.
    assert con.execute("SELECT id, type, occurred_at FROM events ORDER BY id").fetchall() == events_before
    assert con.execute("SELECT count(*) FROM events WHERE contact_id <> ?", [k]).fetchone()[0] == 0
    tags = {r[0] for r in con.execute("SELECT tag FROM contact_tags WHERE contact_id = ?", [k]).fetchall()}
    assert tags == set(kept["tags"]) | set(absorbed["tags"])
    groups = {r[0] for r in con.execute("SELECT group_id FROM group_members WHERE contact_id = ?", [k]).fetchall()}
    assert groups == set(kept["groups"]) | set(absorbed["groups"])
    interests = con.execute(
        "SELECT list_value FROM custom_values WHERE contact_id = ? AND field = 'interests'", [k]).fetchall()
    if kept["interests"] or absorbed["interests"]:
        assert set(interests[0][0]) == set(kept["interests"] or []) | set(absorbed["interests"] or [])
    row = con.execute(
        "SELECT consent_at, consent_withdrawn_at, status, merged_into FROM contacts WHERE id = ?", [k]).fetchone()
    consents = [s["contact"]["consent_at"] for s in (kept, absorbed) if s["contact"]["consent_at"]]
    withdrawals = [s["contact"]["consent_withdrawn_at"] for s in (kept, absorbed) if s["contact"]["consent_withdrawn_at"]]
    assert row[0] == (max(consents) if consents else None)
    assert row[1] == (max(withdrawals) if withdrawals else None)
    # A suppression of the person follows the person; one of an address, only with its address.
    kept_address = con.execute("SELECT coalesce(email_key, phone_key) FROM contacts WHERE id = ?", [k]).fetchone()[0]
    follows = [
        side["contact"]["status"] == "suppressed"
        and (side["contact"]["status_reason"] not in ADDRESS_REASONS or addresses[cid] == kept_address)
        for cid, side in ((k, kept), (a, absorbed))
    ]
    assert row[2] == ("suppressed" if any(follows) else "active")
    assert con.execute("SELECT status, merged_into FROM contacts WHERE id = ?", [a]).fetchone() == ("merged", k)

    undo_merge(con, merge_id)
    assert snapshot(con) == before


def test_undo_refuses_while_a_later_merge_involves_the_contacts(con):
    ids = [_insert(con, {"contact": {"email": f"p{i}@free.fr", "first_name": "Marie", "status": "active"},
                         "tags": [], "groups": [], "interests": None, "score": None, "events": ["donation"]})
           for i in range(3)]
    [first] = merge_contacts(con, [PlannedMerge(ids[0], ids[1], 0.9, "test")])
    [second] = merge_contacts(con, [PlannedMerge(ids[0], ids[2], 0.9, "test")])
    with pytest.raises(InputError, match=f"undo merge {second} first"):
        undo(con, first)
    undo(con, second)
    undo(con, first)
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'active'").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM events GROUP BY contact_id").fetchall() == [(1,), (1,), (1,)]
    with pytest.raises(InputError, match="already undone"):
        undo(con, first)
    with pytest.raises(NotFoundError):
        undo(con, 999)


def test_merge_all_merges_a_cluster_into_one_contact_and_undone_pairs_stay_apart(con):
    ids = [_insert(con, {"contact": {"email": f"p{i}@free.fr", "first_name": "Marie", "status": "active"},
                         "tags": [f"t{i}"], "groups": [], "interests": None, "score": None, "events": []})
           for i in range(3)]
    con.execute(
        "INSERT INTO duplicate_pairs (contact_a, contact_b, score, status) VALUES (?, ?, 0.9, 'pending'), "
        "(?, ?, 0.85, 'pending')",
        [ids[0], ids[1], ids[1], ids[2]],
    )
    result = merge_all(con, 0.8)
    assert result["merges"] == 2
    live = con.execute("SELECT id FROM contacts WHERE status = 'active'").fetchall()
    assert len(live) == 1
    assert con.execute("SELECT count(*) FROM contact_tags WHERE contact_id = ?", [live[0][0]]).fetchone()[0] == 3
    for merge_id in sorted(result["merge_ids"], reverse=True):
        undo(con, merge_id)
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'active'").fetchone()[0] == 3
    assert merge_all(con, 0.8)["merges"] == 0  # undone pairs are rejected, not merged again


def test_an_opt_in_stays_with_the_address_that_gave_it(con):
    from tests.unit.cleaning.conftest import add_contact

    opted_in = add_contact(con, email="martine.roux@free.fr", first_name="Martine", last_name="Roux",
                           consent_email=True, updated_at="2025-01-01")
    newer = add_contact(con, email="mroux@laposte.net", first_name="Martine", last_name="Roux",
                        consent_email=None, consent_at=None, updated_at="2026-06-01")
    merge_contacts(con, [PlannedMerge(newer, opted_in, 0.97, "test")])
    email, consent = con.execute("SELECT email, consent_email FROM contacts WHERE id = ?", [newer]).fetchone()
    assert (email, consent) == ("martine.roux@free.fr", True)


def test_without_opt_in_on_either_side_the_newer_email_wins(con):
    from tests.unit.cleaning.conftest import add_contact

    old = add_contact(con, email="old@free.fr", last_name="Roux", consent_email=None, updated_at="2025-01-01")
    new = add_contact(con, email="new@laposte.net", last_name="Roux", consent_email=None, updated_at="2026-06-01")
    merge_contacts(con, [PlannedMerge(old, new, 0.97, "test")])
    assert con.execute("SELECT email FROM contacts WHERE id = ?", [old]).fetchone()[0] == "new@laposte.net"


def test_an_email_replaced_by_a_merge_still_finds_the_person(con):
    from cli.contacts import resolve_contact
    from tests.unit.cleaning.conftest import add_contact

    old = add_contact(con, email="ph1@exemple.fr", last_name="Henri", consent_email=True, updated_at="2025-01-01")
    new = add_contact(con, email="ph2@exemple.fr", last_name="Henri", consent_email=True, updated_at="2026-06-01")
    merge_contacts(con, [PlannedMerge(old, new, 0.97, "test")])
    assert con.execute("SELECT email FROM contacts WHERE id = ?", [old]).fetchone()[0] == "ph2@exemple.fr"
    contact_id, note = resolve_contact(con, "ph1@exemple.fr")
    assert contact_id == old
    assert "before a merge" in note


def test_gdpr_finds_and_forgets_an_email_replaced_by_a_merge(con):
    from cli.gdpr import export_person, forget_person
    from tests.unit.cleaning.conftest import add_contact

    old = add_contact(con, email="ph1@exemple.fr", last_name="Henri", consent_email=True, updated_at="2025-01-01")
    new = add_contact(con, email="ph2@exemple.fr", last_name="Henri", consent_email=True, updated_at="2026-06-01")
    merge_contacts(con, [PlannedMerge(old, new, 0.97, "test")])
    document = export_person(con, "ph1@exemple.fr")
    assert "ph1@exemple.fr" in str(document)
    forget_person(con, "ph1@exemple.fr")
    assert con.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM merges").fetchone()[0] == 0


def test_a_merge_snapshot_leaves_out_null_fields_and_keys_and_undo_computes_the_keys_again(con):
    import json

    from tests.unit.cleaning.conftest import add_contact

    kept = add_contact(con, email="jeanne.roux@free.fr", first_name="Jeanne", last_name="Roux", phone="+33612345678")
    absorbed = add_contact(con, email="j.roux@laposte.net", first_name="Jeanne", last_name="Roux", phone=None)
    refresh_contact_keys(con)
    keys_before = con.execute("SELECT id, email_key, phone_key FROM contacts ORDER BY id").fetchall()
    [merge_id] = merge_contacts(con, [PlannedMerge(kept, absorbed, 0.97, "test")])
    record = json.loads(con.execute("SELECT absorbed_record FROM merges WHERE id = ?", [merge_id]).fetchone()[0])
    [row] = record["contacts"]
    assert row["email"] == "j.roux@laposte.net" and "phone" not in row
    assert None not in row.values() and not {"email_key", "phone_key"} & set(row)
    undo_merge(con, merge_id)
    assert con.execute("SELECT id, email_key, phone_key FROM contacts ORDER BY id").fetchall() == keys_before
    assert keys_before[0][2] is not None and keys_before[1][2] is None


def test_a_suppression_recorded_after_a_merge_survives_its_undo(con):
    from cli.suppression import suppress_contacts
    from tests.unit.cleaning.conftest import add_contact

    kept = add_contact(con, email="paul.roux@free.fr", first_name="Paul", last_name="Roux", street="1 rue X", city="Dole")
    absorbed = add_contact(con, email="p.roux@laposte.net", first_name="Paul", last_name="Roux")
    refresh_contact_keys(con)
    [merge_id] = merge_contacts(con, [PlannedMerge(kept, absorbed, 0.97, "test")])
    # The family reports his death after the merge: the import suppresses the kept contact.
    suppress_contacts(con, [kept], "deceased", "import:9")
    undo_merge(con, merge_id)
    # Both records are his: each is restored suppressed as deceased, whichever address the ledger names.
    assert con.execute("SELECT id, status, status_reason FROM contacts ORDER BY id").fetchall() == [
        (kept, "suppressed", "deceased"), (absorbed, "suppressed", "deceased")
    ]
    # An unsubscribe after a merge stays on the address it names.
    other = add_contact(con, email="anne.roux@free.fr", first_name="Anne", last_name="Roux")
    twin = add_contact(con, email=None, first_name="Anne", last_name="Roux", street="2 rue Y", city="Dole")
    refresh_contact_keys(con)
    [merge_id] = merge_contacts(con, [PlannedMerge(other, twin, 0.99, "test")])
    suppress_contacts(con, [other], "unsubscribe", "import:10")
    undo_merge(con, merge_id)
    assert con.execute("SELECT status_reason FROM contacts WHERE id = ?", [other]).fetchone() == ("unsubscribe",)


def test_undo_keeps_the_tags_and_groups_given_or_taken_since_the_merge(con):
    from cli.groups import add_members, create_group, delete_group, remove_members
    from cli.tagging import add_tag, remove_tag
    from tests.unit.cleaning.conftest import add_contact

    kept = add_contact(con, email="paul.roux@free.fr", first_name="Paul", last_name="Roux")
    absorbed = add_contact(con, email="p.roux@laposte.net", first_name="Paul", last_name="Roux")
    refresh_contact_keys(con)
    for name in ("bureau", "benevoles", "ag-2025"):
        create_group(con, name)
    add_members(con, "benevoles", [absorbed])
    add_members(con, "ag-2025", [absorbed])
    add_tag(con, "donateur", [absorbed])
    add_tag(con, "newsletter", [absorbed])
    [merge_id] = merge_contacts(con, [PlannedMerge(kept, absorbed, 0.97, "test")])
    # Since the merge, by command: Paul joined the board and was tagged vip; he left the
    # volunteers, lost the newsletter tag, and the 2025 assembly group was deleted.
    add_members(con, "bureau", [kept])
    add_tag(con, "vip", [kept])
    remove_members(con, "benevoles", [kept])
    remove_tag(con, "newsletter", [kept])
    delete_group(con, "ag-2025", force=True)
    undo_merge(con, merge_id)

    def groups(cid):
        return sorted(r[0] for r in con.execute(
            "SELECT g.name FROM group_members m LEFT JOIN groups g ON g.id = m.group_id WHERE m.contact_id = ?",
            [cid]).fetchall())

    def tags(cid):
        return sorted(r[0] for r in con.execute("SELECT tag FROM contact_tags WHERE contact_id = ?", [cid]).fetchall())

    assert (groups(kept), tags(kept)) == (["bureau"], ["vip"])
    assert (groups(absorbed), tags(absorbed)) == ([], ["donateur"])


def test_undoing_a_merge_does_not_pass_one_record_s_death_on_to_the_other(con):
    """The merge gave the absorbed record's death to the kept one; its undo takes it back."""
    from cli.suppression import suppress_contacts
    from tests.unit.cleaning.conftest import add_contact

    kept = add_contact(con, email="anne.x@free.fr", first_name="Anne", last_name="Lemoine", street="3 rue Haute")
    absorbed = add_contact(con, email="anne.y@autre.fr", first_name="Anne", last_name="Lemoine")
    suppress_contacts(con, [kept], "hard_bounce", "import:1")
    suppress_contacts(con, [absorbed], "deceased", "import:1")
    ledger = con.execute("SELECT key, reason, source FROM suppressions ORDER BY ALL").fetchall()
    [merge_id] = merge_contacts(con, [PlannedMerge(kept, absorbed, 0.97, "test")])
    assert con.execute("SELECT status_reason FROM contacts WHERE id = ?", [kept]).fetchone() == ("deceased",)
    undo_merge(con, merge_id)
    assert con.execute("SELECT id, status, status_reason FROM contacts ORDER BY id").fetchall() == [
        (kept, "suppressed", "hard_bounce"), (absorbed, "suppressed", "deceased")
    ]
    assert con.execute("SELECT key, reason, source FROM suppressions ORDER BY ALL").fetchall() == ledger
