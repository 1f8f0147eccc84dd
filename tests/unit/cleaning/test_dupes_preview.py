"""``dupes show`` previews a merge by making it and rolling it back: that must never touch anyone else's work."""

from __future__ import annotations

from datetime import date

from cli.cleaning.review import show_pair
from cli.store import open_database
from cli.tagging import add_tag
from tests.unit.cleaning.conftest import add_contact

HOME = dict(street="12 rue des Lilas", postal_code="75011", city="Paris", birth_date=date(1975, 3, 2))


def _pair(con) -> tuple[int, int, int]:
    a = add_contact(con, email="sylvie.martin@gmail.com", first_name="Sylvie", last_name="Martin", **HOME)
    b = add_contact(con, email="s.martin@mairie-paris.fr", first_name="Sylie", last_name="Martin",
                    phone="+33612345678", **HOME)
    con.execute("INSERT INTO duplicate_pairs (contact_a, contact_b, score, matched_fields, status) "
                "VALUES (?, ?, 0.9, ['name', 'address'], 'pending')", [a, b])
    return con.execute("SELECT id FROM duplicate_pairs").fetchone()[0], a, b


def test_show_inside_an_open_transaction_leaves_that_transaction_whole(tmp_path):
    con = open_database(tmp_path / "base.duckdb", wait=0)
    pair, a, b = _pair(con)
    con.execute("BEGIN TRANSACTION")
    add_tag(con, "bureau", [a])  # the caller's own, uncommitted work
    shown = show_pair(con, pair)
    assert shown["problem"] is None and shown["merged"] is None  # no preview it could not isolate
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM contact_tags WHERE tag = 'bureau'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM merges").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'active'").fetchone()[0] == 2
    con.close()


def test_show_on_a_read_only_base_shows_the_pair_without_a_preview(tmp_path):
    path = tmp_path / "base.duckdb"
    con = open_database(path, wait=0)
    pair, a, b = _pair(con)
    con.close()
    con = open_database(path, wait=0, read_only=True)
    shown = show_pair(con, pair)
    assert shown["problem"] is None and shown["merged"] is None
    assert [f["a"] for f in shown["fields"] if f["field"] == "id"] == [a]
    con.close()


def test_show_outside_a_transaction_still_previews_and_keeps_nothing(tmp_path):
    con = open_database(tmp_path / "base.duckdb", wait=0)
    pair, a, b = _pair(con)
    shown = show_pair(con, pair)
    assert shown["merged"]["kept_id"] == b and shown["merged"]["record"]["phone"] == "+33612345678"
    assert con.execute("SELECT count(*) FROM merges").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM contacts WHERE status = 'active'").fetchone()[0] == 2
    con.close()


def test_show_draws_no_merge_id(tmp_path):
    """The preview's merge is rolled back, but a sequence is not: it must not draw from one."""
    from cli.cleaning.review import merge_pair

    con = open_database(tmp_path / "base.duckdb", wait=0)
    pair, a, b = _pair(con)
    for _ in range(3):
        assert show_pair(con, pair)["merged"] is not None
    assert merge_pair(con, pair)["merge_ids"] == [1]  # the base's first merge
    con.close()
