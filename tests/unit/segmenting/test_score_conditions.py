"""Score conditions read ``contact_scores`` through a semi-join: same members as the join.

A contact may have no scores row (scores not refreshed since it arrived):
every operation is then false, ``not`` holds, and ``is_null: true`` holds.
"""

from __future__ import annotations

import pytest

from cli.segmenting import compile_condition
from tests.unit.segmenting.conftest import AS_OF

CASES = [
    ({"lead_stage": "decision"}, {1}),
    ({"not": {"lead_stage": "decision"}}, {2, 3}),
    ({"lead_score": {"gte": 10, "lt": 80}}, {1}),
    ({"any": [{"lead_score": {"gte": 90}}, {"email": {"contains": "carl"}}]}, {2, 3}),
    ({"rfm_segment": {"is_null": True}}, {2, 3}),
    ({"rfm_segment": {"is_null": False}}, {1}),
    ({"not": {"rfm_segment": {"is_null": True}}}, {1}),
]


@pytest.mark.parametrize(("condition", "expected"), CASES, ids=[str(c) for c, _ in CASES])
def test_score_conditions_match_contacts_with_and_without_scores(con, settings, condition, expected):
    con.execute("INSERT INTO contacts (id, email, status) VALUES "
                "(1, 'ann@x.fr', 'active'), (2, 'bob@x.fr', 'active'), (3, 'carl@x.fr', 'active')")
    # Contact 3 has no scores row at all; contact 2 has one without an RFM segment.
    con.execute("INSERT INTO contact_scores (contact_id, as_of, lead_score, lead_stage, rfm_segment) VALUES "
                "(1, DATE '2026-11-20', 50, 'decision', 'champions'), (2, DATE '2026-11-20', 95, 'none', NULL)")
    compiled = compile_condition(condition, settings=settings, as_of=AS_OF, con=con)
    assert {r[0] for r in con.execute(compiled.sql, compiled.params).fetchall()} == expected
