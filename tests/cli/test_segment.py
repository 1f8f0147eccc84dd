"""``crmseg segment ...`` end to end: exit codes, stdout, stderr, then the files and the database."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli.store import open_database
from cli.suppression import refresh_contact_keys

SETTINGS = """\
fields:
  interests: {type: multiselect, options: [animaux, environnement, education]}
"""
# The seeds' example, word for word (SPEC §5).
RELANCE = """\
name: relance-animaux
description: Newsletter readers interested in animals with no gift in 3 months
purpose: email            # email (default) | postal | phone | analysis
where:
  all:
    - tags: {contains: newsletter}
    - interests: {contains: animaux}      # a multiselect custom field
    - not:
        event: {type: donation, within: 3 months}
export:
  columns: [email, first_name, last_name, city]
"""
AS_OF = ["--as-of", "2026-11-20"]


@pytest.fixture
def project(db_path: Path) -> Path:
    folder = db_path.parent
    (folder / "crmseg.yaml").write_text(SETTINGS, encoding="utf-8")
    (folder / "segments").mkdir()
    (folder / "segments" / "relance-animaux.yaml").write_text(RELANCE, encoding="utf-8")
    con = open_database(db_path, wait=0, memory_limit="1GB")
    con.execute("""
        INSERT INTO contacts (id, email, first_name, last_name, city, consent_email, status) VALUES
          (1, 'anne@example.org', 'Anne', '=1+1', 'Lyon', true, 'active'),
          (2, 'bob@example.org', 'Bob', 'Martin', 'Paris', true, 'active'),
          (3, 'cy@example.org', 'Cy', 'Durand', 'Nice', true, 'active'),
          (4, 'dan@example.org', 'Dan', 'Petit', 'Lille', true, 'suppressed'),
          (5, 'eve@example.org', 'Eve', 'Roux', 'Brest', false, 'active')
    """)
    refresh_contact_keys(con)
    con.execute("INSERT INTO contact_tags (contact_id, tag) SELECT id, 'newsletter' FROM contacts")
    con.execute("INSERT INTO custom_values (contact_id, field, list_value) VALUES "
                "(1, 'interests', ['animaux']), (2, 'interests', ['animaux', 'education']), "
                "(3, 'interests', ['education']), (4, 'interests', ['animaux']), (5, 'interests', ['animaux'])")
    # Bob gave a month ago; Anne gave a year ago; Cy's gift is dated after the as-of date.
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
                "(2, 'donation', '2026-10-20', 30), (1, 'donation', '2025-11-01', 10), (3, 'donation', '2026-12-01', 5)")
    con.close()
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_seeds_example_runs_word_for_word(invoke, project, db_path):
    out = project / "relance.csv"
    result = invoke(*AS_OF, "segment", "run", "relance-animaux", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # not a terminal: quiet, for cron
    rows = read_csv(out)
    assert [r["email"] for r in rows] == ["anne@example.org"]
    assert list(rows[0]) == ["email", "first_name", "last_name", "city"]
    assert rows[0]["last_name"] == "'=1+1"
    con = open_database(db_path, wait=0)
    runs = con.execute("SELECT segment, member_count, as_of, output FROM segment_runs").fetchall()
    assert runs[0][:2] == ("relance-animaux", 1) and str(runs[0][3]) == str(out)
    assert con.execute("SELECT contact_id FROM segment_members").fetchall() == [(1,)]
    con.close()


def test_list_show_and_json(invoke, project):
    invoke(*AS_OF, "segment", "run", "relance-animaux")
    listed = json.loads(invoke("--json", "segment", "list").stdout)
    assert listed["segments"][0]["name"] == "relance-animaux"
    assert listed["segments"][0]["last_run_members"] == 1
    shown = invoke(*AS_OF, "segment", "show", "relance-animaux")
    assert shown.exit_code == 0
    assert "SELECT" in shown.stdout and "1 contact now." in shown.stdout
    assert "$p1 = 'newsletter'" in shown.stdout


def test_list_marks_a_segment_in_an_in_segment_cycle_invalid(invoke, project):
    (project / "segments" / "loop-a.yaml").write_text("where: {in_segment: loop-b}\n", encoding="utf-8")
    (project / "segments" / "loop-b.yaml").write_text("where: {in_segment: loop-a}\n", encoding="utf-8")
    listed = {s["name"]: s for s in json.loads(invoke("--json", "segment", "list").stdout)["segments"]}
    assert listed["relance-animaux"]["valid"] is True
    assert listed["loop-a"]["valid"] is False and "makes a cycle" in listed["loop-a"]["error"]
    assert "invalid" in invoke("segment", "list").stdout.split("loop-b")[1].splitlines()[0]


def test_a_run_on_a_mistyped_database_warns_even_when_quiet(invoke, project):
    # A cron line with a typo in --db: the base is created empty, every list is empty; say so on stderr.
    typo = project / "crmsge.duckdb"
    settings = ["--config", str(project / "crmseg.yaml")]
    result = invoke(*AS_OF, *settings, "--quiet", "segment", "run", "relance-animaux", "--out-dir",
                    str(project / "lists"), db=typo)
    assert result.exit_code == 0 and result.stdout == ""
    assert f"no database at {typo}" in result.stderr and "every list is empty" in result.stderr
    again = invoke(*AS_OF, *settings, "--quiet", "segment", "run", "relance-animaux", "--out-dir",
                   str(project / "lists"), db=typo)
    assert again.exit_code == 0 and again.stderr == ""


def test_a_segment_file_named_with_accents_runs(invoke, project):
    (project / "segments" / "dons-été.yaml").write_text("purpose: analysis\nwhere: {city: Lyon}\n", encoding="utf-8")
    result = invoke(*AS_OF, "segment", "run", "dons-été", "--out-dir", str(project / "lists"))
    assert result.exit_code == 0, result.stderr
    assert [r["email"] for r in read_csv(project / "lists" / "dons-été.csv")] == ["anne@example.org"]
    spaced = project / "segments" / "dons 2026.yaml"
    spaced.write_text("where: {city: Lyon}\n", encoding="utf-8")
    refused = invoke("segment", "validate", str(spaced))
    assert refused.exit_code == 2 and "not a usable segment name" in refused.stderr


def test_validate_names_file_line_and_suggestion(invoke, project):
    bad = project / "segments" / "typo.yaml"
    bad.write_text("where:\n  all:\n    - tag: newsletter\n    - intrests: {contains: animaux}\n", encoding="utf-8")
    result = invoke("segment", "validate")
    assert result.exit_code == 2
    assert f"{bad}, line 4: unknown field `intrests`: did you mean `interests`?" in result.stderr
    assert "Traceback" not in result.stderr
    ok = invoke("segment", "validate", str(project / "segments" / "relance-animaux.yaml"))
    assert ok.exit_code == 0, ok.stderr


def test_python_tags_are_refused(invoke, project):
    evil = project / "segments" / "evil.yaml"
    marker = project / "hacked"
    evil.write_text(f"where: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    result = invoke("segment", "validate", str(evil))
    assert result.exit_code == 2
    assert "not valid YAML" in result.stderr and str(evil) in result.stderr
    assert not marker.exists()


def test_run_all_writes_the_good_lists_and_fails_for_the_bad(invoke, project):
    (project / "segments" / "broken.yaml").write_text("where: {ctiy: Lyon}\n", encoding="utf-8")
    (project / "segments" / "everyone.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")
    lists = project / "lists"
    lists.mkdir()
    result = invoke(*AS_OF, "segment", "run", "--all", "--out-dir", str(lists))
    assert result.exit_code == 2
    assert "1 of 3 segments failed" in result.stderr and "did you mean `city`?" in result.stderr
    assert sorted(p.name for p in lists.iterdir()) == ["everyone.csv", "relance-animaux.csv"]
    assert len(read_csv(lists / "everyone.csv")) == 5


def test_changes_only_and_diff(invoke, project, db_path):
    first = project / "first.csv"
    assert invoke("--as-of", "2026-11-19", "segment", "run", "relance-animaux", "--out", str(first)).exit_code == 0
    con = open_database(db_path, wait=0)
    con.execute("UPDATE contacts SET consent_email = true WHERE id = 5")
    con.close()
    second = project / "second.csv"
    result = invoke(*AS_OF, "--json", "segment", "run", "relance-animaux", "--out", str(second), "--changes-only")
    assert result.exit_code == 0, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    assert (run["members"], run["joined"], run["left"], run["exported"]) == (2, 1, 0, 1)
    assert [r["email"] for r in read_csv(second)] == ["eve@example.org"]
    diff = json.loads(invoke("--json", "segment", "diff", "relance-animaux").stdout)
    assert [p["email"] for p in diff["joined"]] == ["eve@example.org"] and diff["left"] == []


def test_changes_only_rerun_the_same_day_writes_the_same_list(invoke, project, db_path):
    """A cron job retried (or run by hand) the same day must not empty the list of who joined."""
    lists = project / "lists"
    assert invoke("--as-of", "2026-11-19", "segment", "run", "--all", "--out-dir", str(lists)).exit_code == 0
    con = open_database(db_path, wait=0)
    con.execute("UPDATE contacts SET consent_email = true WHERE id = 5")
    con.close()
    for _ in range(2):
        result = invoke(*AS_OF, "-q", "segment", "run", "--all", "--out-dir", str(lists), "--changes-only")
        assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
        assert [r["email"] for r in read_csv(lists / "relance-animaux.csv")] == ["eve@example.org"]
    # The next day's run starts from the day before: nobody new.
    result = invoke("--as-of", "2026-11-21", "segment", "run", "--all", "--out-dir", str(lists), "--changes-only")
    assert result.exit_code == 0 and read_csv(lists / "relance-animaux.csv") == []


def test_diff_on_screen_shows_the_first_people_and_counts_them_all(invoke, project, db_path, monkeypatch):
    (project / "segments" / "everyone.yaml").write_text("name: everyone\nwhere: {all: []}\n", encoding="utf-8")
    assert invoke(*AS_OF, "segment", "run", "everyone", "--out", str(project / "a.csv")).exit_code == 0
    con = open_database(db_path, wait=0)
    con.execute("UPDATE contacts SET status = 'suppressed', status_reason = 'unsubscribe' WHERE id IN (1, 2, 3)")
    con.close()
    assert invoke(*AS_OF, "segment", "run", "everyone", "--out", str(project / "b.csv")).exit_code == 0
    full = json.loads(invoke("--json", "segment", "diff", "everyone").stdout)
    assert len(full["left"]) == full["left_count"] >= 2
    monkeypatch.setattr("cli.commands.common.SCREEN_ROWS", 1)
    shown = invoke("segment", "diff", "everyone")
    assert shown.exit_code == 0
    assert f"the first 1 of {full['left_count']}" in shown.stdout and "--limit" in shown.stdout
    limited = json.loads(invoke("--json", "segment", "diff", "everyone", "--limit", "1").stdout)
    assert len(limited["left"]) == 1 and limited["left_count"] == full["left_count"]


def test_explain_says_which_condition_failed(invoke, project):
    result = invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", "Bob@Example.org")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["member"] is False
    event = [c for c in data["conditions"] if c["condition"].startswith("event")][0]
    assert event["holds"] is True and event["seen"]["count"] == 1
    rules = {r["rule"]: r["holds"] for r in data["purpose_rules"]}
    assert all(rules.values())
    anne = json.loads(invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", "anne@example.org").stdout)
    assert anne["member"] is True
    dan = json.loads(invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", "dan@example.org").stdout)
    assert dan["member"] is False and {r["rule"]: r["holds"] for r in dan["purpose_rules"]}["status active"] is False


def test_explain_finds_a_person_by_an_address_a_merge_absorbed(invoke, project, db_path):
    con = open_database(db_path, wait=0)
    con.execute("INSERT INTO contacts (id, email, first_name, status, merged_into) "
                "VALUES (6, 'anne.dupont@example.org', 'Anne', 'merged', 1)")
    con.close()
    result = invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", " Anne.Dupont@example.org ")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["contact_id"] == 1 and data["member"] is True
    assert data["note"] == "anne.dupont@example.org was merged into this contact"
    shown = invoke(*AS_OF, "segment", "explain", "relance-animaux", "anne.dupont@example.org")
    assert "Note: anne.dupont@example.org was merged into this contact." in shown.stdout
    unknown = invoke(*AS_OF, "segment", "explain", "relance-animaux", "Nobody@Example.org")
    assert unknown.exit_code == 2
    assert "no contact with the email nobody@example.org" in unknown.stderr and "Traceback" not in unknown.stderr


def test_explain_a_contact_without_email_by_id_or_phone(invoke, project, db_path):
    con = open_database(db_path, wait=0)
    con.execute("INSERT INTO contacts (id, first_name, last_name, street, city, phone) "
                "VALUES (7, 'Odette', 'Postal', '3 rue Haute', 'Dole', '+33384000000')")
    con.close()
    for typed in ("#7", "03 84 00 00 00"):
        result = invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", typed)
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["contact_id"] == 7 and data["member"] is False
        assert {r["rule"]: r["holds"] for r in data["purpose_rules"]}["has an email"] is False


def test_preset_headers_and_formats(invoke, project):
    out = project / "brevo.csv"
    assert invoke(*AS_OF, "segment", "run", "relance-animaux", "--out", str(out), "--preset", "brevo").exit_code == 0
    assert list(read_csv(out)[0]) == ["EMAIL", "FIRSTNAME", "LASTNAME", "CITY"]
    xlsx = project / "list.xlsx"
    assert invoke(*AS_OF, "segment", "run", "relance-animaux", "--out", str(xlsx)).exit_code == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    bad = invoke(*AS_OF, "segment", "run", "relance-animaux", "--format", "pdf")
    assert bad.exit_code == 2


def test_overlap_and_unknown_segment(invoke, project):
    (project / "segments" / "everyone.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")
    data = json.loads(invoke(*AS_OF, "--json", "segment", "overlap").stdout)
    assert data["segments"] == ["everyone", "relance-animaux"]
    assert data["matrix"] == [[5, 1], [1, 1]]
    missing = invoke("segment", "run", "relance-animo")
    assert missing.exit_code == 2
    assert "did you mean `relance-animaux`?" in missing.stderr


def test_overlap_leaves_out_a_broken_segment_and_says_so(invoke, project):
    segments = project / "segments"
    (segments / "everyone.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")
    (segments / "loop-a.yaml").write_text("where: {in_segment: loop-b}\n", encoding="utf-8")
    (segments / "loop-b.yaml").write_text("where: {in_segment: loop-a}\n", encoding="utf-8")
    (segments / "typo.yaml").write_text("where: {citty: Lyon}\n", encoding="utf-8")
    result = invoke(*AS_OF, "--json", "segment", "overlap")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["segments"] == ["everyone", "relance-animaux"]
    assert data["matrix"] == [[5, 1], [1, 1]]
    assert sorted(data["failed"]) == ["loop-a", "loop-b", "typo"]
    assert "makes a cycle" in result.stderr and "did you mean `city`?" in result.stderr
    assert "Traceback" not in result.stderr


def test_segment_queries_cannot_read_files(project, db_path):
    from cli.segmenting.runner import restrict_external_access
    import duckdb

    con = open_database(db_path, wait=0)
    restrict_external_access(con)
    with pytest.raises(duckdb.Error):
        con.execute("SELECT * FROM read_csv(?)", [str(project / "crmseg.yaml")]).fetchall()
    con.close()


def test_run_all_creates_the_out_dir(invoke, tmp_path):
    (tmp_path / "segments").mkdir(exist_ok=True)
    (tmp_path / "segments" / "everyone.yaml").write_text("purpose: analysis\nwhere: {all: []}\n")
    target = tmp_path / "lists" / "2026"
    result = invoke("segment", "run", "--all", "--out-dir", str(target))
    assert result.exit_code == 0, result.stderr
    assert (target / "everyone.csv").exists()


def test_an_impossible_unquoted_date_is_exit_2_and_other_segments_still_run(invoke, tmp_path):
    (tmp_path / "segments").mkdir(exist_ok=True)
    (tmp_path / "segments" / "bad.yaml").write_text("where: {birth_date: {after: 2026-02-30}}\n")
    (tmp_path / "segments" / "everyone.yaml").write_text("purpose: analysis\nwhere: {all: []}\n")
    ok = invoke("segment", "run", "everyone", "--out", str(tmp_path / "everyone.csv"))
    assert ok.exit_code == 0, ok.stderr
    bad = invoke("segment", "validate", str(tmp_path / "segments" / "bad.yaml"))
    assert bad.exit_code == 2
    assert "line 1" in bad.stderr and "2026-02-30" in bad.stderr
    assert "Traceback" not in bad.stderr and "Internal error" not in bad.stderr


def test_explain_says_why_a_purpose_rule_drops_a_contact(invoke, project, db_path):
    """Dan matches the conditions but is suppressed: explain names the failing rule and what it saw."""
    con = open_database(db_path, wait=0)
    con.execute("UPDATE contacts SET status_reason = 'unsubscribe' WHERE id = 4")
    con.execute("INSERT INTO events (contact_id, type, occurred_at) VALUES (4, 'unsubscribe', '2026-09-01')")
    con.close()
    data = json.loads(invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", "dan@example.org").stdout)
    rules = {r["rule"]: r for r in data["purpose_rules"]}
    assert rules["status active"]["seen"] == {"status": "suppressed", "reason": "unsubscribe"}
    assert rules["no unsubscribe, complaint or hard bounce since consent"]["holds"] is False
    assert rules["no unsubscribe, complaint or hard bounce since consent"]["seen"]["type"] == "unsubscribe"
    assert data["conditions"][0]["holds"] is True and data["member"] is False
    assert data["why"].startswith("NOT IN the segment: its conditions hold, but the email purpose rules `status active`")
    shown = invoke(*AS_OF, "segment", "explain", "relance-animaux", "dan@example.org").stdout
    assert "suppressed (unsubscribe)" in shown and "unsubscribe on 2026-09-01" in shown
    assert "NOT IN the segment: its conditions hold, but" in shown
    # An event condition nobody matches reads "no matching event", and sums to 0 (not null) under --json.
    event = [c for c in data["conditions"] if c["condition"].startswith("event")][0]
    assert event["seen"] == {"count": 0, "sum": 0}
    assert "no matching event" in shown


def test_explain_lists_the_conditions_of_a_segment_named_by_in_segment(invoke, project):
    (project / "segments" / "lyon-animals.yaml").write_text(
        "include_inactive: true\nwhere:\n  all:\n    - in_segment: relance-animaux\n    - city: Lyon\n", encoding="utf-8")
    result = invoke(*AS_OF, "--json", "segment", "explain", "lyon-animals", "anne@example.org")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    lines = [(c["depth"], c["condition"], c["holds"]) for c in data["conditions"]]
    assert lines[:3] == [(0, "all of", True), (1, "in segment relance-animaux", True), (2, "all of", True)]
    assert (3, "interests contains animaux", True) in lines and (1, "city eq Lyon", True) in lines
    assert data["member"] is True
    # include_inactive is shown as what it is: a rule that lets inactive contacts in.
    assert data["purpose_rules"][-1]["rule"] == "inactive contacts allowed (include_inactive: true)"
    shown = invoke(*AS_OF, "segment", "explain", "lyon-animals", "anne@example.org").stdout
    assert "    interests contains animaux" in shown and "IN the segment" in shown


def test_explain_an_unknown_email_suggests_the_closest_address(invoke, project):
    result = invoke(*AS_OF, "segment", "explain", "relance-animaux", "ann@example.org")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "did you mean `anne@example.org`?" in result.stderr
    far = invoke(*AS_OF, "--json", "segment", "explain", "relance-animaux", "zzz@elsewhere.net")
    assert far.exit_code == 2 and "did you mean" not in far.stderr
    assert json.loads(far.stdout)["error"]["exit_code"] == 2


def test_diff_after_a_first_run_says_so_and_counts_everyone_as_joined(invoke, project):
    assert invoke(*AS_OF, "segment", "run", "relance-animaux").exit_code == 0
    result = invoke("--json", "segment", "diff", "relance-animaux")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["first_run"] is True and data["previous"] is None
    assert data["joined_count"] == data["latest"]["members"] == 1 and data["left_count"] == 0
    assert [p["email"] for p in data["joined"]] == ["anne@example.org"]
    shown = invoke("segment", "diff", "relance-animaux")
    assert shown.exit_code == 0 and "first run" in shown.stdout and "no earlier run to compare" in shown.stdout


def test_diff_of_a_segment_never_run_or_misspelt_is_a_clear_error(invoke, project):
    never = invoke("segment", "diff", "relance-animaux")
    assert never.exit_code == 2 and "has not run yet" in never.stderr and "Traceback" not in never.stderr
    typo = invoke("segment", "diff", "relance-animo")
    assert typo.exit_code == 2 and "unknown segment `relance-animo`: did you mean `relance-animaux`?" in typo.stderr


def test_diff_between_runs_at_different_as_of_dates(invoke, project, db_path):
    """Bob's gift of 2026-10-20 keeps him out at the as-of date, not on a replay before it."""
    assert invoke("--as-of", "2026-10-01", "segment", "run", "relance-animaux").exit_code == 0
    assert invoke(*AS_OF, "segment", "run", "relance-animaux").exit_code == 0
    data = json.loads(invoke("--json", "segment", "diff", "relance-animaux").stdout)
    assert (data["previous"]["as_of"], data["latest"]["as_of"]) == ("2026-10-01", "2026-11-20")
    assert [p["email"] for p in data["left"]] == ["bob@example.org"] and data["joined"] == []
    assert data["previous"]["members"] - data["left_count"] + data["joined_count"] == data["latest"]["members"]
    # Forgetting a member of both runs keeps the figures adding up (the erased are counted apart).
    assert invoke("gdpr", "forget", "anne@example.org", "--no-compact").exit_code == 0
    after = json.loads(invoke("--json", "segment", "diff", "relance-animaux").stdout)
    assert after["previous"]["members"] == 1 and after["previous"]["erased_since"] == 1
    assert after["previous"]["members"] - after["left_count"] + after["joined_count"] == after["latest"]["members"] == 0


def test_overlap_of_many_segments_lists_the_pairs_and_survives_an_empty_one(invoke, project):
    segments = project / "segments"
    for city in ("Lyon", "Paris", "Nice", "Lille", "Brest"):
        for purpose in ("analysis", "postal"):
            (segments / f"contacts-living-in-{city.lower()}-{purpose}.yaml").write_text(
                f"purpose: {purpose}\nwhere: {{any: [{{city: {city}}}, {{city: Lyon}}]}}\n", encoding="utf-8")
    (segments / "nobody-at-all.yaml").write_text("purpose: analysis\nwhere: {any: []}\n", encoding="utf-8")
    (segments / "broken.yaml").write_text("where: {citty: Lyon}\n", encoding="utf-8")
    result = invoke(*AS_OF, "--json", "segment", "overlap")
    assert result.exit_code == 2 and "1 segment left out" in result.stderr
    data = json.loads(result.stdout)
    assert data["sizes"]["nobody-at-all"] == 0 and "broken" in data["failed"]
    assert all(p["a"] != "nobody-at-all" and p["b"] != "nobody-at-all" for p in data["pairs"])
    lyon = [p for p in data["pairs"] if {p["a"], p["b"]} == {"contacts-living-in-lyon-analysis", "contacts-living-in-paris-analysis"}]
    assert lyon == [{"a": "contacts-living-in-lyon-analysis", "b": "contacts-living-in-paris-analysis", "shared": 1,
                     "share_of_a": 1.0, "share_of_b": 0.5}]
    shown = invoke(*AS_OF, "segment", "overlap")
    assert shown.exit_code == 2 and "Traceback" not in shown.stderr
    # Thirteen long names do not fit a 200-column page as a matrix: the pairs are listed instead, every name whole.
    assert "Segments that share members" in shown.stdout and "contacts-living-in-brest-postal" in shown.stdout
    assert "nan" not in shown.stdout.lower()
