"""``crmseg stats``: size of the base, statuses, stages, data quality, segment sizes.

A handful of small aggregate queries, each returning plain dicts so that the
command, ``--json`` and the HTML report share them.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cli.fields import UNUSABLE_EMAIL_QUALITIES
from cli.reporting.tags import tag_advice

_ENTITY_TABLES = {
    "contacts": "contacts",
    "events": "events",
    "tags": "contact_tags",
    "groups": "groups",
    "suppressions": "suppressions",
    "imports": "imports",
    "rejected_rows": "import_rejects",
    "merges": "merges",
    "segment_runs": "segment_runs",
}
# Table names are the constants above, never user text.
_COUNTS_QUERY = "SELECT " + ", ".join(
    f"(SELECT count(*) FROM {table}) AS {name}" for name, table in _ENTITY_TABLES.items()
)

LIFECYCLE_ORDER = ["visitor", "prospect", "new_customer", "active_customer", "inactive_customer", "lost"]


def data_quality(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Shares of live contacts (not merged or erased) with each usable piece of data."""
    row = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE email IS NOT NULL AND NOT list_contains($unusable, coalesce(email_quality, 'ok'))),
               count(*) FILTER (WHERE phone IS NOT NULL),
               count(*) FILTER (WHERE street IS NOT NULL AND postal_code IS NOT NULL AND city IS NOT NULL),
               count(*) FILTER (WHERE birth_date IS NOT NULL),
               count(*) FILTER (WHERE list_contains($unusable, email_quality)),
               count(*) FILTER (WHERE email_quality = 'role'),
               count(*) FILTER (WHERE is_inactive)
        FROM contacts WHERE status NOT IN ('merged', 'erased')
        """,
        {"unusable": list(UNUSABLE_EMAIL_QUALITIES)},
    ).fetchone()
    live = row[0]

    def share(n: int) -> float:
        return round(n / live, 4) if live else 0.0

    pending = con.execute("SELECT count(*) FROM duplicate_pairs WHERE status = 'pending'").fetchone()[0]
    return {
        "live_contacts": live,
        "valid_email": share(row[1]),
        "phone": share(row[2]),
        "postal_address": share(row[3]),
        "birth_date": share(row[4]),
        "invalid_addresses": row[5],
        "role_addresses": row[6],
        "inactive": row[7],
        "pending_duplicate_pairs": pending,
    }


def recent_imports(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[dict[str, Any]]:
    """The latest imports with their counts, newest first."""
    cursor = con.execute(
        """
        SELECT id, file_name, kind, started_at, rows_read, inserted, updated, unchanged, rejected, issues, skipped
        FROM imports ORDER BY started_at DESC, id DESC LIMIT ?
        """,
        [limit],
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def segment_sizes(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Each segment's size at its last run."""
    cursor = con.execute(
        """
        SELECT segment, arg_max(member_count, id) AS members, max(run_at) AS last_run
        FROM segment_runs GROUP BY segment ORDER BY members DESC, segment
        """
    )
    return [{"segment": s, "members": n, "last_run": at} for s, n, at in cursor.fetchall()]


def lifecycle_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Live contacts per lifecycle stage at the last scoring, in funnel order."""
    rows = dict(
        con.execute(
            "SELECT lifecycle_stage, count(*) FROM contact_scores s JOIN contacts c ON c.id = s.contact_id "
            "WHERE c.status NOT IN ('merged', 'erased') AND lifecycle_stage IS NOT NULL GROUP BY lifecycle_stage"
        ).fetchall()
    )
    ordered = {stage: rows.pop(stage) for stage in LIFECYCLE_ORDER if stage in rows}
    ordered.update(rows)
    return ordered


def collect_stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Every figure ``crmseg stats`` shows."""
    counts = dict(zip(_ENTITY_TABLES, con.execute(_COUNTS_QUERY).fetchone()))
    by_status = dict(
        con.execute("SELECT status, count(*) FROM contacts GROUP BY status ORDER BY status").fetchall()
    )
    by_event_type = dict(
        con.execute("SELECT type, count(*) FROM events GROUP BY type ORDER BY count(*) DESC, type").fetchall()
    )
    return {
        "counts": counts,
        "contacts_by_status": by_status,
        "contacts_by_stage": lifecycle_counts(con),
        "events_by_type": by_event_type,
        "data_quality": data_quality(con),
        "segments": segment_sizes(con),
        "recent_imports": recent_imports(con),
        "tag_advice": tag_advice(con),
    }
