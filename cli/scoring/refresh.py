"""``refresh_scores``: every score and stage of every live contact, at one as-of date.

One call rebuilds ``contact_scores`` whole (one row per live contact, with
the as-of date it was computed for), appends the stage changes to
``stage_history`` and fills the lead points, in one transaction (or inside
the caller's). ``clean`` and ``segment run`` call it first, so a segment never
reads a score computed for another day or before the last import.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from cli.scoring.facts import build_facts, drop_facts
from cli.scoring.leads import LEAD_STAGES, RuleHits, score_leads
from cli.scoring.lifecycle import LIFECYCLE_STAGES, STAGE_SQL, lifecycle_params, record_stage_changes
from cli.scoring.rfm import RFM_SEGMENT_GRID, RFM_SEGMENTS
from cli.settings import Settings

# Built from constants only: the stage expression of lifecycle.py.
_SCORES_SQL = (
    """
INSERT INTO contact_scores (contact_id, as_of, rfm_r, rfm_f, rfm_m, rfm_segment, engagement_score,
                            lead_score, lead_stage, lifecycle_stage)
WITH scored AS (SELECT count(*) AS n FROM _score_facts WHERE purchase_count > 0),
rfm AS (
    SELECT f.contact_id,
        1 + (5 * (rank() OVER (ORDER BY f.last_purchase_on) - 1)) // s.n AS r,
        1 + (5 * (rank() OVER (ORDER BY f.purchase_count) - 1)) // s.n AS fq,
        1 + (5 * (rank() OVER (ORDER BY f.purchase_total) - 1)) // s.n AS m
    FROM _score_facts f, scored s
    WHERE f.purchase_count > 0
)
SELECT f.contact_id, $as_of, rfm.r, rfm.fq, rfm.m,
    list_extract(list_extract($grid, rfm.r), (rfm.fq + rfm.m + 1) // 2),
    f.engagement, 0, 'none',"""
    + STAGE_SQL
    + """
FROM _score_facts f LEFT JOIN rfm ON rfm.contact_id = f.contact_id
ORDER BY f.contact_id
"""
)


@dataclass
class ScoreRun:
    """What one ``refresh_scores`` did."""

    as_of: date
    contacts: int
    stage_changes: list[dict[str, Any]] = field(default_factory=list)
    lead_rules: list[RuleHits] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed_contacts(self) -> int:
        return sum(int(c["contacts"]) for c in self.stage_changes)


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Open a transaction unless the caller already has one; True when we opened it."""
    # In autocommit mode each statement is its own transaction, with its own id;
    # a failed BEGIN would abort the caller's transaction, so ask instead.
    first = con.execute("SELECT txid_current()").fetchone()[0]
    second = con.execute("SELECT txid_current()").fetchone()[0]
    if first == second:
        return False
    con.execute("BEGIN TRANSACTION")
    return True


def refresh_scores(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date) -> ScoreRun:
    """Recompute RFM, engagement, lifecycle stage (with history) and lead points at ``as_of``.

    Events dated after ``as_of`` are ignored. Raises ``LeadEngineMissingError``
    when lead rules are set and the segment engine is absent, ``ConfigError``
    for a lead rule the engine refuses; nothing is changed then.
    """
    started = time.perf_counter()
    own = _begin(con)
    try:
        build_facts(con, settings, as_of)
        con.execute("DELETE FROM contact_scores")
        params: dict[str, Any] = lifecycle_params(settings, as_of)
        params["grid"] = [list(row) for row in RFM_SEGMENT_GRID]
        con.execute(_SCORES_SQL, params)
        contacts = con.execute("SELECT count(*) FROM contact_scores").fetchone()[0]
        changes = record_stage_changes(con, settings, as_of)
        hits = score_leads(con, settings, as_of)
        drop_facts(con)
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise
    return ScoreRun(
        as_of=as_of,
        contacts=contacts,
        stage_changes=changes,
        lead_rules=hits,
        seconds=time.perf_counter() - started,
    )


def _share(part: int, total: int) -> float:
    return round(100.0 * part / total, 1) if total else 0.0


def rfm_distribution(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Contacts per RFM group (best first) and the R x FM grid of counts."""
    total = con.execute("SELECT count(*) FROM contact_scores").fetchone()[0]
    counts = dict(
        con.execute(
            "SELECT rfm_segment, count(*) FROM contact_scores WHERE rfm_segment IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    scored = sum(counts.values())
    cells = con.execute(
        "SELECT rfm_r, (rfm_f + rfm_m + 1) // 2, count(*) FROM contact_scores "
        "WHERE rfm_r IS NOT NULL GROUP BY ALL"
    ).fetchall()
    grid = [[0] * 5 for _ in range(5)]
    for r, fm, n in cells:
        grid[r - 1][fm - 1] = n
    return {
        "contacts": total,
        "scored": scored,
        "without_purchase": total - scored,
        "segments": [
            {"segment": name, "contacts": counts.get(name, 0), "share": _share(counts.get(name, 0), scored)}
            for name in RFM_SEGMENTS
        ],
        # grid[r - 1][fm - 1]: contacts with recency score r and FM score fm.
        "grid": grid,
    }


def lifecycle_distribution(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Contacts per lifecycle stage, in the cycle's order."""
    total = con.execute("SELECT count(*) FROM contact_scores").fetchone()[0]
    counts = dict(con.execute("SELECT lifecycle_stage, count(*) FROM contact_scores GROUP BY 1").fetchall())
    return {
        "contacts": total,
        "stages": [
            {"stage": s, "contacts": counts.get(s, 0), "share": _share(counts.get(s, 0), total)}
            for s in LIFECYCLE_STAGES
        ],
    }


def lead_distribution(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Contacts per lead stage, and how many left the scheme (unsubscribed or suppressed)."""
    total = con.execute("SELECT count(*) FROM contact_scores").fetchone()[0]
    counts = dict(con.execute("SELECT lead_stage, count(*) FROM contact_scores GROUP BY 1").fetchall())
    out_of_scheme = con.execute("SELECT count(*) FROM contact_scores WHERE lead_score IS NULL").fetchone()[0]
    return {
        "contacts": total,
        "out_of_scheme": out_of_scheme,
        "stages": [
            {"stage": s, "contacts": counts.get(s, 0), "share": _share(counts.get(s, 0), total)}
            for s in LEAD_STAGES
        ],
    }
