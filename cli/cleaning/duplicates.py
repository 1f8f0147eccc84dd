"""The ``duplicates`` pass: exact (same normalised email) and fuzzy duplicates.

Exact duplicates among live contacts (import merges them as it goes; older
data may still hold some) are merged outright. Fuzzy pairs (see
``matching``) at or above ``auto_merge_threshold`` are merged; those between
``review_threshold`` and it are stored in ``duplicate_pairs`` as ``pending``
for ``crmseg dupes``. A pair a user rejected (by undoing its merge) is never
merged again by ``clean``. Pairs linked through a shared contact merge as
one cluster into its most complete, most recent member.
"""

from __future__ import annotations

import pyarrow as pa

from cli.cleaning.base import CleaningContext, PassReport
from cli.cleaning.matching import find_candidate_pairs
from cli.cleaning.merge import merge_contacts, plan_clusters

_EXACT = """
    SELECT least(first_id, id), greatest(first_id, id) FROM (
        SELECT id, min(id) OVER (PARTITION BY email) AS first_id
        FROM contacts WHERE email IS NOT NULL AND status IN ('active', 'suppressed')
    ) x
    WHERE id <> first_id AND NOT EXISTS (
        SELECT 1 FROM duplicate_pairs p
        WHERE p.contact_a = least(first_id, id) AND p.contact_b = greatest(first_id, id) AND p.status = 'rejected')
"""


def store_found_pairs(ctx: CleaningContext, found: pa.Table) -> tuple[list[float], int]:
    """Upsert found pairs (contact_a, contact_b, score, matched_fields) as pending.

    Returns the scores of the new pairs and the number of pending pairs whose score changed.
    """
    con = ctx.con
    con.register("_dup_found_arrow", found)
    try:
        new = con.execute(
            "SELECT f.score FROM _dup_found_arrow f WHERE NOT EXISTS (SELECT 1 FROM duplicate_pairs p "
            "WHERE p.contact_a = f.contact_a AND p.contact_b = f.contact_b)"
        ).fetchall()
        con.execute(
            """
            INSERT INTO duplicate_pairs (contact_a, contact_b, score, matched_fields, status)
            SELECT f.contact_a, f.contact_b, f.score, f.matched_fields, 'pending' FROM _dup_found_arrow f
            WHERE NOT EXISTS (SELECT 1 FROM duplicate_pairs p
                              WHERE p.contact_a = f.contact_a AND p.contact_b = f.contact_b)
            """
        )
        updated = con.execute(
            """
            UPDATE duplicate_pairs p SET score = f.score, matched_fields = f.matched_fields
            FROM _dup_found_arrow f
            WHERE p.contact_a = f.contact_a AND p.contact_b = f.contact_b AND p.status = 'pending'
              AND (p.score <> f.score OR p.matched_fields IS DISTINCT FROM f.matched_fields)
            """
        ).fetchall()[0][0]
    finally:
        con.unregister("_dup_found_arrow")
    return [r[0] for r in new], updated


class DuplicatesPass:
    """Merges exact duplicates and sure fuzzy ones; stores likely ones for review."""

    name = "duplicates"

    def run(self, ctx: CleaningContext) -> PassReport:
        con = ctx.con
        settings = ctx.settings.duplicates
        looked_at = con.execute(
            "SELECT count(*) FROM contacts WHERE status IN ('active', 'suppressed')"
        ).fetchone()[0]
        exact_pairs = [(a, b, 1.0) for a, b in con.execute(_EXACT).fetchall()]
        exact_ids = merge_contacts(con, plan_clusters(con, exact_pairs, "exact_email"), run_id=ctx.run_id)

        scored = find_candidate_pairs(con, settings)
        keep = scored.score >= settings.review_threshold
        indexes = keep.nonzero()[0]
        found = pa.table(
            {
                "contact_a": pa.array(scored.id_a[indexes], pa.int64()),
                "contact_b": pa.array(scored.id_b[indexes], pa.int64()),
                "score": pa.array(scored.score[indexes], pa.float64()),
                "matched_fields": pa.array([scored.matched_fields(i) for i in indexes], pa.list_(pa.string())),
            }
        )
        candidates = scored.candidates
        del scored, keep, indexes  # the scored arrays are large; free them before merging
        last_pair = con.execute("SELECT coalesce(max(id), 0) FROM duplicate_pairs").fetchall()[0][0]
        store_found_pairs(ctx, found)
        sure = con.execute(
            """
            SELECT contact_a, contact_b, score FROM duplicate_pairs p
            WHERE status = 'pending' AND score >= $auto
              AND contact_a IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))
              AND contact_b IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))
            """,
            {"auto": settings.auto_merge_threshold},
        ).fetchall()
        fuzzy_ids = merge_contacts(con, plan_clusters(con, sure, "fuzzy"), run_id=ctx.run_id)
        # New pairs for review: those found now that still wait, whatever their score (a sure pair
        # whose cluster holds two people waits too).
        pending, new_pairs = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE id > $last) FROM duplicate_pairs WHERE status = 'pending'
              AND contact_a IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))
              AND contact_b IN (SELECT id FROM contacts WHERE status IN ('active', 'suppressed'))
            """,
            {"last": last_pair},
        ).fetchall()[0]
        return PassReport(
            self.name,
            looked_at=looked_at,
            changed=len(exact_ids) + len(fuzzy_ids),  # pairs queued for review change no contact
            why=(
                f"same email, or fuzzy score >= {settings.auto_merge_threshold}: merged; "
                f"scores from {settings.review_threshold}: wait in `crmseg dupes list`"
            ),
            details={
                "exact_merged": len(exact_ids),
                "fuzzy_merged": len(fuzzy_ids),
                "candidate_pairs": candidates,
                "new_pairs_for_review": new_pairs,
                "pending_pairs": pending,
            },
        )
