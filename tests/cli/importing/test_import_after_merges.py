"""Rows for records merged away reach the contact that absorbed them, through every later merge."""

from __future__ import annotations

import json

from cli.cleaning.merge import PlannedMerge, merge_contacts
from cli.store import open_database

PEOPLE = (
    "email;prénom;nom;n° adhérent\n"
    "marie.dupont@asso-test.fr;Marie;Dupont;ADH-1\n"
    "m.dupont@asso-test.fr;Marie;Dupont;ADH-2\n"
    "marie.d@asso-test.fr;Marie;Dupont;ADH-3\n"
)


def _merge_a_into_b_into_c(db_path, query) -> dict[str, int]:
    ids = dict(query("SELECT email, id FROM contacts"))
    a, b, c = ids["marie.dupont@asso-test.fr"], ids["m.dupont@asso-test.fr"], ids["marie.d@asso-test.fr"]
    con = open_database(db_path)
    try:
        merge_contacts(con, [PlannedMerge(b, a, 0.97, "test")])
        merge_contacts(con, [PlannedMerge(c, b, 0.97, "test")])
    finally:
        con.close()
    return {"a": a, "b": b, "c": c}


def test_a_contact_row_for_a_merged_away_address_fills_the_contact_that_absorbed_it(invoke, write, query, db_path):
    invoke("import", "contacts", str(write("people.csv", PEOPLE)))
    ids = _merge_a_into_b_into_c(db_path, query)
    # The CRM's next export still holds the first duplicate, with a city now.
    again = write("next.csv", "email;ville;n° adhérent\nmarie.dupont@asso-test.fr;Lyon;\n;Villeurbanne;ADH-2\n")
    summary = json.loads(invoke("--json", "import", "contacts", str(again)).stdout)["imports"][0]
    assert summary["inserted"] == 0 and summary["updated"] == 1
    assert query("SELECT count(*) FROM contacts WHERE status <> 'merged'") == [(1,)]
    # Both rows are the same person: the first (by address) fills the city, fill keeps it.
    assert query("SELECT id, city FROM contacts WHERE status <> 'merged'") == [(ids["c"], "Lyon")]


def test_an_event_for_a_merged_away_address_lands_on_the_live_contact(invoke, write, query, db_path):
    invoke("import", "contacts", str(write("people.csv", PEOPLE)))
    ids = _merge_a_into_b_into_c(db_path, query)
    gifts = write("dons.csv", "email;date;montant\nmarie.dupont@asso-test.fr;12/03/2024;50\nm.dupont@asso-test.fr;13/03/2024;20\n")
    summary = json.loads(invoke("--json", "import", "events", str(gifts), "--type", "donation").stdout)["imports"][0]
    assert summary["inserted"] == 2 and summary["rejected"] == 0
    assert query("SELECT contact_id, amount::DOUBLE FROM events ORDER BY amount") == [(ids["c"], 20.0), (ids["c"], 50.0)]


def test_update_from_a_merged_away_address_keeps_the_address_the_merge_chose(invoke, write, query, db_path):
    invoke("import", "contacts", str(write("people.csv", PEOPLE)))
    ids = _merge_a_into_b_into_c(db_path, query)
    kept_email = query("SELECT email FROM contacts WHERE id = ?", [ids["c"]])[0][0]
    again = write("next.csv", "email;ville\nmarie.dupont@asso-test.fr;Lyon\n")
    summary = json.loads(invoke("--json", "import", "contacts", str(again), "--on-conflict", "update").stdout)
    assert summary["imports"][0]["updated"] == 1
    assert query("SELECT email, city FROM contacts WHERE id = ?", [ids["c"]]) == [(kept_email, "Lyon")]
