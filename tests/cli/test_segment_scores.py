"""``segment run`` refreshes stale scores before a segment reads one, and only then."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from cli.scoring import ensure_fresh_scores
from cli.settings import load_settings
from cli.store import open_database

AS_OF = ["--as-of", "2026-11-20"]
DONORS = "purpose: analysis\nwhere: {rfm_segment: {is_null: false}}\nexport: {columns: [email, rfm_segment]}\n"
BECAME_CUSTOMERS = "purpose: analysis\nwhere: {stage_change: {to: new_customer, within: 30 days}}\n"


@pytest.fixture
def project(db_path: Path, invoke) -> Path:
    folder = db_path.parent
    (folder / "crmseg.yaml").write_text("scoring: {leads: {rules: []}}\n", encoding="utf-8")
    (folder / "segments").mkdir()
    (folder / "segments" / "donors.yaml").write_text(DONORS, encoding="utf-8")
    (folder / "segments" / "new-customers.yaml").write_text(BECAME_CUSTOMERS, encoding="utf-8")
    (folder / "contacts.csv").write_text("email,first_name\nann@x.fr,Ann\nbob@x.fr,Bob\n", encoding="utf-8")
    (folder / "gifts.csv").write_text("email,date,amount\nann@x.fr,2026-11-01,50\n", encoding="utf-8")
    for kind, name, extra in (("contacts", "contacts.csv", []), ("events", "gifts.csv", ["--type", "donation"])):
        result = invoke("--config", str(folder / "crmseg.yaml"), "import", kind, str(folder / name), *extra)
        assert result.exit_code == 0, result.stderr
    return folder


def _run(invoke, project: Path, name: str) -> list[dict[str, str]]:
    out = project / f"{name}.csv"
    result = invoke("--config", str(project / "crmseg.yaml"), *AS_OF, "segment", "run", name, "--out", str(out))
    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_segment_on_rfm_reads_an_event_imported_after_the_last_score(invoke, project):
    result = invoke("--config", str(project / "crmseg.yaml"), *AS_OF, "score", "rfm")
    assert result.exit_code == 0, result.stderr
    assert [r["email"] for r in _run(invoke, project, "donors")] == ["ann@x.fr"]
    (project / "more.csv").write_text("email,date,amount\nbob@x.fr,2026-11-02,20\n", encoding="utf-8")
    result = invoke("--config", str(project / "crmseg.yaml"), "import", "events", str(project / "more.csv"),
                    "--type", "donation")
    assert result.exit_code == 0, result.stderr
    rows = _run(invoke, project, "donors")
    assert [r["email"] for r in rows] == ["ann@x.fr", "bob@x.fr"]
    assert all(r["rfm_segment"] for r in rows)


def test_a_stage_change_segment_sees_stages_moved_by_new_events(invoke, project):
    assert [r["email"] for r in _run(invoke, project, "new-customers")] == ["ann@x.fr"]
    (project / "more.csv").write_text("email,date,amount\nbob@x.fr,2026-11-02,20\n", encoding="utf-8")
    assert invoke("import", "events", str(project / "more.csv"), "--type", "donation").exit_code == 0
    assert [r["email"] for r in _run(invoke, project, "new-customers")] == ["ann@x.fr", "bob@x.fr"]


def test_fresh_scores_are_not_recomputed(project, db_path):
    settings = load_settings(project / "crmseg.yaml")
    con = open_database(db_path, wait=0, memory_limit="1GB")
    try:
        assert ensure_fresh_scores(con, settings, date(2026, 11, 20)) is True
        # A mark a refresh would wipe: it survives while nothing changes.
        con.execute("UPDATE contact_scores SET engagement_score = -1")
        assert ensure_fresh_scores(con, settings, date(2026, 11, 20)) is False
        assert con.execute("SELECT DISTINCT engagement_score FROM contact_scores").fetchall() == [(-1,)]
        # Another day, or changed data, or changed settings: recomputed.
        assert ensure_fresh_scores(con, settings, date(2026, 11, 21)) is True
        assert ensure_fresh_scores(con, settings, date(2026, 11, 21)) is False
        con.execute("UPDATE contacts SET status = 'suppressed', updated_at = current_timestamp WHERE email = 'bob@x.fr'")
        assert ensure_fresh_scores(con, settings, date(2026, 11, 21)) is True
        con.execute("INSERT INTO contact_tags (contact_id, tag) VALUES (1, 'vip')")
        assert ensure_fresh_scores(con, settings, date(2026, 11, 21)) is True
        other = settings.model_copy(update={"lifecycle": settings.lifecycle.model_copy(update={"lost_months": 30})})
        assert ensure_fresh_scores(con, other, date(2026, 11, 21)) is True
        assert ensure_fresh_scores(con, other, date(2026, 11, 21)) is False
    finally:
        con.close()


def test_a_segment_that_reads_no_score_does_not_score(invoke, project, db_path):
    (project / "segments" / "all.yaml").write_text("purpose: analysis\nwhere: {all: []}\n", encoding="utf-8")
    _run(invoke, project, "all")
    con = open_database(db_path, wait=0, memory_limit="1GB")
    try:
        assert con.execute("SELECT count(*) FROM contact_scores").fetchall() == [(0,)]
    finally:
        con.close()
