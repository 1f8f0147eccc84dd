"""``crmseg score rfm|lifecycle|leads``: exit codes, stdout, stderr, then the database."""

from __future__ import annotations

import json
from datetime import date

import pytest

from cli.demo import DemoContext, DemoReport, _stage_score
from cli.settings import Settings
from cli.store import open_database

NO_RULES = "scoring:\n  leads:\n    rules: []\n"


@pytest.fixture
def scored_base(db_path):
    (db_path.parent / "crmseg.yaml").write_text(NO_RULES, encoding="utf-8")
    con = open_database(db_path, wait=0)
    con.execute(
        "INSERT INTO contacts (id, email, status) VALUES "
        "(1, 'a@example.org', 'active'), (2, 'b@example.org', 'active'), (3, NULL, 'active'), "
        "(4, 'd@example.org', 'merged')"
    )
    con.execute(
        "INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
        "(1, 'donation', '2026-10-01', 50), (2, 'donation', '2023-01-01', 10), (3, 'web_visit', '2026-10-01', NULL), "
        "(1, 'email_click', '2026-11-19', NULL)"
    )
    con.close()
    return db_path


def test_score_lifecycle_prints_stages_and_changes(invoke, scored_base):
    result = invoke("--as-of", "2026-11-20", "score", "lifecycle")
    assert result.exit_code == 0, result.stderr
    assert "new_customer" in result.stdout and "Stage changes recorded" in result.stdout
    again = invoke("--as-of", "2026-11-20", "score", "lifecycle")
    assert "No stage changed since the last run." in again.stdout
    con = open_database(scored_base, wait=0)
    stages = dict(con.execute("SELECT contact_id, lifecycle_stage FROM contact_scores").fetchall())
    con.close()
    assert stages == {1: "new_customer", 2: "lost", 3: "visitor"}


def test_score_rfm_json(invoke, scored_base):
    result = invoke("score", "rfm", "--as-of", "2026-11-20", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-11-20"
    assert (data["contacts"], data["scored"], data["without_purchase"]) == (3, 2, 1)
    groups = {s["segment"]: s["contacts"] for s in data["segments"]}
    assert groups["lost"] == 1 and sum(groups.values()) == 2
    assert result.stderr == ""


def test_score_leads_json(invoke, scored_base):
    result = invoke("--json", "--as-of", "2026-11-20", "score", "leads")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["evaluation_threshold"] == 30 and data["rules"] == []
    assert {s["stage"]: s["contacts"] for s in data["stages"]} == {"none": 3, "evaluation": 0, "decision": 0}


def test_a_bad_lead_rule_is_exit_2_naming_the_rule(invoke, scored_base):
    (scored_base.parent / "crmseg.yaml").write_text(
        "scoring:\n  leads:\n    rules:\n      - {points: 5, when: {jbo_title: {is_null: false}}}\n", encoding="utf-8"
    )
    result = invoke("score", "leads")
    assert result.exit_code == 2
    assert "scoring.leads.rules[0]" in result.stderr and "jbo_title" in result.stderr
    assert "job_title" in result.stderr  # the suggestion
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_lead_rule_names_the_settings_file_and_its_line(invoke, scored_base):
    settings = scored_base.parent / "crmseg.yaml"
    settings.write_text(
        "scoring:\n  leads:\n    rules:\n      - {points: 10, when: {job_title: {is_null: false}}}\n"
        "      - points: 15\n        when:\n          event: {type: donaton, within: 30 days}\n",
        encoding="utf-8",
    )
    result = invoke("score", "leads")
    assert result.exit_code == 2
    assert f"{settings}, line 5: scoring.leads.rules[1]" in result.stderr
    assert "did you mean `donation`" in result.stderr


def test_help_has_examples(invoke):
    for sub in ("rfm", "lifecycle", "leads"):
        result = invoke("score", sub, "--help")
        assert result.exit_code == 0 and "Example: crmseg score" in result.stdout


def _demo_context(con, tmp_path, settings):
    report = DemoReport(database=tmp_path / "x.duckdb", out_dir=tmp_path, as_of=date(2026, 11, 20))
    return DemoContext(con=con, settings=settings, sample_dir=tmp_path, out_dir=tmp_path,
                       as_of=date(2026, 11, 20), report=report)


def test_demo_stage_skips_an_empty_base(con, tmp_path):
    ctx = _demo_context(con, tmp_path, Settings())
    _stage_score(ctx)
    assert ctx.report.steps[0].summary == "skipped: no contacts imported"


def test_demo_stage_scores_the_base(con, tmp_path):
    con.execute("INSERT INTO contacts (id, email) VALUES (1, 'a@example.org')")
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES (1, 'donation', '2026-10-01', 5)")
    ctx = _demo_context(con, tmp_path, Settings(scoring={"leads": {"rules": []}}))
    _stage_score(ctx)
    step = ctx.report.steps[0]
    assert step.name == "score" and "1 contacts scored" in step.summary and "new_customer 1" in step.summary
