"""Compiled segments select exactly what a plain-Python reading of the condition selects.

Every expected set is computed here, over the Python copy of the seeded base,
without the compiler; relative dates are written out for the fixed as-of date
(2026-06-15).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cli.segmenting import compile_condition
from tests.unit.segmenting.conftest import AS_OF


def members(con, settings, condition) -> set[int]:
    compiled = compile_condition(condition, settings=settings, as_of=AS_OF, con=con)
    return {row[0] for row in con.execute(compiled.sql, compiled.params).fetchall()}


def low(text):
    return text.lower() if text is not None else None


BIRTHDAYS = {((AS_OF + timedelta(days=d)).month, (AS_OF + timedelta(days=d)).day) for d in range(31)}
ACTIVITY = ["email_open", "email_click", "donation", "purchase", "membership", "event_attendance", "meeting"]


def last_activity(p):
    dates = [w.date() for (_, w, _, _) in p.events_of(ACTIVITY)]
    return max(dates) if dates else None


def total(events):
    return sum(a or 0 for (_, _, a, _) in events)


CASES = [
    ("eq", {"city": "Lyon"}, lambda p: p.city == "Lyon"),
    ("ne is false on null", {"city": {"ne": "Lyon"}}, lambda p: p.city is not None and p.city != "Lyon"),
    ("in", {"city": {"in": ["Lyon", "Paris"]}}, lambda p: p.city in ("Lyon", "Paris")),
    ("not_in", {"city": {"not_in": ["Lyon", "Paris"]}}, lambda p: p.city is not None and p.city not in ("Lyon", "Paris")),
    ("contains is case-insensitive", {"city": {"contains": "LYON"}}, lambda p: p.city is not None and "lyon" in low(p.city)),
    ("starts_with", {"city": {"starts_with": "saint"}}, lambda p: p.city is not None and low(p.city).startswith("saint")),
    ("ends_with", {"city": {"ends_with": "NNE"}}, lambda p: p.city is not None and low(p.city).endswith("nne")),
    ("matches", {"city": {"matches": "^[LP]"}}, lambda p: p.city is not None and p.city[:1] in ("L", "P")),
    ("text contains_any", {"city": {"contains_any": ["ice", "aris"]}},
     lambda p: p.city is not None and ("ice" in low(p.city) or "aris" in low(p.city))),
    ("text contains_all", {"city": {"contains_all": ["saint", "tienne"]}},
     lambda p: p.city is not None and "saint" in low(p.city) and "tienne" in low(p.city)),
    ("is_null true", {"city": {"is_null": True}}, lambda p: p.city is None),
    ("is_null false", {"email": {"is_null": False}}, lambda p: p.email is not None),
    ("text gt", {"city": {"gt": "M"}}, lambda p: p.city is not None and p.city > "M"),
    ("number gt", {"score": {"gt": 5}}, lambda p: p.score is not None and p.score > 5),
    ("number gte", {"score": {"gte": 5}}, lambda p: p.score is not None and p.score >= 5),
    ("number lt", {"score": {"lt": 12.5}}, lambda p: p.score is not None and p.score < 12.5),
    ("number lte", {"score": {"lte": 12.5}}, lambda p: p.score is not None and p.score <= 12.5),
    ("number between", {"score": {"between": [5, 12.5]}}, lambda p: p.score is not None and 5 <= p.score <= 12.5),
    ("number eq and in", {"score": {"in": [0, 40]}}, lambda p: p.score in (0, 40)),
    ("number ne", {"score": {"ne": 0}}, lambda p: p.score is not None and p.score != 0),
    ("several operators are ANDed", {"score": {"gt": 0, "lt": 40}}, lambda p: p.score is not None and 0 < p.score < 40),
    ("date before", {"member_since": {"before": "2025-12-31"}},
     lambda p: p.member_since is not None and p.member_since < date(2025, 12, 31)),
    ("date after", {"member_since": {"after": "2025-12-31"}},
     lambda p: p.member_since is not None and p.member_since > date(2025, 12, 31)),
    ("date relative before", {"member_since": {"before": "-6 months"}},
     lambda p: p.member_since is not None and p.member_since < date(2025, 12, 15)),
    ("date within", {"member_since": {"within": "1 year"}},
     lambda p: p.member_since is not None and date(2025, 6, 15) <= p.member_since <= AS_OF),
    ("date older_than", {"member_since": {"older_than": "2 years"}},
     lambda p: p.member_since is not None and p.member_since < date(2024, 6, 15)),
    ("date between", {"member_since": {"between": ["2024-06-15", "2025-12-31"]}},
     lambda p: p.member_since is not None and date(2024, 6, 15) <= p.member_since <= date(2025, 12, 31)),
    ("date eq today", {"member_since": "today"}, lambda p: p.member_since == AS_OF),
    ("birthday_within", {"birth_date": {"birthday_within": "30 days"}},
     lambda p: p.birth_date is not None and (p.birth_date.month, p.birth_date.day) in BIRTHDAYS),
    ("age gte", {"age": {"gte": 30}}, lambda p: p.age is not None and p.age >= 30),
    ("age between", {"age": {"between": [20, 40]}}, lambda p: p.age is not None and 20 <= p.age <= 40),
    ("age is full years", {"age": 46}, lambda p: p.age == 46),
    ("boolean", {"volunteer": True}, lambda p: p.volunteer is True),
    ("boolean ne", {"volunteer": {"ne": True}}, lambda p: p.volunteer is False),
    ("select", {"theme": "nature"}, lambda p: p.theme == "nature"),
    ("multiselect contains", {"interests": {"contains": "animaux"}}, lambda p: bool(p.interests) and "animaux" in p.interests),
    ("multiselect shorthand", {"interests": "education"}, lambda p: bool(p.interests) and "education" in p.interests),
    ("multiselect contains_any", {"interests": {"contains_any": ["education", "environnement"]}},
     lambda p: bool(p.interests) and bool({"education", "environnement"} & set(p.interests))),
    ("multiselect contains_all", {"interests": {"contains_all": ["animaux", "education"]}},
     lambda p: bool(p.interests) and {"animaux", "education"} <= set(p.interests)),
    ("multiselect empty is null", {"interests": {"is_null": True}}, lambda p: not p.interests),
    ("tags contains", {"tags": {"contains": "newsletter"}}, lambda p: "newsletter" in p.tags),
    ("tag", {"tag": "vip"}, lambda p: "vip" in p.tags),
    ("tags contains_any", {"tags": {"contains_any": ["vip", "benevole"]}}, lambda p: bool({"vip", "benevole"} & p.tags)),
    ("tags contains_all", {"tags": {"contains_all": ["vip", "benevole"]}}, lambda p: {"vip", "benevole"} <= p.tags),
    ("no tags", {"tags": {"is_null": True}}, lambda p: not p.tags),
    ("event within", {"event": {"type": "donation", "within": "3 months"}},
     lambda p: bool(p.events_of(["donation"], start=date(2026, 3, 15)))),
    ("event any type", {"event": {"within": "30 days"}}, lambda p: bool(p.events_of(None, start=date(2026, 5, 16)))),
    ("event type list", {"event": {"type": ["donation", "purchase"]}}, lambda p: bool(p.events_of(["donation", "purchase"]))),
    ("event count", {"event": {"type": "email_open", "count": {"gte": 2}}}, lambda p: len(p.events_of(["email_open"])) >= 2),
    ("event count eq 0", {"event": {"type": "donation", "count": {"eq": 0}}}, lambda p: not p.events_of(["donation"])),
    ("event count lt 2", {"event": {"type": "donation", "count": {"lt": 2}}}, lambda p: len(p.events_of(["donation"])) < 2),
    ("event sum", {"event": {"type": "donation", "sum": {"gt": 50}}}, lambda p: total(p.events_of(["donation"])) > 50),
    # count defaults to gte 1 (SPEC §5): "gave 20 or less" does not include those who never gave.
    ("event sum lte", {"event": {"type": "donation", "sum": {"lte": 20}}},
     lambda p: bool(p.events_of(["donation"])) and total(p.events_of(["donation"])) <= 20),
    ("event count lt 2 and sum lte", {"event": {"type": "donation", "count": {"lt": 2}, "sum": {"lte": 20}}},
     lambda p: len(p.events_of(["donation"])) < 2 and total(p.events_of(["donation"])) <= 20),
    ("event since until", {"event": {"type": "purchase", "since": "2025-01-01", "until": "2025-12-31"}},
     lambda p: bool(p.events_of(["purchase"], start=date(2025, 1, 1), end=date(2025, 12, 31)))),
    ("event channel", {"event": {"type": "donation", "channel": "web"}}, lambda p: bool(p.events_of(["donation"], channel="web"))),
    ("not event", {"not": {"event": {"type": "donation", "within": "3 months"}}},
     lambda p: not p.events_of(["donation"], start=date(2026, 3, 15))),
    ("total_given", {"total_given": {"gte": 100}}, lambda p: total(p.gifts) >= 100),
    ("gift_count zero", {"gift_count": 0}, lambda p: len(p.gifts) == 0),
    ("last_gift_at within", {"last_gift_at": {"within": "6 months"}},
     lambda p: bool(p.gifts) and max(w.date() for (_, w, _, _) in p.gifts) >= date(2025, 12, 15)),
    ("first_gift_at before", {"first_gift_at": {"before": "2025-01-01"}},
     lambda p: bool(p.gifts) and min(w.date() for (_, w, _, _) in p.gifts) < date(2025, 1, 1)),
    ("last_activity_at older_than", {"last_activity_at": {"older_than": "6 months"}},
     lambda p: last_activity(p) is not None and last_activity(p) < date(2025, 12, 15)),
    ("in_group", {"in_group": "board"}, lambda p: "board" in p.groups),
    ("stage_change", {"stage_change": {"to": "lost", "from": "active_customer", "within": "30 days"}},
     lambda p: any(s == "lost" and d >= date(2026, 5, 16) for (s, _, d) in p.stage_changes)),
    ("lifecycle_stage", {"lifecycle_stage": "prospect"}, lambda p: p.lifecycle_stage == "prospect"),
    ("lead_score", {"lead_score": {"gte": 30}}, lambda p: p.lead_score is not None and p.lead_score >= 30),
    ("status", {"status": {"in": ["suppressed", "merged"]}}, lambda p: p.status in ("suppressed", "merged")),
    ("all: [] holds for everyone", {"all": []}, lambda p: True),
    ("any: [] holds for no one", {"any": []}, lambda p: False),
    ("nested not / any", {"any": [{"not": {"all": [{"tag": "vip"}, {"score": {"gt": 5}}]}}, {"city": "Nice"}]},
     lambda p: not ("vip" in p.tags and p.score is not None and p.score > 5) or p.city == "Nice"),
    ("not of a null comparison holds", {"not": {"score": {"gt": 5}}}, lambda p: not (p.score is not None and p.score > 5)),
    ("injection text selects literally", {"city": "O'Brien's; DROP TABLE contacts; --"},
     lambda p: p.city == "O'Brien's; DROP TABLE contacts; --"),
    ("injection in a list", {"city": {"in": ["x' OR '1'='1", "Paris"]}}, lambda p: p.city == "Paris"),
]


@pytest.mark.parametrize("condition,expected", [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES])
def test_condition_selects_what_python_selects(con, settings, people, condition, expected):
    assert members(con, settings, condition) == {p.id for p in people if expected(p)}


def test_injection_changes_nothing(con, settings, people):
    before = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    members(con, settings, {"event": {"type": "donation", "campaign": "'; DELETE FROM events; --"}})
    members(con, settings, {"city": {"matches": "'; DROP TABLE contacts; --"}})
    assert con.execute("SELECT count(*) FROM contacts").fetchall()[0][0] == before
    assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == sum(len(p.events) for p in people)


def test_in_segment_inlines_the_other_segments_where(con, settings, people):
    folder = settings.segments_path
    (folder / "donors.yaml").write_text("where: {event: {type: donation}}\npurpose: postal\n")
    (folder / "vip-donors.yaml").write_text("where:\n  all:\n    - in_segment: donors\n    - tag: vip\n")
    got = members(con, settings, {"in_segment": "vip-donors"})
    # the other segment's where only, not its purpose rules
    assert got == {p.id for p in people if p.events_of(["donation"]) and "vip" in p.tags}


def test_events_after_the_as_of_date_are_ignored(con, settings):
    con.execute("INSERT INTO contacts (id, email) VALUES (1, 'a@x.org')")
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
                "(1, 'donation', '2026-06-15 23:59:00', 10), (1, 'donation', '2026-06-16 00:00:00', 99)")
    assert members(con, settings, {"total_given": 10}) == {1}
    assert members(con, settings, {"event": {"type": "donation", "count": 1}}) == {1}
    assert members(con, settings, {"last_gift_at": {"eq": "2026-06-15"}}) == {1}
