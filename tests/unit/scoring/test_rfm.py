"""RFM scores and groups, checked against a plain-Python computation."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from cli.scoring import RFM_SEGMENT_GRID, RFM_SEGMENTS, rfm_distribution
from cli.scoring.rfm import grid_markdown, quintile_scores, rfm_segment

AS_OF = date(2026, 11, 20)
README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_grid_names_every_group_and_only_those():
    used = {name for row in RFM_SEGMENT_GRID for name in row}
    assert used == set(RFM_SEGMENTS)
    assert len(RFM_SEGMENTS) == 11
    assert all(len(row) == 5 for row in RFM_SEGMENT_GRID) and len(RFM_SEGMENT_GRID) == 5


def test_the_readme_carries_the_grid():
    assert grid_markdown() in README.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "r, f, m, group",
    [(5, 5, 5, "champions"), (5, 1, 1, "new"), (4, 1, 1, "promising"), (3, 3, 3, "need_attention"),
     (1, 1, 1, "lost"), (2, 1, 2, "hibernating"), (1, 5, 5, "cant_lose_them"), (2, 3, 4, "at_risk"),
     (3, 5, 4, "loyal"), (3, 1, 2, "about_to_sleep"), (4, 2, 3, "potential_loyalists")],
)
def test_named_groups(r, f, m, group):
    assert rfm_segment(r, f, m) == group


def test_distinct_values_give_exact_quintiles():
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(list(range(10)), higher_is_better=False) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_share_the_lowest_score():
    assert quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9]) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_scores_match_a_plain_python_computation(base, seed):
    rng = random.Random(seed)
    history: dict[int, list[tuple[date, float | None]]] = {}
    for _ in range(150):
        cid = base.contact()
        gifts = []
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3, 5, 8])):
            when = AS_OF - timedelta(days=rng.randrange(0, 2000))
            amount = rng.choice([None, 5.0, 10.0, 20.0, 50.0, round(rng.uniform(1, 500), 2)])
            gifts.append((when, amount))
            base.event(cid, rng.choice(["donation", "membership", "purchase"]), when, amount)
        # Noise that RFM must not count: other types, and gifts after the as-of date.
        base.event(cid, "email_open", AS_OF - timedelta(days=3))
        if rng.random() < 0.2:
            base.event(cid, "donation", AS_OF + timedelta(days=1), 1000)
        history[cid] = gifts
    base.score(AS_OF)

    buyers = [cid for cid, gifts in history.items() if gifts]
    recency = [max(d for d, _ in history[c]).toordinal() for c in buyers]
    frequency = [len(history[c]) for c in buyers]
    monetary = [sum(a or 0 for _, a in history[c]) for c in buyers]
    r, f, m = quintile_scores(recency), quintile_scores(frequency), quintile_scores(monetary)
    for i, cid in enumerate(buyers):
        got = base.scores(cid)
        assert (got["rfm_r"], got["rfm_f"], got["rfm_m"]) == (r[i], f[i], m[i]), f"contact {cid}"
        assert got["rfm_segment"] == rfm_segment(r[i], f[i], m[i])
    for cid in set(history) - set(buyers):
        got = base.scores(cid)
        assert (got["rfm_r"], got["rfm_f"], got["rfm_m"], got["rfm_segment"]) == (None, None, None, None)

    dist = rfm_distribution(base.con)
    assert dist["scored"] == len(buyers)
    assert sum(s["contacts"] for s in dist["segments"]) == len(buyers)
    assert sum(map(sum, dist["grid"])) == len(buyers)


def test_more_recent_more_frequent_and_bigger_score_higher(base):
    small = base.contact()
    base.event(small, "donation", "2020-01-01", 5)
    big = base.contact()
    for month in range(1, 11):
        base.event(big, "donation", date(2026, month, 1), 100)
    base.score(AS_OF)
    assert base.scores(small)["rfm_segment"] == "lost"
    assert (base.scores(big)["rfm_r"], base.scores(big)["rfm_f"], base.scores(big)["rfm_m"]) == (3, 3, 3)


def test_merged_and_erased_contacts_are_not_scored(base):
    kept = base.contact()
    merged = base.contact(status="merged")
    erased = base.contact(email=None, status="erased")
    suppressed = base.contact(status="suppressed")
    for cid in (kept, merged, erased, suppressed):
        base.event(cid, "donation", "2026-10-01", 10)
    run = base.score(AS_OF)
    assert run.contacts == 2
    ids = {r[0] for r in base.con.execute("SELECT contact_id FROM contact_scores").fetchall()}
    assert ids == {kept, suppressed}


from hypothesis import given, settings as hypothesis_settings, strategies as st  # noqa: E402


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=40))
def test_quintile_scores_are_1_to_5_and_follow_the_values(values):
    scores = quintile_scores(values)
    assert all(1 <= s <= 5 for s in scores)
    for v1, s1 in zip(values, scores):
        for v2, s2 in zip(values, scores):
            if v1 < v2:
                assert s1 <= s2
            if v1 == v2:
                assert s1 == s2
    assert min(scores) == 1
