"""`crmseg segment profile`: the persona of a segment, from the command line."""

from __future__ import annotations

import json

from tests.unit.reporting.conftest import small_base  # noqa: F401 - fixture


def test_profile_of_a_segment(small_base, invoke, tmp_path):  # noqa: F811
    small_base.close()
    (tmp_path / "crmseg.yaml").write_text(
        "fields:\n  interests: {type: multiselect, options: [animaux, education, environnement]}\n"
    )
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "donors.yaml").write_text(
        "description: people who gave\npurpose: analysis\nwhere: {gift_count: {gte: 1}}\n"
    )
    result = invoke("--as-of", "2026-11-20", "--json", "segment", "profile", "donors")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["size"] == 2  # Anne and Béa gave before the as-of date
    assert data["giving"]["median_gift"] == 30.0
    assert data["persona"].startswith("Mostly women (100%)")

    plain = invoke("--as-of", "2026-11-20", "segment", "profile", "donors")
    assert plain.exit_code == 0
    assert "Persona: Mostly women" in plain.stdout


def test_profile_of_an_unknown_segment_is_exit_2(invoke, tmp_path):
    (tmp_path / "segments").mkdir()
    result = invoke("segment", "profile", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_profile_of_postal_donors_without_birth_date_or_gender_and_of_an_empty_segment(invoke, db_path):
    from cli.store import open_database

    folder = db_path.parent
    (folder / "segments").mkdir()
    (folder / "segments" / "postal-donors.yaml").write_text(
        "purpose: postal\nwhere: {gift_count: {gte: 1}}\n", encoding="utf-8")
    (folder / "segments" / "nobody.yaml").write_text("purpose: analysis\nwhere: {any: []}\n", encoding="utf-8")
    con = open_database(db_path, wait=0)
    con.execute("""
        INSERT INTO contacts (id, first_name, last_name, street, postal_code, city, birth_date, gender) VALUES
          (1, 'Odette', 'Postal', '3 rue Haute', '69001', 'Lyon', NULL, NULL),
          (2, 'Rémi', 'Lettre', '5 rue Basse', '39100', 'Dole', NULL, NULL),
          (3, 'Anne', 'Web', NULL, NULL, NULL, '1960-05-01', 'F')
    """)
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
                "(1, 'donation', '2026-01-10', 20), (2, 'donation', '2026-02-10', 40), (3, 'donation', '2026-03-10', 5)")
    con.close()
    as_of = ("--as-of", "2026-11-20")
    run = json.loads(invoke(*as_of, "--json", "segment", "run", "postal-donors").stdout)["runs"][0]
    result = invoke(*as_of, "--json", "segment", "profile", "postal-donors")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["size"] == run["members"] == 2  # Anne has no address: not on a postal list
    assert data["known"]["age"] == {"members": 0, "base": 1} and data["known"]["gender"]["members"] == 0
    assert data["median_age"] is None and data["giving"]["donors"] == 2
    assert "aged" not in data["persona"] and "women" not in data["persona"]
    shown = invoke(*as_of, "segment", "profile", "postal-donors")
    assert shown.exit_code == 0
    assert "Age: not known for any member (1 of 3 in the base)." in shown.stdout
    assert "Gender: not known for any member" in shown.stdout
    assert "donor share        │ 100%" in shown.stdout

    empty = invoke(*as_of, "--json", "segment", "profile", "nobody")
    assert empty.exit_code == 0, empty.stderr
    data = json.loads(empty.stdout)
    assert data["size"] == 0 and data["persona"] == "This segment has no members."
    assert data["giving"]["donor_share"] == 0.0 and "NaN" not in empty.stdout
    plain = invoke(*as_of, "segment", "profile", "nobody")
    assert plain.exit_code == 0 and "nan" not in plain.stdout.lower() and "Traceback" not in plain.stderr
