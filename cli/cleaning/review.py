"""Reviewing duplicate pairs: what ``crmseg dupes`` lists, shows, merges and undoes.

Only pairs whose two contacts are still live are listed or merged; a pair
left behind by an earlier merge is found again, re-pointed, by the next
``clean``. Merging many pairs links them into clusters first, so three
records of one person end as one contact.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cli.cleaning.merge import PlannedMerge, merge_contacts, plan_clusters, rank_contacts, undo_merge
from cli.contacts import contact_record
from cli.errors import InputError, NotFoundError
from cli.store import log_action, transaction

_LIVE = "IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))"
SHOWN_FIELDS = (
    "id", "email", "first_name", "last_name", "phone", "street", "postal_code", "city", "country",
    "birth_date", "status", "source", "created_at", "updated_at",
)


def list_pairs(
    con: duckdb.DuckDBPyConnection, *, min_score: float | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Pending pairs between live contacts, best score first."""
    rows = con.execute(
        """
        SELECT p.id, p.score, p.matched_fields,
               a.id, concat_ws(' ', a.first_name, a.last_name), a.email, a.postal_code,
               b.id, concat_ws(' ', b.first_name, b.last_name), b.email, b.postal_code
        FROM duplicate_pairs p
        JOIN contacts a ON a.id = p.contact_a JOIN contacts b ON b.id = p.contact_b
        WHERE p.status = 'pending' AND a.status IN ('active', 'suppressed') AND b.status IN ('active', 'suppressed')
          AND p.score >= coalesce($min, 0)
        ORDER BY p.score DESC, p.id
        LIMIT coalesce($limit, 1000000000)
        """,
        {"min": min_score, "limit": limit},
    ).fetchall()
    return [
        {
            "pair_id": r[0],
            "score": r[1],
            "matched_fields": r[2] or [],
            "a": {"id": r[3], "name": r[4], "email": r[5], "postal_code": r[6]},
            "b": {"id": r[7], "name": r[8], "email": r[9], "postal_code": r[10]},
        }
        for r in rows
    ]


def _pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> tuple[int, int, float, str, list[str]]:
    row = con.execute(
        "SELECT contact_a, contact_b, score, status, matched_fields FROM duplicate_pairs WHERE id = ?", [pair_id]
    ).fetchall()
    if not row:
        raise NotFoundError(f"no duplicate pair with id {pair_id}. `crmseg dupes list` shows the pending pairs.")
    return row[0]


def show_pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> dict[str, Any]:
    """Both records of a pair side by side, with the score and the fields that agreed."""
    a, b, score, status, matched = _pair(con, pair_id)
    records = [contact_record(con, a), contact_record(con, b)]
    tags = {
        cid: [t[0] for t in con.execute("SELECT tag FROM contact_tags WHERE contact_id = ? ORDER BY tag", [cid]).fetchall()]
        for cid in (a, b)
    }
    events = dict(
        con.execute(
            "SELECT contact_id, count(*) FROM events WHERE contact_id IN (?, ?) GROUP BY contact_id", [a, b]
        ).fetchall()
    )
    return {
        "pair_id": pair_id,
        "score": score,
        "status": status,
        "matched_fields": matched or [],
        "fields": [{"field": f, "a": records[0][f], "b": records[1][f]} for f in SHOWN_FIELDS],
        "tags": {"a": tags[a], "b": tags[b]},
        "events": {"a": events.get(a, 0), "b": events.get(b, 0)},
    }


def merge_pair(con: duckdb.DuckDBPyConnection, pair_id: int) -> dict[str, Any]:
    """Merge one pair (the more complete, more recent contact is kept); one transaction."""
    a, b, score, status, _ = _pair(con, pair_id)
    if status != "pending":
        raise InputError(f"pair {pair_id} is {status}, not pending; only pending pairs can be merged.")
    live = con.execute("SELECT count(*) FROM contacts WHERE id IN (?, ?) AND status IN ('active', 'suppressed')",
                       [a, b]).fetchall()[0][0]
    if live != 2:
        raise InputError(f"pair {pair_id}: one of its contacts was merged or erased since; run `crmseg clean`.")
    ranks = rank_contacts(con, [a, b])
    kept, absorbed = (a, b) if ranks[a] >= ranks[b] else (b, a)
    with transaction(con):
        ids = merge_contacts(con, [PlannedMerge(kept, absorbed, score, "review")])
        log_action(con, "dupes", "merge", {"pair_id": pair_id, "merge_ids": ids})
    return {"pair_id": pair_id, "merge_ids": ids, "kept_id": kept, "absorbed_id": absorbed}


def merge_all(con: duckdb.DuckDBPyConnection, min_score: float) -> dict[str, Any]:
    """Merge every pending pair at or above ``min_score`` (clusters into one contact); one transaction."""
    pairs = con.execute(
        "SELECT contact_a, contact_b, score FROM duplicate_pairs WHERE status = 'pending' AND score >= ? "
        "AND contact_a " + _LIVE + " AND contact_b " + _LIVE,
        [min_score],
    ).fetchall()
    with transaction(con):
        ids = merge_contacts(con, plan_clusters(con, pairs, "review"))
        log_action(con, "dupes", "merge_all", {"min_score": min_score, "pairs": len(pairs), "merges": len(ids)})
    return {"min_score": min_score, "pairs": len(pairs), "merges": len(ids), "merge_ids": ids}


def undo(con: duckdb.DuckDBPyConnection, merge_id: int) -> dict[str, Any]:
    """Undo one merge in its own transaction."""
    with transaction(con):
        return undo_merge(con, merge_id)


def list_merges(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[dict[str, Any]]:
    """Merges, latest first."""
    rows = con.execute(
        "SELECT id, kept_id, absorbed_id, merged_at, score, rule, undone_at FROM merges "
        "ORDER BY id DESC LIMIT coalesce(?, 1000000000)",
        [limit],
    ).fetchall()
    keys = ("merge_id", "kept_id", "absorbed_id", "merged_at", "score", "rule", "undone_at")
    return [dict(zip(keys, r)) for r in rows]
