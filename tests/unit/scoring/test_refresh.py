"""``refresh_scores``: one row per live contact, replaced whole, atomic."""

from __future__ import annotations

from datetime import date

import pytest

from cli.scoring import refresh_scores
from cli.store import transaction
from tests.unit.scoring.conftest import no_rules_settings


def test_the_table_is_replaced_with_the_latest_computation(base):
    first = base.contact()
    base.score(date(2026, 1, 1))
    second = base.contact()
    base.con.execute("UPDATE contacts SET status = 'erased', email = NULL WHERE id = ?", [first])
    base.score(date(2026, 2, 1))
    rows = base.con.execute("SELECT contact_id, as_of FROM contact_scores").fetchall()
    assert rows == [(second, date(2026, 2, 1))]


def test_an_empty_base_scores_nothing(base):
    run = base.score(date(2026, 1, 1))
    assert run.contacts == 0 and run.stage_changes == [] and run.lead_rules == []


def test_it_runs_inside_the_callers_transaction_and_rolls_back_with_it(base):
    cid = base.contact()
    with pytest.raises(RuntimeError):
        with transaction(base.con):
            refresh_scores(base.con, no_rules_settings(), date(2026, 1, 1))
            assert base.stage(cid) == "prospect"
            raise RuntimeError("the caller fails later")
    assert base.con.execute("SELECT count(*) FROM contact_scores").fetchone()[0] == 0
    assert base.con.execute("SELECT count(*) FROM stage_history").fetchone()[0] == 0


def test_no_temporary_table_is_left_behind(base):
    base.contact()
    base.score(date(2026, 1, 1))
    temp = base.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_%' ESCAPE '\\'"
    ).fetchall()
    assert temp == []


def test_an_older_database_gains_the_history_order(db_path):
    from cli.store import MIGRATIONS, open_database

    con = open_database(db_path, wait=0, migrations=MIGRATIONS[:1])
    con.execute("INSERT INTO stage_history (contact_id, stage, changed_at) VALUES (1, 'prospect', '2026-01-01')")
    con.close()
    con = open_database(db_path, wait=0)
    assert con.execute("SELECT seq FROM stage_history").fetchall() == [(1,)]
    con.execute("INSERT INTO stage_history (contact_id, stage, changed_at) VALUES (1, 'lost', '2026-02-01')")
    assert con.execute("SELECT stage FROM stage_history ORDER BY seq").fetchall() == [("prospect",), ("lost",)]
    con.close()


def test_scores_go_stale_when_activity_types_change_under_a_last_activity_rule(base):
    # `last_activity_at` is the latest event of cleaning.activity_types: a rule on it reads them.
    from cli.scoring import ensure_fresh_scores
    from cli.settings import Settings

    cid = base.contact()
    base.event(cid, "web_visit", "2026-01-10")
    rules = [{"points": 40, "when": {"last_activity_at": {"within": "30 days"}}}]
    settings = Settings(scoring={"leads": {"rules": rules}})
    assert ensure_fresh_scores(base.con, settings, date(2026, 1, 20)) is True
    assert base.scores(cid)["lead_stage"] == "none"
    visits_count = settings.model_copy(
        update={"cleaning": settings.cleaning.model_copy(update={"activity_types": ["web_visit"]})})
    assert ensure_fresh_scores(base.con, visits_count, date(2026, 1, 20)) is True
    assert base.scores(cid)["lead_stage"] == "evaluation"
