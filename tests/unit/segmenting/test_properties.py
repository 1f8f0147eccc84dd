"""Invariants of the segment language, checked on random conditions and bases (hypothesis)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from cli.segmenting import compile_condition, compile_segment
from cli.segmenting.loader import parse_condition
from cli.segmenting.model import SegmentSpec
from cli.segmenting.runner import run_segment
from cli.suppression import refresh_contact_keys
from tests.unit.segmenting.conftest import AS_OF

LEAVES = [
    {"city": "Lyon"},
    {"city": {"ne": "Paris"}},
    {"city": {"contains": "saint"}},
    {"score": {"gt": 5}},
    {"score": {"is_null": True}},
    {"age": {"between": [25, 50]}},
    {"member_since": {"within": "1 year"}},
    {"volunteer": False},
    {"interests": {"contains": "animaux"}},
    {"tag": "vip"},
    {"tags": {"contains_any": ["newsletter", "benevole"]}},
    {"event": {"type": "donation", "within": "6 months"}},
    {"event": {"type": "email_open", "count": {"lt": 2}}},
    {"total_given": {"gte": 50}},
    {"last_activity_at": {"older_than": "3 months"}},
    {"in_group": "board"},
    {"lifecycle_stage": "prospect"},
]

conditions = st.recursive(
    st.sampled_from(LEAVES),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda items: {"all": items}),
        st.lists(children, max_size=3).map(lambda items: {"any": items}),
        children.map(lambda item: {"not": item}),
    ),
    max_leaves=6,
)
SLOW_OK = hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def ids(con, settings, condition) -> set[int]:
    compiled = compile_condition(condition, settings=settings, as_of=AS_OF)
    return {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()}


def analysis_members(con, settings, condition) -> set[int]:
    spec = SegmentSpec(name="t", where=parse_condition(condition, settings), purpose="analysis")
    compiled = compile_segment(spec, settings=settings, as_of=AS_OF)
    return {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()}


@SLOW_OK
@given(condition=conditions)
def test_a_segment_and_its_not_partition_the_analysis_base(con, settings, people, condition):
    base = {p.id for p in people if p.status not in ("merged", "erased")}
    inside = analysis_members(con, settings, condition)
    outside = analysis_members(con, settings, {"not": condition})
    assert inside | outside == base
    assert not inside & outside


@SLOW_OK
@given(a=conditions, b=conditions)
def test_all_and_any_are_intersection_and_union(con, settings, people, a, b):
    first, second = ids(con, settings, a), ids(con, settings, b)
    assert ids(con, settings, {"all": [a, b]}) == first & second
    assert ids(con, settings, {"any": [a, b]}) == first | second


contact_rows = st.lists(
    st.fixed_dictionaries({
        "status": st.sampled_from(["active", "active", "suppressed", "merged"]),
        "has_email": st.booleans(),
        "consent_email": st.sampled_from([True, False, None]),
        "consent_basis": st.sampled_from([None, "consent", "membership", "contract", "legitimate_interest"]),
        "withdrawn": st.sampled_from([None, "before", "after"]),
        "suppressed_key": st.booleans(),
        "stop_event": st.sampled_from([None, "unsubscribe", "spam_complaint", "hard_bounce", "email_open"]),
        "stop_after_consent": st.booleans(),
        "quality": st.sampled_from([None, "invalid_domain", "reserved_domain", "disposable", "role"]),
        "inactive": st.booleans(),
    }),
    min_size=1,
    max_size=12,
)


def allowed_on_email_list(row) -> bool:
    """The email purpose rules, restated from the README."""
    if row["status"] != "active" or not row["has_email"] or row["suppressed_key"]:
        return False
    consent = row["consent_email"] is True or (
        row["consent_email"] is None and row["consent_basis"] in ("membership", "contract", "legitimate_interest"))
    if not consent or row["withdrawn"] == "after" or row["quality"] in ("invalid_domain", "reserved_domain", "disposable") or row["inactive"]:
        return False
    return not (row["stop_event"] in ("unsubscribe", "spam_complaint", "hard_bounce") and row["stop_after_consent"])


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=contact_rows)
def test_email_exports_never_hold_unreachable_addresses(con, settings, tmp_path, rows):
    for table in ("contacts", "events", "suppressions", "segment_runs", "segment_members"):
        statement = "DELETE FROM " + table  # constant table names above
        con.execute(statement)
    consent_at = datetime(2025, 1, 10)
    for index, row in enumerate(rows, start=1):
        withdrawn = {None: None, "before": consent_at - timedelta(days=30), "after": consent_at + timedelta(days=30)}[row["withdrawn"]]
        con.execute(
            "INSERT INTO contacts (id, email, status, consent_email, consent_basis, consent_at, consent_withdrawn_at, "
            "email_quality, is_inactive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [index, f"p{index}@example.org" if row["has_email"] else None, row["status"], row["consent_email"],
             row["consent_basis"], consent_at, withdrawn, row["quality"], row["inactive"]],
        )
        if row["stop_event"]:
            when = consent_at + timedelta(days=5 if row["stop_after_consent"] else -5)
            con.execute("INSERT INTO events (contact_id, type, occurred_at) VALUES (?, ?, ?)", [index, row["stop_event"], when])
    refresh_contact_keys(con)
    suppressed = [i for i, row in enumerate(rows, start=1) if row["suppressed_key"] and row["has_email"]]
    for index in suppressed:
        con.execute("INSERT INTO suppressions (key, kind, reason) SELECT email_key, 'email', 'unsubscribe' FROM contacts WHERE id = ?", [index])
    spec = SegmentSpec(name="everyone", where=parse_condition({"all": []}, settings), purpose="email")
    out = tmp_path / "everyone.csv"
    run_segment(con, spec, settings=settings, as_of=AS_OF, out=out)
    with out.open(encoding="utf-8") as handle:
        exported = {r["email"] for r in csv.DictReader(handle)}
    expected = {f"p{i}@example.org" for i, row in enumerate(rows, start=1) if allowed_on_email_list(row)}
    assert exported == expected
