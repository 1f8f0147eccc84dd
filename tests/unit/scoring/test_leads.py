"""Lead points: thresholds, the unsubscribe and suppression exit, rule errors.

Most tests use a stand-in for the segment engine (``stand_in_engine``) so the
points logic is tested on its own; the last one runs the real engine and is
skipped while ``cli.segmenting.compile_condition`` is not in this build.
"""

from __future__ import annotations

import importlib.util
from datetime import date

import pytest

from cli.errors import ConfigError
from cli.scoring import lead_distribution
from cli.settings import Settings

AS_OF = date(2026, 11, 20)


def lead_settings(rules, evaluation=30, decision=60) -> Settings:
    return Settings(scoring={"leads": {"evaluation_threshold": evaluation, "decision_threshold": decision,
                                       "rules": rules}})


@pytest.mark.parametrize(
    "points, score, stage",
    [([], 0, "none"), ([29], 29, "none"), ([30], 30, "evaluation"), ([20, 10], 30, "evaluation"),
     ([59], 59, "evaluation"), ([60], 60, "decision"), ([40, 40, -15], 65, "decision"), ([80, -30], 50, "evaluation")],
)
def test_thresholds_are_reached_at_or_above(base, stand_in_engine, points, score, stage):
    cid = base.contact()
    other = base.contact()
    rules = [{"points": p, "when": {"contact_ids": [cid]}} for p in points]
    run = base.score(AS_OF, lead_settings(rules))
    assert (base.scores(cid)["lead_score"], base.scores(cid)["lead_stage"]) == (score, stage)
    assert (base.scores(other)["lead_score"], base.scores(other)["lead_stage"]) == (0, "none")
    assert [h.contacts for h in run.lead_rules] == [1] * len(points)


def test_a_contact_matching_a_rule_twice_gets_its_points_once(base, stand_in_engine):
    cid = base.contact()
    base.score(AS_OF, lead_settings([{"points": 40, "when": {"contact_ids": [cid, cid]}}]))
    assert base.scores(cid)["lead_score"] == 40


@pytest.mark.parametrize(
    "contact, events",
    [
        ({}, [("unsubscribe", "2026-10-01")]),
        ({"status": "suppressed"}, []),
        ({"consent_withdrawn_at": "2026-09-01"}, []),
    ],
)
def test_unsubscribed_or_suppressed_contacts_leave_the_scheme(base, stand_in_engine, contact, events):
    cid = base.contact(job_title="Directrice", **contact)
    for kind, when in events:
        base.event(cid, kind, when)
    run = base.score(AS_OF, lead_settings([{"points": 70, "when": {"job_title": {"is_null": False}}}]))
    assert (base.scores(cid)["lead_score"], base.scores(cid)["lead_stage"]) == (None, "none")
    assert run.lead_rules[0].contacts == 1  # it met the rule, and still left
    assert lead_distribution(base.con)["out_of_scheme"] == 1


def test_an_unsubscription_after_the_as_of_date_does_not_count(base, stand_in_engine):
    cid = base.contact(job_title="Directrice")
    base.event(cid, "unsubscribe", "2026-12-01")
    base.score(AS_OF, lead_settings([{"points": 70, "when": {"job_title": {"is_null": False}}}]))
    assert base.scores(cid)["lead_stage"] == "decision"


def test_opting_in_again_brings_a_contact_back(base, stand_in_engine):
    cid = base.contact(job_title="Directrice", consent_email=True, consent_at="2026-10-15")
    base.event(cid, "unsubscribe", "2026-10-01")
    base.score(AS_OF, lead_settings([{"points": 35, "when": {"job_title": {"is_null": False}}}]))
    assert (base.scores(cid)["lead_score"], base.scores(cid)["lead_stage"]) == (35, "evaluation")


def test_a_rule_may_not_use_the_lead_score(base, stand_in_engine):
    base.contact()
    rules = [{"points": 5, "when": {"all": [{"lead_stage": "decision"}]}}]
    with pytest.raises(ConfigError, match=r"rules\[0\].*lead_stage"):
        base.score(AS_OF, lead_settings(rules))


def test_a_rule_the_engine_refuses_is_named_and_nothing_changes(base, stand_in_engine):
    cid = base.contact()
    base.score(AS_OF, lead_settings([]))
    rules = [{"points": 5, "when": {"contact_ids": [cid]}}, {"points": 5, "name": "typo", "when": {"jbo_title": "x"}}]
    with pytest.raises(ConfigError, match=r"scoring\.leads\.rules\[1\] \(typo\): unknown field `jbo_title`"):
        base.score(date(2026, 12, 1), lead_settings(rules))
    assert base.scores(cid)["as_of"] == AS_OF  # the previous scores are still there


def test_no_rules_give_no_points(base):
    cid = base.contact()
    base.score(AS_OF, lead_settings([], evaluation=0))
    assert base.scores(cid)["lead_stage"] == "evaluation"


def _engine_present() -> bool:
    try:
        return importlib.util.find_spec("cli.segmenting") is not None and hasattr(
            importlib.import_module("cli.segmenting"), "compile_condition"
        )
    except ImportError:
        return False


import importlib  # noqa: E402


@pytest.mark.skipif(
    not _engine_present(),
    reason="needs the segment engine: cli.segmenting.compile_condition (segments issue), not merged yet",
)
def test_default_rules_with_the_real_segment_engine(base):
    clicker = base.contact(job_title="Responsable RSE")
    base.event(clicker, "email_click", "2026-11-10")
    old_clicker = base.contact()
    base.event(old_clicker, "email_click", "2026-09-01")
    titled = base.contact(job_title="Chargée de mission")
    nobody = base.contact()
    base.score(AS_OF, Settings(scoring={"leads": {"evaluation_threshold": 20, "decision_threshold": 30}}))
    assert (base.scores(clicker)["lead_score"], base.scores(clicker)["lead_stage"]) == (30, "decision")
    assert (base.scores(old_clicker)["lead_score"], base.scores(old_clicker)["lead_stage"]) == (0, "none")
    assert (base.scores(titled)["lead_score"], base.scores(titled)["lead_stage"]) == (10, "none")
    assert base.scores(nobody)["lead_score"] == 0


def test_a_rule_may_not_use_the_lead_score_through_another_segment(base, tmp_path):
    # `not: {in_segment: hot}` would read lead scores half-computed: everyone got the points.
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "hot.yaml").write_text("where: {lead_score: {gte: 30}}\n", encoding="utf-8")
    (tmp_path / "segments" / "warm.yaml").write_text("where: {any: [{in_segment: hot}]}\n", encoding="utf-8")
    base.contact()
    settings = Settings(base_dir=tmp_path, scoring={"leads": {"rules": [
        {"points": 50, "name": "cold", "when": {"not": {"in_segment": "warm"}}}]}})
    with pytest.raises(ConfigError, match=r"rules\[0\] \(cold\).*`lead_score` \(through the segment `hot`\)"):
        base.score(AS_OF, settings)
    assert base.con.execute("SELECT count(*) FROM contact_scores").fetchone()[0] == 0
