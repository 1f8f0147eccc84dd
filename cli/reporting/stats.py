"""``crmseg stats``: size of the base, statuses, stages, data quality, segment sizes.

A handful of small aggregate queries, each returning plain dicts so that the
command, ``--json`` and the HTML report share them.

Events are counted up to the as-of date (SPEC: events after it are ignored
by every computation); the ones after it are counted apart. Erased records
leave no row, so their number comes from the audit log (``gdpr forget`` and
the ``retention`` pass log counts, never who). Segment sizes join the
segments folder (which segments exist, which cannot run and why) with the
recorded runs (how many members each last run held).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from cli.fields import UNUSABLE_EMAIL_QUALITIES
from cli.reporting.tags import tag_advice
from cli.settings import Settings

_EVENTS_UP_TO = "(SELECT count(*) FROM events WHERE $as_of IS NULL OR occurred_at < $as_of::DATE + INTERVAL 1 DAY)"
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
    (_EVENTS_UP_TO if name == "events" else f"(SELECT count(*) FROM {table})") + f" AS {name}"
    for name, table in _ENTITY_TABLES.items()
) + ", (SELECT count(*) FROM events) - " + _EVENTS_UP_TO + " AS events_after_as_of"

# Contact records erased so far: rows `gdpr forget` and the retention pass removed (merged-away records included).
_ERASED_QUERY = """
SELECT coalesce(sum(CASE
    WHEN command = 'gdpr' AND action = 'forget' THEN TRY_CAST(details->>'contacts' AS BIGINT)
    WHEN command = 'clean' AND action = 'retention'
        THEN coalesce(TRY_CAST(details->'details'->>'erased_rows_with_merged' AS BIGINT), TRY_CAST(details->>'changed' AS BIGINT))
    END), 0)
FROM audit_log
"""

LIFECYCLE_ORDER = ["visitor", "prospect", "new_customer", "active_customer", "inactive_customer", "lost"]


def data_quality(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Shares of live contacts (not merged or erased) with each usable piece of data.

    ``counts`` holds the number behind each share, so a script need not
    multiply back a rounded share (0.4321 of 12,345 is 5,334 or 5,335).
    """
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
        "counts": {"valid_email": row[1], "phone": row[2], "postal_address": row[3], "birth_date": row[4]},
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


def segment_sizes(con: duckdb.DuckDBPyConnection, folder: dict[str, str | None] | None = None) -> list[dict[str, Any]]:
    """Each segment's size at its last run, with what the segments folder says of it.

    ``folder``: the folder's segments, each with the reason it cannot run (None
    when it can), as ``folder_segments`` returns them; None when unknown. Every
    segment of the folder is listed (``members`` None when it never ran), and
    every segment that ran, even if its file has gone (``in_folder`` False).
    Largest first, then never-run ones, by name.
    """
    runs = {
        s: (n, at, as_of)
        for s, n, at, as_of in con.execute(
            "SELECT segment, arg_max(member_count, id), arg_max(run_at, id), arg_max(as_of, id) "
            "FROM segment_runs GROUP BY segment"
        ).fetchall()
    }
    names = set(runs) | set(folder or {})
    rows = []
    for name in names:
        members, last_run, run_as_of = runs.get(name, (None, None, None))
        rows.append({
            "segment": name,
            "members": members,
            "last_run": last_run,
            "last_run_as_of": run_as_of,
            "in_folder": None if folder is None else name in folder,
            "error": (folder or {}).get(name),
        })
    rows.sort(key=lambda r: (r["members"] is None, -(r["members"] or 0), r["segment"]))
    return rows


def folder_segments(settings: Settings, as_of: date) -> dict[str, str | None]:
    """The segments of the settings' folder, each with the reason it cannot run (None when it can).

    A file that is not valid YAML, an unknown field, an ``in_segment`` cycle:
    ``crmseg stats`` and the report name the segment instead of failing.
    """
    from cli.segmenting import library_for
    from cli.segmenting.compiler import library_errors

    library = library_for(settings)
    errors = library_errors(library, settings=settings, as_of=as_of)
    return {name: errors.get(name) for name in library.names}


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


def collect_stats(con: duckdb.DuckDBPyConnection, as_of: date | None = None,
                  folder: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Every figure ``crmseg stats`` shows.

    ``as_of``: events after it are left out of the event counts (counted in
    ``counts.events_after_as_of``); None counts them all. ``folder``: the
    segments folder (``folder_segments``), so segment sizes say which
    segments never ran or cannot run.
    """
    counts = dict(zip([*_ENTITY_TABLES, "events_after_as_of"],
                      con.execute(_COUNTS_QUERY, {"as_of": as_of}).fetchone()))
    by_status = dict(
        con.execute("SELECT status, count(*) FROM contacts GROUP BY status ORDER BY status").fetchall()
    )
    erased = con.execute(_ERASED_QUERY).fetchone()[0]
    if erased:
        # Their rows are gone (only suppression keys remain); the count says how many there were.
        by_status["erased"] = int(erased)
    by_event_type = dict(
        con.execute(
            "SELECT type, count(*) FROM events WHERE $as_of IS NULL OR occurred_at < $as_of::DATE + INTERVAL 1 DAY "
            "GROUP BY type ORDER BY count(*) DESC, type",
            {"as_of": as_of},
        ).fetchall()
    )
    return {
        "counts": counts,
        "contacts_by_status": by_status,
        "contacts_by_stage": lifecycle_counts(con),
        "events_by_type": by_event_type,
        "data_quality": data_quality(con),
        "segments": segment_sizes(con, folder),
        "recent_imports": recent_imports(con),
        "tag_advice": tag_advice(con),
    }
