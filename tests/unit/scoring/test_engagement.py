"""The engagement score: opens and clicks, halved every half-life."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cli.scoring.engagement import engagement_of
from tests.unit.scoring.conftest import no_rules_settings

AS_OF = date(2026, 11, 20)


@pytest.mark.parametrize(
    "events, expected",
    [
        ([], 0.0),
        ([("email_open", 0)], 1.0),
        ([("email_click", 0)], 3.0),
        ([("email_open", 90)], 0.5),
        ([("email_click", 180)], 0.75),
        ([("email_open", 0), ("email_click", 90), ("email_sent", 0), ("web_visit", 0)], 2.5),
    ],
)
def test_weights_and_half_life(base, events, expected):
    cid = base.contact()
    for kind, age in events:
        base.event(cid, kind, AS_OF - timedelta(days=age))
    base.score(AS_OF)
    assert base.scores(cid)["engagement_score"] == pytest.approx(expected)


def test_a_click_outweighs_an_open_of_the_same_day(base):
    opener, clicker = base.contact(), base.contact()
    base.event(opener, "email_open", "2026-11-01")
    base.event(clicker, "email_click", "2026-11-01")
    base.score(AS_OF)
    assert base.scores(clicker)["engagement_score"] > base.scores(opener)["engagement_score"]


def test_the_half_life_comes_from_the_settings(base):
    cid = base.contact()
    base.event(cid, "email_open", AS_OF - timedelta(days=30))
    base.score(AS_OF, no_rules_settings(scoring={"engagement_half_life_days": 30}))
    assert base.scores(cid)["engagement_score"] == pytest.approx(0.5)


def test_future_events_do_not_count_and_the_formula_matches_python(base):
    cid = base.contact()
    ages = [("email_open", 1), ("email_open", 45), ("email_click", 7), ("email_click", 400), ("email_open", 1000)]
    for kind, age in ages:
        base.event(cid, kind, AS_OF - timedelta(days=age))
    base.event(cid, "email_click", AS_OF + timedelta(days=1))
    base.score(AS_OF)
    assert base.scores(cid)["engagement_score"] == pytest.approx(engagement_of(ages, 90))
