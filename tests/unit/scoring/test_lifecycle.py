"""Lifecycle stages: every transition both ways, each threshold edge, and the history."""

from __future__ import annotations

from datetime import date

import pytest

from tests.unit.scoring.conftest import no_rules_settings

AS_OF = date(2026, 11, 20)
# Default thresholds: new_customer_days 90, inactive_months 12, lost_months 24.


# --- who is reachable ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "fields, stage",
    [
        ({"email": None}, "visitor"),
        ({"email": "a@example.org"}, "prospect"),
        ({"email": None, "phone": "+33612345678"}, "prospect"),
        ({"email": None, "street": "1 rue Haute", "postal_code": "69001"}, "prospect"),
        ({"email": None, "street": "1 rue Haute", "city": "Lyon"}, "prospect"),
        ({"email": None, "street": "1 rue Haute"}, "visitor"),
        ({"email": None, "city": "Lyon", "postal_code": "69001"}, "visitor"),
    ],
)
def test_reachable_contacts_are_prospects_the_others_visitors(base, fields, stage):
    cid = base.contact(**fields)
    base.event(cid, "web_visit", "2026-11-01")
    base.score(AS_OF)
    assert base.stage(cid) == stage


# --- threshold edges ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "purchases, stage",
    [
        # new_customer: first purchase on or after as_of - 90 days (2026-08-22)
        (["2026-08-22"], "new_customer"),
        (["2026-08-21"], "active_customer"),
        (["2026-11-20 23:59:59"], "new_customer"),
        # inactive: last purchase before as_of - 12 months (2025-11-20)
        (["2025-11-20"], "active_customer"),
        (["2025-11-19 23:59:59"], "inactive_customer"),
        (["2020-01-01", "2025-11-20"], "active_customer"),
        # lost: last purchase before as_of - 24 months (2024-11-20)
        (["2024-11-20"], "inactive_customer"),
        (["2024-11-19"], "lost"),
    ],
)
def test_threshold_edges(base, purchases, stage):
    cid = base.contact()
    for when in purchases:
        base.event(cid, "donation", when, 20)
    base.score(AS_OF)
    assert base.stage(cid) == stage


def test_events_after_the_as_of_date_are_ignored(base):
    cid = base.contact()
    base.event(cid, "donation", "2026-11-21 00:00:00", 50)
    base.event(cid, "unsubscribe", "2026-11-21 00:00:00")
    base.score(AS_OF)
    assert base.stage(cid) == "prospect"


def test_only_purchase_types_make_a_customer(base):
    cid = base.contact()
    base.event(cid, "purchase", "2026-11-01", 30)
    base.score(AS_OF, no_rules_settings(scoring={"purchase_types": ["donation", "membership"]}))
    assert base.stage(cid) == "prospect"
    base.score(AS_OF)
    assert base.stage(cid) == "new_customer"


def test_lifecycle_thresholds_come_from_the_settings(base):
    cid = base.contact()
    base.event(cid, "donation", "2026-05-01", 30)
    settings = no_rules_settings(lifecycle={"new_customer_days": 30, "inactive_months": 3, "lost_months": 6})
    base.score(AS_OF, settings)
    assert base.stage(cid) == "lost"
    base.score(date(2026, 7, 15), settings)
    assert base.stage(cid) == "active_customer"
    base.score(date(2026, 9, 1), settings)
    assert base.stage(cid) == "inactive_customer"


# --- unsubscription ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "contact, events, stage",
    [
        ({}, [("donation", "2026-10-01"), ("unsubscribe", "2026-10-15")], "lost"),
        ({}, [("unsubscribe", "2026-10-01"), ("donation", "2026-10-15")], "new_customer"),
        ({}, [("donation", "2026-10-01 10:00"), ("unsubscribe", "2026-10-01 10:00")], "new_customer"),
        ({}, [("unsubscribe", "2026-10-01")], "lost"),
        ({"consent_withdrawn_at": "2026-10-01"}, [], "lost"),
        ({"consent_withdrawn_at": "2026-12-01"}, [], "prospect"),
        # opted in again after unsubscribing
        ({"consent_email": True, "consent_at": "2026-10-10"}, [("unsubscribe", "2026-10-01")], "prospect"),
        ({"consent_email": True, "consent_at": "2026-09-10"}, [("unsubscribe", "2026-10-01")], "lost"),
    ],
)
def test_unsubscribed_with_no_purchase_since_is_lost(base, contact, events, stage):
    cid = base.contact(**contact)
    for kind, when in events:
        base.event(cid, kind, when, 10 if kind == "donation" else None)
    base.score(AS_OF)
    assert base.stage(cid) == stage


# --- transitions, replayed at successive as-of dates -------------------------------------------

TRANSITIONS = {
    # name: (events, [(as_of, expected stage, expected changed_at of the change it records or None)])
    "prospect -> new_customer": (
        [("donation", "2026-10-01")],
        [("2026-09-01", "prospect", "2026-09-01"), ("2026-11-20", "new_customer", "2026-10-01")],
    ),
    "new_customer -> active_customer": (
        [("donation", "2026-01-10")],
        [("2026-02-01", "new_customer", "2026-01-10"), ("2026-05-01", "active_customer", "2026-04-11")],
    ),
    "active_customer -> inactive_customer": (
        [("donation", "2024-01-10"), ("donation", "2024-09-01"), ("donation", "2025-03-01")],
        [("2025-06-01", "active_customer", "2024-04-10"), ("2026-06-01", "inactive_customer", "2026-03-02")],
    ),
    "inactive_customer -> active_customer": (
        [("donation", "2023-01-10"), ("donation", "2025-02-01")],
        [("2024-06-01", "inactive_customer", "2024-01-11"), ("2025-03-01", "active_customer", "2025-02-01")],
    ),
    "inactive_customer -> lost": (
        [("donation", "2023-01-10")],
        [("2024-06-01", "inactive_customer", "2024-01-11"), ("2025-06-01", "lost", "2025-01-11")],
    ),
    "lost -> active_customer": (
        [("donation", "2020-01-10"), ("membership", "2025-05-05")],
        [("2025-01-01", "lost", "2022-01-11"), ("2025-06-01", "active_customer", "2025-05-05")],
    ),
    "active_customer -> lost -> active_customer (unsubscribe, then a gift)": (
        [("donation", "2026-01-01"), ("unsubscribe", "2026-07-01"), ("donation", "2026-09-01"),
         ("donation", "2026-10-01")],
        [("2026-06-01", "active_customer", "2026-04-02"), ("2026-08-01", "lost", "2026-07-01"),
         ("2026-11-01", "active_customer", "2026-09-01")],
    ),
    "prospect -> lost -> new_customer (unsubscribed, then a first gift)": (
        [("unsubscribe", "2026-03-01"), ("donation", "2026-10-01")],
        [("2026-02-01", "prospect", "2026-02-01"), ("2026-04-01", "lost", "2026-03-01"),
         ("2026-11-01", "new_customer", "2026-10-01")],
    ),
    "new_customer -> lost (unsubscribe)": (
        [("donation", "2026-09-01"), ("unsubscribe", "2026-10-01")],
        [("2026-09-15", "new_customer", "2026-09-01"), ("2026-10-15", "lost", "2026-10-01")],
    ),
    "no change, no new history row": (
        [("donation", "2026-01-10")],
        [("2026-05-01", "active_customer", "2026-04-11"), ("2026-06-01", "active_customer", None)],
    ),
}


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_transitions_replayed_at_successive_dates(base, name):
    events, checkpoints = TRANSITIONS[name]
    cid = base.contact()
    for kind, when in events:
        base.event(cid, kind, when, 25 if kind in ("donation", "membership") else None)
    expected_history = []
    previous = None
    for as_of, stage, changed_at in checkpoints:
        base.score(date.fromisoformat(as_of))
        assert base.stage(cid) == stage, f"as of {as_of}"
        if changed_at is not None:
            expected_history.append((previous, stage, date.fromisoformat(changed_at)))
        previous = stage
    assert base.history(cid) == expected_history


def test_visitor_and_prospect_move_both_ways_with_the_data(base):
    cid = base.contact(email=None)
    base.score(date(2026, 1, 1))
    base.con.execute("UPDATE contacts SET email = 'new@example.org' WHERE id = ?", [cid])
    base.score(date(2026, 2, 1))
    assert base.stage(cid) == "prospect"
    base.con.execute("UPDATE contacts SET email = NULL WHERE id = ?", [cid])
    base.score(date(2026, 3, 1))
    assert base.stage(cid) == "visitor"
    assert base.history(cid) == [
        (None, "visitor", date(2026, 1, 1)),
        ("visitor", "prospect", date(2026, 2, 1)),
        ("prospect", "visitor", date(2026, 3, 1)),
    ]


# --- history rules ----------------------------------------------------------------------------

def test_a_rerun_records_nothing_new(base):
    cid = base.contact()
    base.event(cid, "donation", "2026-10-01", 10)
    first = base.score(AS_OF)
    second = base.score(AS_OF)
    assert first.changed_contacts == 1 and second.changed_contacts == 0
    assert base.history(cid) == [(None, "new_customer", date(2026, 10, 1))]


def test_two_changes_on_one_day_keep_their_order(base):
    cid = base.contact()
    base.score(AS_OF)
    base.event(cid, "donation", "2026-11-20 09:00", 10)
    base.score(AS_OF)
    base.event(cid, "unsubscribe", "2026-11-20 10:00")
    base.score(AS_OF)
    base.score(AS_OF)
    assert base.history(cid) == [
        (None, "prospect", AS_OF),
        ("prospect", "new_customer", AS_OF),
        ("new_customer", "lost", AS_OF),
    ]


def test_a_run_in_the_past_leaves_later_history_alone(base):
    cid = base.contact()
    base.event(cid, "donation", "2024-01-10", 10)
    base.score(AS_OF)  # lost since 2026-01-11
    before = base.history(cid)
    base.score(date(2024, 3, 1))
    assert base.stage(cid) == "new_customer"  # the scores are those of the as-of date...
    assert base.history(cid) == before  # ...but the history does not go back in time


def test_changed_at_never_precedes_the_previous_change(base):
    cid = base.contact()
    base.score(date(2026, 6, 1))  # prospect
    # A gift dated before that run, imported afterwards.
    base.event(cid, "donation", "2026-05-01", 10)
    base.score(date(2026, 7, 1))
    assert base.history(cid) == [
        (None, "prospect", date(2026, 6, 1)),
        ("prospect", "new_customer", date(2026, 6, 1)),
    ]


def test_replay_of_a_small_base_at_two_dates(base):
    steady = base.contact()
    base.event(steady, "donation", "2026-01-15", 10)
    base.event(steady, "donation", "2026-06-15", 10)
    lapsing = base.contact()
    base.event(lapsing, "donation", "2025-10-25", 40)
    newcomer = base.contact()
    base.event(newcomer, "membership", "2026-10-05", 30)
    visitor = base.contact(email=None)
    base.event(visitor, "web_visit", "2026-06-01")

    first = base.score(date(2026, 7, 1))
    assert first.changed_contacts == 4
    second = base.score(AS_OF)
    assert sorted((c["from"], c["to"], c["contacts"]) for c in second.stage_changes) == [
        ("active_customer", "inactive_customer", 1),
        ("prospect", "new_customer", 1),
    ]
    assert base.history(steady) == [(None, "active_customer", date(2026, 4, 16))]
    assert base.history(lapsing) == [
        (None, "active_customer", date(2026, 1, 24)),
        ("active_customer", "inactive_customer", date(2026, 10, 26)),
    ]
    assert base.history(newcomer) == [
        (None, "prospect", date(2026, 7, 1)),
        ("prospect", "new_customer", date(2026, 10, 5)),
    ]
    assert base.history(visitor) == [(None, "visitor", date(2026, 7, 1))]
