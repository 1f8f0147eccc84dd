"""Undoing one ``crmseg clean`` run, from what it wrote to ``cleaning_changes``.

Every pass records each change with the value before and after, so a run is
undone set-wise, pass by pass in the reverse order of the run: the inactive
flags, then the merges (through ``undo_merge``, latest first), then email
qualities, consents and statuses. A value is put back only where the contact
still holds what the run set; one changed since (by an import, a later run, a
merge) is left as it is and counted. The ledger entries the run added are
removed: all of them carry its source (``clean:<pass>``) and the run's
transaction time, which DuckDB gives every row written in it; a contact whose
address another entry still names (an import's bounce column since the run)
stays suppressed. Pairs whose
merge is undone wait in ``dupes list`` again (``dupes undo`` of one merge is
how a user says "two people"). ``retention``
erasures cannot be undone (the person is gone; only the suppression key is
left) and their ledger entries stay. A run is undone once.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cli.cleaning.merge import undo_merge
from cli.errors import InputError, NotFoundError
from cli.store import log_action, rows_changed
from cli.suppression import apply_suppressions

# What each change puts back: (changes, SET clause restoring the value before, condition that the
# contact still holds the value after). Constants: the columns and JSON paths the passes write.
_INACTIVE = (
    ("flagged_inactive", "active_again"),
    "is_inactive = (x.before_value->>'is_inactive')::BOOLEAN",
    "c.is_inactive = (x.after_value->>'is_inactive')::BOOLEAN",
)
_QUALITY = (
    ("email_quality",),
    "email_quality = x.before_value->>'email_quality'",
    "c.email_quality IS NOT DISTINCT FROM x.after_value->>'email_quality'",
)
_CONSENT = (
    ("consent_withdrawn",),
    "consent_email = (x.before_value->>'consent_email')::BOOLEAN, "
    "consent_withdrawn_at = (x.before_value->>'consent_withdrawn_at')::TIMESTAMP",
    "c.consent_email IS NOT DISTINCT FROM (x.after_value->>'consent_email')::BOOLEAN "
    "AND c.consent_withdrawn_at IS NOT DISTINCT FROM (x.after_value->>'consent_withdrawn_at')::TIMESTAMP",
)
_STATUS = (
    ("suppressed", "unsuppressed"),
    "status = x.before_value->>'status', status_reason = x.before_value->>'status_reason'",
    "c.status = x.after_value->>'status' AND c.status_reason IS NOT DISTINCT FROM x.after_value->>'status_reason'",
)


def _audit_time(con: duckdb.DuckDBPyConnection, run_id: int, undo: bool):
    """When clean run ``run_id`` was logged (``undo``: when it was undone), or None."""
    return con.execute(
        "SELECT min(logged_at) FROM audit_log WHERE command = 'clean' AND (action = 'undo') = ? "
        "AND TRY_CAST(details->>'run_id' AS BIGINT) = ?",
        [undo, run_id],
    ).fetchone()[0]


def _restore(con: duckdb.DuckDBPyConnection, rule: tuple) -> tuple[int, int]:
    """Put back the values of one kind of change: (contacts restored, contacts changed since)."""
    changes, set_clause, still_set = rule
    kinds = {"kinds": list(changes)}
    total = con.execute("SELECT count(*) FROM _undo_changes WHERE list_contains($kinds, change)", kinds).fetchone()[0]
    # The SET and WHERE fragments are the constants above.
    restored = rows_changed(
        con,
        "UPDATE contacts c SET " + set_clause + ", updated_at = current_timestamp "
        "FROM (SELECT * FROM _undo_changes WHERE list_contains($kinds, change)) x "
        "WHERE c.id = x.contact_id AND " + still_set,
        kinds,
    )
    return restored, total - restored


def undo_cleaning_run(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, Any]:
    """Undo clean run ``run_id``; the caller owns the transaction. Returns what was put back."""
    if _audit_time(con, run_id, undo=False) is None:
        raise NotFoundError(f"no clean run {run_id}: each `crmseg clean` prints the id of its run.")
    undone_at = _audit_time(con, run_id, undo=True)
    if undone_at is not None:
        raise InputError(f"clean run {run_id} was already undone on {undone_at:%Y-%m-%d %H:%M}.")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _undo_changes AS "
        "SELECT contact_id, change, before_value, after_value, changed_at FROM cleaning_changes WHERE run_id = ?",
        [run_id],
    )
    # The reverse order of the passes: inactive, duplicates, invalid, complaints/unsubscribes, bounces.
    inactive, left_inactive = _restore(con, _INACTIVE)
    merges = _undo_merges(con)
    qualities, left_qualities = _restore(con, _QUALITY)
    consents, left_consents = _restore(con, _CONSENT)
    statuses, left_statuses = _restore(con, _STATUS)
    ledger = rows_changed(
        con,
        """
        DELETE FROM suppressions WHERE starts_with(source, 'clean:') AND source <> 'clean:retention'
          AND reason <> 'erased' AND suppressed_at IN (SELECT changed_at FROM _undo_changes)
        """,
    )
    # An entry recorded since the run (an import's bounce or unsubscribe column, a later run's) still holds
    # the address: such a contact stays suppressed, under that entry's reason, and counts as changed since.
    held = apply_suppressions(con, [
        r[0] for r in con.execute(
            "SELECT DISTINCT contact_id FROM _undo_changes WHERE change = 'suppressed' ORDER BY 1"
        ).fetchall()
    ])
    statuses, left_statuses = statuses - held, left_statuses + held
    erased = con.execute(
        "SELECT coalesce(sum(TRY_CAST(details->>'changed' AS BIGINT)), 0) FROM audit_log "
        "WHERE command = 'clean' AND action = 'retention' AND TRY_CAST(details->>'run_id' AS BIGINT) = ?",
        [run_id],
    ).fetchone()[0]
    result = {
        "run_id": run_id,
        "inactive_flags": inactive,
        "merges_undone": merges,
        "email_qualities": qualities,
        "consents": consents,
        "statuses": statuses,
        "ledger_entries_removed": ledger,
        "changed_since_left": left_inactive + left_qualities + left_consents + left_statuses,
        "erased_not_undone": int(erased),
    }
    log_action(con, "clean", "undo", result)
    return result


def _undo_merges(con: duckdb.DuckDBPyConnection) -> int:
    """Undo the run's merges, the latest first (each one must be the latest on its contacts).

    ``undo_merge`` marks a pair rejected (a user said "two people"); undoing a whole run says
    nothing of the kind, so those pairs wait in ``dupes list`` again, as before the run.
    """
    rejected_before = {r[0] for r in con.execute("SELECT id FROM duplicate_pairs WHERE status = 'rejected'").fetchall()}
    merge_ids = [
        r[0]
        for r in con.execute(
            "SELECT (after_value->>'merge_id')::BIGINT AS id FROM _undo_changes WHERE change = 'merged' "
            "ORDER BY id DESC"
        ).fetchall()
    ]
    undone = 0
    for merge_id in merge_ids:
        if con.execute("SELECT undone_at IS NULL FROM merges WHERE id = ?", [merge_id]).fetchone()[0]:
            undo_merge(con, merge_id)
            undone += 1
    con.execute(
        "UPDATE duplicate_pairs SET status = 'pending' WHERE status = 'rejected' "
        "AND NOT list_contains($before, id)",
        {"before": sorted(rejected_before)},
    )
    return undone


def undo_run(con: duckdb.DuckDBPyConnection, run_id: int, dry_run: bool = False) -> dict[str, Any]:
    """Undo clean run ``run_id`` in one transaction (rolled back on ``dry_run``)."""
    con.execute("BEGIN TRANSACTION")
    try:
        result = undo_cleaning_run(con, run_id)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK" if dry_run else "COMMIT")
    return {**result, "dry_run": dry_run}
