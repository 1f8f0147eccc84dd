"""The engagement score: recent opens and clicks, weighted by recency.

    engagement = sum over the contact's email_open and email_click events up to the as-of date of
                 weight(type) * 0.5 ** (age_in_days / scoring.engagement_half_life_days)

with weight 1 for an open and 3 for a click (a click shows more intent than
an open, which mail clients also fake by prefetching images). An open today
is worth 1, an open one half-life ago 0.5, a click today 3. Every logged open
and click counts, and the score is rounded to two decimals; a contact with no
open or click scores 0.
"""

from __future__ import annotations

OPEN_WEIGHT = 1.0
CLICK_WEIGHT = 3.0

# The per-contact sum, over the pre-filtered events of ``facts.FACTS_SQL``.
ENGAGEMENT_SUM_SQL = (
    "sum(CASE WHEN type = 'email_click' THEN $click_weight ELSE $open_weight END "
    "* pow(0.5, ($as_of - occurred_at::DATE) / $half_life)) "
    "FILTER (WHERE type IN ('email_open', 'email_click'))"
)


def engagement_of(events: list[tuple[str, int]], half_life_days: int) -> float:
    """The score of ``(type, age_in_days)`` pairs, as the SQL computes it.

    >>> engagement_of([("email_click", 0), ("email_open", 90)], 90)
    3.5
    """
    total = 0.0
    for kind, age in events:
        weight = CLICK_WEIGHT if kind == "email_click" else OPEN_WEIGHT
        total += weight * 0.5 ** (age / half_life_days)
    return round(total, 2)
