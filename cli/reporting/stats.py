"""``crmseg stats``: counts per entity and status.

One pass of small aggregate queries; each later capability (imports,
cleaning, segments, scores) adds its figures here.
"""

from __future__ import annotations

from typing import Any

import duckdb

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


def collect_stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts per entity, contacts per status, events per type, tags that should be fields."""
    counts = dict(zip(_ENTITY_TABLES, con.execute(_COUNTS_QUERY).fetchone()))
    by_status = dict(
        con.execute("SELECT status, count(*) FROM contacts GROUP BY status ORDER BY status").fetchall()
    )
    by_event_type = dict(
        con.execute("SELECT type, count(*) FROM events GROUP BY type ORDER BY count(*) DESC, type").fetchall()
    )
    with_email = con.execute(
        "SELECT count(*) FROM contacts WHERE email IS NOT NULL AND status NOT IN ('merged', 'erased')"
    ).fetchone()[0]
    return {
        "counts": counts,
        "contacts_by_status": by_status,
        "events_by_type": by_event_type,
        "contacts_with_email": with_email,
        "tag_advice": tag_advice(con),
    }
