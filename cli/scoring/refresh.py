"""``refresh_scores``: every score and stage of every live contact, at one as-of date.

One call rebuilds ``contact_scores`` whole (one row per live contact, with
the as-of date it was computed for), appends the stage changes to
``stage_history`` and fills the lead points, in one transaction (or inside
the caller's). ``clean`` and ``segment run`` call it first, so a segment never
reads a score computed for another day or before the last import.

``ensure_fresh_scores`` is what they call: it refreshes only when the scores
are stale. Each refresh stores in ``meta`` the as-of date it computed for and
a fingerprint of the data it read (counts, maximal ids and order-free hashes
of the rows scores depend on, and the scoring settings); when both still
match, nothing is recomputed. The fingerprint costs tens of milliseconds on
a million contacts, a refresh seconds.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from cli.scoring.facts import build_facts, drop_facts
from cli.scoring.leads import LEAD_STAGES, RuleHits, _mentions, score_leads
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


FRESHNESS_KEY = "scores.freshness"

# What scores read: events, contacts (status, consent, reachability — every
# writer stamps ``updated_at``), merges, suppressions, and what lead rules may
# test (tags, custom values, groups). Order-free hashes catch in-place updates
# that keep counts; constants only, no user value.
_FINGERPRINT_SQL = """
SELECT
    (SELECT [count(*), max(id), sum(contact_id)]::VARCHAR || max(occurred_at)::VARCHAR FROM events),
    (SELECT [count(*), max(id), bit_xor(hash(id, status, merged_into, is_inactive, consent_email, consent_at,
                                            consent_withdrawn_at, updated_at))]::VARCHAR
            || max(updated_at)::VARCHAR FROM contacts),
    (SELECT [count(*), max(id), count(undone_at)]::VARCHAR FROM merges),
    (SELECT [count(*), bit_xor(hash(key, kind, reason, suppressed_at, contact_id))]::VARCHAR FROM suppressions),
    (SELECT [count(*), bit_xor(hash(contact_id, tag))]::VARCHAR FROM contact_tags),
    (SELECT [count(*), bit_xor(hash(contact_id, field, text_value, number_value, date_value, bool_value,
                                    list_value))]::VARCHAR FROM custom_values),
    (SELECT [count(*), bit_xor(hash(group_id, contact_id))]::VARCHAR FROM group_members),
    (SELECT [count(*), bit_xor(hash(id, name))]::VARCHAR FROM groups)
"""


def _settings_fingerprint(settings: Settings) -> str:
    # activity_types: a lead rule on `last_activity_at` reads them.
    parts = [settings.scoring.model_dump_json(), settings.lifecycle.model_dump_json(),
             json.dumps(settings.cleaning.activity_types),
             json.dumps({name: f.model_dump(mode="json") for name, f in sorted(settings.fields.items())})]
    # A lead rule may inline another segment's `where`: its file is an input too.
    if any(_mentions(rule.when, ("in_segment",)) for rule in settings.scoring.leads.rules):
        folder = settings.segments_path
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    parts.append(path.name + ":" + hashlib.sha256(path.read_bytes()).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def scores_fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date) -> str:
    """A cheap digest of everything ``refresh_scores`` reads at ``as_of`` (data and settings)."""
    row = con.execute(_FINGERPRINT_SQL).fetchall()[0]
    return json.dumps({"as_of": as_of.isoformat(), "data": list(row), "settings": _settings_fingerprint(settings)})


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [FRESHNESS_KEY]).fetchall()
    return rows[0][0] if rows else None


def ensure_fresh_scores(con: duckdb.DuckDBPyConnection, settings: Settings, as_of: date) -> bool:
    """Refresh the scores unless the last refresh was for ``as_of`` over the same data; True when it ran.

    Segment runs call it before evaluating a segment that reads a score, a
    stage or the stage history.
    """
    if _stored_fingerprint(con) == scores_fingerprint(con, settings, as_of):
        return False
    refresh_scores(con, settings, as_of)
    return True


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

    Events dated after ``as_of`` are ignored. Raises ``ConfigError`` for a
    lead rule the segment engine refuses; nothing is changed then.
    """
    started = time.perf_counter()
    own = _begin(con)
    try:
        fingerprint = scores_fingerprint(con, settings, as_of)
        build_facts(con, settings, as_of)
        con.execute("DELETE FROM contact_scores")
        params: dict[str, Any] = lifecycle_params(settings, as_of)
        params["grid"] = [list(row) for row in RFM_SEGMENT_GRID]
        con.execute(_SCORES_SQL, params)
        contacts = con.execute("SELECT count(*) FROM contact_scores").fetchone()[0]
        changes = record_stage_changes(con, settings, as_of)
        hits = score_leads(con, settings, as_of)
        drop_facts(con)
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [FRESHNESS_KEY, fingerprint])
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
