"""``crmseg dupes`` as a volunteer reviews pairs: what `show` shows, and pairs that went out of date."""

from __future__ import annotations

import json
from datetime import date

from cli.groups import add_members, create_group
from cli.store import open_database
from cli.tagging import add_tag
from tests.unit.cleaning.conftest import add_contact, add_events

HOME = dict(phone="+33666666666", street="4 rue Neuve", postal_code="13001", city="Marseille", gender="M")


def _lamberts(db_path) -> dict[str, int]:
    """A father and a son of one name at one address, and a postal record of one of them (no birth date)."""
    con = open_database(db_path, wait=0)
    ids = {
        "father": add_contact(con, email="louis.lambert@free.fr", first_name="Louis", last_name="Lambert",
                              birth_date=date(1950, 2, 1), **HOME),
        "son": add_contact(con, email="louis.lambert.jr@free.fr", first_name="Louis", last_name="Lambert",
                           birth_date=date(1985, 4, 3), **HOME),
        "postal": add_contact(con, email=None, first_name="Louis", last_name="Lambert", **HOME),
    }
    con.close()
    return ids


def _pairs(invoke) -> dict[frozenset, int]:
    listed = invoke("--json", "dupes", "list")
    assert listed.exit_code == 0, listed.stderr
    return {frozenset((p["a"]["id"], p["b"]["id"])): p["pair_id"] for p in json.loads(listed.stdout)}


def test_a_pair_whose_contact_was_merged_through_another_pair_says_what_happened(invoke, db_path):
    ids = _lamberts(db_path)
    assert invoke("--as-of", "2026-11-20", "clean", "--only", "duplicates").exit_code == 0
    pairs = _pairs(invoke)
    # Two people linked by a record without birth date: both pairs wait for review.
    with_father = pairs[frozenset((ids["father"], ids["postal"]))]
    with_son = pairs[frozenset((ids["son"], ids["postal"]))]
    merged = json.loads(invoke("--json", "dupes", "merge", str(with_father)).stdout)
    result = invoke("--json", "dupes", "merge", str(with_son))
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert f"pair {with_son} is out of date" in message
    assert f"#{ids['postal']} was merged into #{ids['father']}" in message
    assert f"merge {merged['merge_ids'][0]}" in message and "clean --only duplicates" in message
    assert "Traceback" not in result.stderr
    shown = json.loads(invoke("--json", "dupes", "show", str(with_son)).stdout)
    assert shown["problem"] == message and shown["merged"] is None


def test_merging_a_pair_twice_names_the_merge_that_undoes_it(invoke, db_path):
    ids = _lamberts(db_path)
    invoke("--as-of", "2026-11-20", "clean", "--only", "duplicates")
    pair = _pairs(invoke)[frozenset((ids["father"], ids["postal"]))]
    merge_id = json.loads(invoke("--json", "dupes", "merge", str(pair)).stdout)["merge_ids"][0]
    again = invoke("dupes", "merge", str(pair))
    assert again.exit_code == 2
    assert "already merged" in again.stderr and f"crmseg dupes undo {merge_id}" in again.stderr
    assert invoke("dupes", "undo", str(merge_id)).exit_code == 0
    after_undo = invoke("dupes", "merge", str(pair))
    assert after_undo.exit_code == 2 and "two different people" in after_undo.stderr


def test_show_puts_both_records_beside_what_a_merge_would_keep(invoke, db_path):
    con = open_database(db_path, wait=0)
    home = dict(street="12 rue des Lilas", postal_code="75011", city="Paris", birth_date=date(1975, 3, 2))
    personal = add_contact(con, email="sylvie.martin@gmail.com", first_name="Sylvie", last_name="Martin", **home)
    work = add_contact(con, email="s.martin@mairie-paris.fr", first_name="Sylie", last_name="Martin",
                       phone="+33612345678", organisation="Mairie de Paris", **home)
    add_events(con, personal, ("donation", "2026-06-01"), ("donation", "2026-09-01"), ("email_open", "2026-10-01"))
    add_tag(con, "newsletter", [personal])
    add_tag(con, "benevole", [work])
    create_group(con, "Bureau")
    add_members(con, "Bureau", [work])
    con.execute("INSERT INTO duplicate_pairs (contact_a, contact_b, score, matched_fields, status) "
                "VALUES (?, ?, 0.9, ['name', 'address', 'birth_date'], 'pending')", [personal, work])
    pair = con.execute("SELECT id FROM duplicate_pairs").fetchone()[0]
    con.close()

    shown = invoke("--json", "dupes", "show", str(pair))
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["a"]["events_by_type"] == {"donation": 2, "email_open": 1} and data["b"]["events"] == 0
    assert data["a"]["tags"] == ["newsletter"] and data["b"]["groups"] == ["Bureau"]
    merged = data["merged"]
    assert merged["kept_id"] == work  # the more complete record
    assert merged["record"]["phone"] == "+33612345678" and merged["record"]["organisation"] == "Mairie de Paris"
    assert merged["tags"] == ["benevole", "newsletter"] and merged["groups"] == ["Bureau"] and merged["events"] == 3
    assert data["problem"] is None
    screen = invoke("dupes", "show", str(pair)).stdout
    assert "after merge" in screen and "groups" in screen and "donation 2" in screen

    # The preview wrote nothing; the merge then does what it showed.
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT count(*) FROM merges").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'active'").fetchone()[0] == 2
    con.close()
    done = json.loads(invoke("--json", "dupes", "merge", str(pair)).stdout)
    assert (done["kept_id"], done["absorbed_id"]) == (work, personal)


def test_undo_after_the_person_was_forgotten_refuses_and_brings_nothing_back(invoke, db_path):
    ids = _lamberts(db_path)
    invoke("--as-of", "2026-11-20", "clean", "--only", "duplicates")
    pair = _pairs(invoke)[frozenset((ids["father"], ids["postal"]))]
    merge_id = json.loads(invoke("--json", "dupes", "merge", str(pair)).stdout)["merge_ids"][0]
    assert invoke("gdpr", "forget", "louis.lambert@free.fr").exit_code == 0
    result = invoke("--json", "dupes", "undo", str(merge_id))
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert f"no merge with id {merge_id}" in message and "gdpr forget" in message
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT count(*) FROM contacts WHERE id IN (?, ?)", [ids["father"], ids["postal"]]).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM contacts WHERE email = 'louis.lambert@free.fr'").fetchone()[0] == 0
    con.close()
    # The pair went with them.
    assert "no duplicate pair" in invoke("dupes", "show", str(pair)).stderr
