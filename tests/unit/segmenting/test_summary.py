"""The event-summary path selects exactly what the events scan selects.

The summary (``contact_event_summary``) answers event conditions, gift
fields, ``last_activity_at`` and the email rule "no unsubscribe since
consent" when it agrees with the events and no event is dated after the
as-of date. Each case is checked three ways: against the plain-Python
reading of ``test_semantics``, through the summary, and through the scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cli.event_summary import (
    ensure_event_summary,
    rebuild_event_summary,
    refresh_event_summary,
    summary_is_current,
    summary_is_usable,
)
from cli.segmenting import compile_condition, compile_segment, load_segment_text, parse_condition
from cli.segmenting.compiler import Compiler, _col
from cli.suppression import refresh_contact_keys
from tests.unit.segmenting.conftest import AS_OF, build_people, insert_people
from tests.unit.segmenting.test_semantics import CASES

END = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time())
SUMMARY_CASES = [case for case in CASES if any(word in str(case[1]) for word in
                                               ("event", "gift", "total_given", "last_activity_at"))]
EMAIL_SEGMENTS = [
    "where: {event: {type: donation, within: 3 months}}",
    "where: {not: {event: {type: [donation, purchase], since: '2025-09-01'}}}\ninclude_inactive: true",
    "where: {any: [{total_given: {gte: 50}}, {last_activity_at: {within: 2 months}}]}",
    "where: {event: {type: email_open, count: {gte: 2}, sum: {eq: 0}}}",
    "where: {all: [{event: {type: donation, since: -24 months, count: {gte: 2}}}, {not: {event: {type: donation, within: 6 months}}}]}",
    "where: {all: []}",
]


def _members(con, settings, condition, summary):
    """Members and SQL: ``summary`` None lets the compiler decide, False forces the scan."""
    if summary is None:
        compiled = compile_condition(condition, settings=settings, as_of=AS_OF, con=con)
    else:
        compiler = Compiler(settings, AS_OF, con=con, summary=summary)
        where = compiler.condition(parse_condition(condition, settings))
        compiled = compiler.render(compiler.select([("contact_id", _col("id", "c"))], where))
    return {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()}, compiled.sql


@pytest.fixture
def current_people(con):
    """The seeded base without events after the as-of date (a base run on the day), summary built."""
    population = build_people(seed=11, count=150)
    for person in population:
        person.events = [e for e in person.events if e[1] < END]
    insert_people(con, population)
    # Some consents dated, so the email rule compares stop events with them.
    con.execute("UPDATE contacts SET consent_at = TIMESTAMP '2025-06-01' WHERE id % 3 = 0")
    refresh_contact_keys(con)
    rebuild_event_summary(con)
    return population


@pytest.mark.parametrize("condition,expected", [(c, e) for _, c, e in SUMMARY_CASES],
                         ids=[n for n, _, _ in SUMMARY_CASES])
def test_the_summary_path_selects_what_python_selects(con, settings, current_people, condition, expected):
    assert summary_is_usable(con, AS_OF)
    got, sql = _members(con, settings, condition, None)
    assert got == {p.id for p in current_people if expected(p)}
    scanned, scan_sql = _members(con, settings, condition, False)
    assert scanned == got
    assert "contact_event_summary" not in scan_sql
    if "channel" not in str(condition) and "until" not in str(condition):
        assert "contact_event_summary" in sql


@pytest.mark.parametrize("text", EMAIL_SEGMENTS)
def test_email_segments_are_the_same_through_the_summary(con, settings, current_people, text):
    spec = load_segment_text(text, settings)
    runs = {}
    for summary in (True, False):
        compiled = compile_segment(spec, settings=settings, as_of=AS_OF, con=con, summary=summary)
        runs[summary] = {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()}
    assert runs[True] == runs[False]
    if text == "where: {all: []}":
        assert runs[True]  # the email rules alone keep some of the seeded base


@pytest.mark.parametrize("condition,expected", [(c, e) for _, c, e in SUMMARY_CASES],
                         ids=[n for n, _, _ in SUMMARY_CASES])
def test_events_after_the_as_of_date_fall_back_to_the_scan(con, settings, condition, expected):
    population = build_people(seed=11, count=150)
    insert_people(con, population)
    rebuild_event_summary(con)
    assert any(e[1] >= END for p in population for e in p.events)
    assert summary_is_current(con) and not summary_is_usable(con, AS_OF)
    got, sql = _members(con, settings, condition, None)
    assert "contact_event_summary" not in sql
    assert got == {p.id for p in population if expected(p)}


def test_a_summary_behind_the_events_is_not_used_and_is_rebuilt(con, settings, current_people):
    condition = {"event": {"type": "donation", "within": "30 days"}}
    before, _ = _members(con, settings, condition, None)
    outsider = next(p.id for p in current_people if p.id not in before)
    # A writer that forgets the summary: the engine must not miss this gift.
    con.execute("INSERT INTO events (contact_id, type, occurred_at) VALUES (?, 'donation', ?)",
                [outsider, datetime.combine(AS_OF, datetime.min.time())])
    assert not summary_is_current(con)
    got, sql = _members(con, settings, condition, None)
    assert "contact_event_summary" not in sql and got == before | {outsider}
    assert ensure_event_summary(con) is True and summary_is_current(con)
    assert _members(con, settings, condition, None)[0] == before | {outsider}


def test_a_partial_refresh_equals_a_rebuild(con, current_people):
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) VALUES "
                "(1, 'donation', '2026-01-01', 12.5), (2, 'purchase', '2020-01-01', NULL), (3, 'meeting', '2026-06-15', 1)")
    con.execute("UPDATE events SET contact_id = 5 WHERE contact_id = 4")  # a merge of 4 into 5
    con.execute("DELETE FROM events WHERE contact_id = 6")  # an erasure
    refresh_event_summary(con, [1, 2, 3, 4, 5, 6])
    partial = con.execute("SELECT * FROM contact_event_summary ORDER BY ALL").fetchall()
    assert summary_is_current(con)
    rebuild_event_summary(con)
    assert con.execute("SELECT * FROM contact_event_summary ORDER BY ALL").fetchall() == partial


def test_a_partial_refresh_of_a_summary_already_behind_rebuilds_it(con, current_people):
    # Events written without the summary (a direct SQL insert), then a merge refreshes two contacts:
    # the summary must not be noted as current while it misses the first events.
    con.execute("INSERT INTO events (contact_id, type, occurred_at, amount) "
                "SELECT id, 'donation', TIMESTAMP '2026-02-01', 10 FROM contacts WHERE id BETWEEN 20 AND 60")
    assert not summary_is_current(con)
    con.execute("UPDATE events SET contact_id = 8 WHERE contact_id = 7")
    refresh_event_summary(con, [7, 8])
    assert summary_is_current(con)
    refreshed = con.execute("SELECT * FROM contact_event_summary ORDER BY ALL").fetchall()
    rebuild_event_summary(con)
    assert con.execute("SELECT * FROM contact_event_summary ORDER BY ALL").fetchall() == refreshed
