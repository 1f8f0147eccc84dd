"""RFM: recency, frequency and monetary value, scored 1-5, and the named groups.

The scores are quintiles over the contacts that have at least one event of
``scoring.purchase_types`` at the as-of date (the others get no RFM at all).
A plain ``ntile(5)`` would split tied contacts between two scores by chance
(with 60 % one-time donors, some would get F=1 and others F=3 for the same
history), so crmseg uses the tie-aware form of the same idea:

    score = 1 + floor(5 * (number of scored contacts strictly worse) / (number scored))

Without ties and with a multiple of five contacts this is exactly ``ntile(5)``;
with ties, every tied contact gets the score of the lowest of them.

The named groups come from one grid, ``RFM_SEGMENT_GRID``, read by recency
(R) and by FM, the mean of F and M rounded half up; the README's table is
this grid, and a test keeps the two equal.
"""

from __future__ import annotations

# RFM_SEGMENT_GRID[r - 1][fm - 1] is the group of a contact with recency score r
# and FM score fm. Rows: R = 1 (longest ago) .. 5 (most recent).
RFM_SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cant_lose_them"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
)

# Best first: the order distributions are printed in.
RFM_SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
)


def fm_score(f: int, m: int) -> int:
    """The FM score: mean of F and M, rounded half up.

    >>> fm_score(4, 5)
    5
    """
    return (f + m + 1) // 2


def rfm_segment(r: int, f: int, m: int) -> str:
    """The named group of an R, F, M triple.

    >>> rfm_segment(5, 5, 4)
    'champions'
    """
    return RFM_SEGMENT_GRID[r - 1][fm_score(f, m) - 1]


def quintile_scores(values: list[float], *, higher_is_better: bool = True) -> list[int]:
    """The 1-5 score of each value, as the SQL computes it (for tests and docs).

    >>> quintile_scores([1, 1, 1, 2, 3])
    [1, 1, 1, 4, 5]
    """
    n = len(values)
    ordered = sorted(values)
    scores = []
    for value in values:
        if higher_is_better:
            worse = sum(1 for v in ordered if v < value)
        else:
            worse = sum(1 for v in ordered if v > value)
        scores.append(1 + (5 * worse) // n)
    return scores


def grid_markdown() -> str:
    """The grid as a Markdown table (the README carries it)."""
    lines = ["| R \\ FM | 1 | 2 | 3 | 4 | 5 |", "|---|---|---|---|---|---|"]
    for r in range(5, 0, -1):
        lines.append(f"| {r} | " + " | ".join(RFM_SEGMENT_GRID[r - 1]) + " |")
    return "\n".join(lines)
