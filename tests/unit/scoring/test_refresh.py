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
