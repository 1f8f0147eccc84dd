"""The data subject's rights: access (``gdpr export``) and erasure (``gdpr forget``).

A person is found by email: every contact row with that normalised email
(live or merged away), the live contact a merged record was absorbed into,
and every record merged into those. A person without email (a postal donor)
is found by contact id (``#123``) or phone, and the records merged into it. Export and erasure share the matching
code of ``cli.erasure``, so the document lists exactly what ``forget``
would remove: rows linked by contact id, and rows that only quote the
person's values (rejected import rows, issues, cleaning records, audit
details). ``EXPORT_SECTIONS`` says which table feeds which key of the
document; a test checks that every table of the schema is either there or
in ``TABLES_WITHOUT_PEOPLE``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from cli import __version__
from cli.atomic import atomic_path
from cli.contacts import custom_values_of, resolve_identifier
from cli.erasure import (
    ErasureCounts,
    contact_id_columns,
    erase_people,
    group_fields_naming,
    import_rows_of,
    matching_rowids,
    prepare_people,
    release_people,
    suppression_keys_of,
    table_columns,
)
from cli.errors import InputError, NotFoundError
from cli.normalise import normalise_email
from cli.store import log_action, transaction

# table -> key of the export document that shows its rows about the person.
EXPORT_SECTIONS: dict[str, str] = {
    "contacts": "contacts",
    "custom_values": "custom_values",
    "contact_tags": "tags",
    "events": "events",
    "group_members": "groups",
    "groups": "groups",
    "segment_members": "segment_memberships",
    "segment_runs": "segment_memberships",
    "suppressions": "suppressions",
    "imports": "imports",
    "import_rejects": "import_rejects",
    "import_issues": "import_issues",
    "merges": "merges",
    "duplicate_pairs": "duplicate_pairs",
    "contact_scores": "scores",
    "stage_history": "stage_history",
    "cleaning_changes": "cleaning_changes",
    "audit_log": "audit_log",
}
# Tables that never hold a person's data. ``contact_event_summary`` holds only
# sums and dates derived from the person's events, which the export shows in full.
TABLES_WITHOUT_PEOPLE = frozenset({"schema_version", "meta", "keyring", "custom_fields", "contact_event_summary"})
# Sections that may name a person who has no contact record (rows quoting their address).
_QUOTING_SECTIONS = ("groups", "import_rejects", "import_issues", "cleaning_changes", "audit_log", "other")
_JSON_COLUMNS = {"fields", "raw", "absorbed_record", "kept_before", "before_value", "after_value", "details", "options"}


@dataclass(frozen=True)
class ForgetResult:
    """What ``gdpr forget`` did; holds no value of the person."""

    contacts_erased: int
    rows_removed: int
    suppression_keys_added: int
    already_forgotten: bool
    # The person had no email or phone: no key in the ledger can stop a later import bringing them back.
    unkeyed: bool = False


def _normalised(email: str) -> str:
    normalised = normalise_email(email)
    if not normalised or "@" not in normalised:
        raise InputError(f"`{email}` is not an email address; give the person's email, e.g. marie@example.org.")
    return normalised


def person_ids(con: duckdb.DuckDBPyConnection, email: str) -> list[int]:
    """Ids of every contact row of the person with ``email`` (merged records included)."""
    rows = con.execute(
        """
        WITH RECURSIVE up(id) AS (
            SELECT id FROM contacts WHERE email = $email
            UNION
            SELECT c.merged_into FROM contacts c JOIN up ON c.id = up.id WHERE c.merged_into IS NOT NULL
        ),
        via_ledger AS (
            -- The merge snapshots (cli/cleaning/merge.py) hold each record as {"contacts": [row], ...}:
            -- an email that was absorbed, or that the kept contact had before the merge.
            SELECT kept_id AS id FROM merges
            WHERE undone_at IS NULL AND $email IN (
                json_extract_string(absorbed_record, '$.contacts[0].email'),
                json_extract_string(kept_before, '$.contacts[0].email'))
        )
        SELECT id FROM up UNION SELECT id FROM via_ledger
        """,
        {"email": email},
    ).fetchall()
    return sorted(r[0] for r in rows)


def _by_identifier(con: duckdb.DuckDBPyConnection, who: str, region: str) -> tuple[str | None, list[int]]:
    """A person given by contact id or phone: (their email, if any; the contact id)."""
    contact_id, _ = resolve_identifier(con, who, region=region, unique=True)
    email = con.execute("SELECT email FROM contacts WHERE id = ?", [contact_id]).fetchone()[0]
    return email, [contact_id]


def _is_forgotten(con: duckdb.DuckDBPyConnection, email: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM suppressions WHERE reason = 'erased' AND key = crmseg_key(?)", [email]
        ).fetchone()[0]
    )


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_COLUMNS & row.keys():
        if isinstance(row[key], str):
            try:
                row[key] = json.loads(row[key])
            except json.JSONDecodeError:
                pass
    return row


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [_decode(dict(zip(columns, row))) for row in cursor.fetchall()]


def export_person(
    con: duckdb.DuckDBPyConnection, email: str, *, as_of: date | None = None, region: str = "FR"
) -> dict[str, Any]:
    """Everything held on the person with ``email`` (or contact id ``#123``, or phone), as one JSON-ready document.

    ``NotFoundError`` when nothing is held (the message says whether the
    person was forgotten). A phone is read in ``region``.
    """
    if "@" not in email:
        email, roots = _by_identifier(con, email, region)
    else:
        email = _normalised(email)
        roots = person_ids(con, email)
    # An address no contact holds may still be quoted by rejected rows or issues (a gift from an
    # unknown address): forget erases them, so the export shows them.
    ids = prepare_people(con, roots, [email] if email and not roots else None)
    try:
        document = _collect(con, email, ids)
    finally:
        con.execute("DROP TABLE IF EXISTS _erase_keys")
        release_people(con)
    if not roots and not any(document[key] for key in _QUOTING_SECTIONS):
        if _is_forgotten(con, email):
            raise NotFoundError(
                f"the person with the email {email} was erased (gdpr forget); nothing is held on them but "
                "a keyed hash of the address, which stops a re-import."
            )
        raise NotFoundError(f"no contact with the email {email}. Check the address, or `crmseg contacts find`.")
    document["exported_at"] = datetime.now().replace(microsecond=0)
    document["as_of"] = as_of
    return document


def _collect(con: duckdb.DuckDBPyConnection, email: str, ids: list[int]) -> dict[str, Any]:
    in_ids = "IN (SELECT id FROM _erase_ids)"
    suppression_keys_of(con)
    custom = {str(cid): custom_values_of(con, cid) for cid in ids}
    reject_rows, issue_rows = import_rows_of(con)
    columns = table_columns(con)
    cleaning_rows = matching_rowids(con, "cleaning_changes", columns["cleaning_changes"])
    audit_rows = matching_rowids(con, "audit_log", [("details", "JSON")])
    # Subqueries are constants; the ids live in the temporary table.
    document: dict[str, Any] = {
        "crmseg_version": __version__,
        "email": email,
        "contact_ids": ids,
        "contacts": _rows(con, "SELECT * FROM contacts WHERE id " + in_ids + " ORDER BY id"),
        "custom_values": {k: v for k, v in custom.items() if v},
        "tags": _rows(con, "SELECT contact_id, tag, added_at, source FROM contact_tags WHERE contact_id " + in_ids + " ORDER BY tag"),
        "events": _rows(con, "SELECT * FROM events WHERE contact_id " + in_ids + " ORDER BY occurred_at, id"),
        # Their memberships, and groups whose own fields name them (contact_id null).
        "groups": _rows(
            con,
            "SELECT m.contact_id, g.name, g.description, g.fields, m.added_at FROM group_members m "
            "JOIN groups g ON g.id = m.group_id WHERE m.contact_id " + in_ids + " "
            "UNION ALL SELECT NULL, name, description, fields, NULL FROM groups "
            "WHERE id IN (SELECT unnest($named::BIGINT[])) ORDER BY name",
            {"named": list(group_fields_naming(con))},
        ),
        "segment_memberships": _rows(
            con,
            "SELECT m.contact_id, r.segment, r.run_at, r.as_of, r.id AS run_id FROM segment_members m "
            "JOIN segment_runs r ON r.id = m.run_id WHERE m.contact_id " + in_ids + " ORDER BY r.run_at, r.id",
        ),
        "scores": _rows(con, "SELECT * FROM contact_scores WHERE contact_id " + in_ids + " ORDER BY as_of"),
        "stage_history": _rows(con, "SELECT * FROM stage_history WHERE contact_id " + in_ids + " ORDER BY changed_at"),
        "merges": _rows(
            con, "SELECT * FROM merges WHERE kept_id " + in_ids + " OR absorbed_id " + in_ids + " ORDER BY id"
        ),
        "duplicate_pairs": _rows(
            con, "SELECT * FROM duplicate_pairs WHERE contact_a " + in_ids + " OR contact_b " + in_ids + " ORDER BY id"
        ),
        "suppressions": _rows(
            con,
            "SELECT kind, reason, suppressed_at, source FROM suppressions "
            "WHERE key IN (SELECT key FROM _erase_keys) OR contact_id " + in_ids + " ORDER BY suppressed_at",
        ),
        "import_rejects": _rows(
            con, "SELECT * FROM import_rejects WHERE rowid IN (SELECT unnest($rows::BIGINT[])) ORDER BY import_id, row_number",
            {"rows": reject_rows},
        ),
        "import_issues": _rows(
            con,
            "SELECT * FROM import_issues WHERE rowid IN (SELECT unnest($rows::BIGINT[])) ORDER BY import_id, row_number",
            {"rows": issue_rows},
        ),
        "cleaning_changes": _rows(
            con,
            "SELECT * FROM cleaning_changes WHERE rowid IN (SELECT unnest($rows::BIGINT[])) OR contact_id " + in_ids
            + " ORDER BY changed_at",
            {"rows": cleaning_rows},
        ),
        "audit_log": _rows(
            con, "SELECT * FROM audit_log WHERE rowid IN (SELECT unnest($rows::BIGINT[])) ORDER BY id", {"rows": audit_rows}
        ),
    }
    document["imports"] = _rows(
        con,
        """
        SELECT id, file_name, kind, started_at FROM imports WHERE id IN (
            SELECT import_id FROM contacts WHERE id IN (SELECT id FROM _erase_ids)
            UNION SELECT import_id FROM events WHERE contact_id IN (SELECT id FROM _erase_ids)
            UNION SELECT import_id FROM import_rejects WHERE rowid IN (SELECT unnest($rejects::BIGINT[]))
            UNION SELECT import_id FROM import_issues WHERE rowid IN (SELECT unnest($issues::BIGINT[]))
                  OR contact_id IN (SELECT id FROM _erase_ids)
        ) ORDER BY id
        """,
        {"rejects": reject_rows, "issues": issue_rows},
    )
    other: dict[str, list[dict[str, Any]]] = {}
    for table, table_cols in columns.items():
        if table in EXPORT_SECTIONS or table in TABLES_WITHOUT_PEOPLE:
            continue
        text = [(c, t) for c, t in table_cols if t in ("VARCHAR", "JSON", "VARCHAR[]", "JSON[]")]
        rowids = matching_rowids(con, table, text) if text else []
        conditions = ["rowid IN (SELECT unnest($rows::BIGINT[]))"]
        # Table and column names come from the schema, quoted.
        conditions += ['"' + c.replace('"', '""') + '" ' + in_ids for c in contact_id_columns(table_cols)]
        query = 'SELECT * FROM "' + table.replace('"', '""') + '" WHERE ' + " OR ".join(conditions)
        rows = _rows(con, query, {"rows": rowids})
        if rows:
            other[table] = rows
    document["other"] = other
    return document


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)  # amounts have two decimals: exact enough as JSON numbers
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def document_text(document: dict[str, Any]) -> str:
    """The export document as indented JSON text."""
    return json.dumps(document, default=_json_default, ensure_ascii=False, indent=2) + "\n"


def write_document(document: dict[str, Any], path: Path) -> Path:
    """Write the document to ``path`` (owner-only, via a temporary file renamed into place)."""
    path = Path(path)
    with atomic_path(path) as temporary:
        temporary.write_text(document_text(document), encoding="utf-8")
    return path


def forget_person(
    con: duckdb.DuckDBPyConnection, email: str, *, source: str = "gdpr forget", region: str = "FR"
) -> ForgetResult:
    """Erase the person with ``email`` (or contact id ``#123``, or phone) everywhere, keeping only the suppression key.

    Also removes rejected rows and issues that quote the address when no
    contact has it. Idempotent: forgetting a forgotten person changes
    nothing. ``NotFoundError`` when nothing at all is held on the address.
    The caller checkpoints afterwards (``cli.erasure.checkpoint``).
    """
    if "@" not in email:
        found, ids = _by_identifier(con, email, region)
        email, already = found or "", False
        unkeyed = not con.execute(
            "SELECT count(*) FROM contacts WHERE id = ? AND (email_key IS NOT NULL OR phone_key IS NOT NULL)", ids
        ).fetchone()[0]
    else:
        email = _normalised(email)
        already, unkeyed = _is_forgotten(con, email), False
        ids = person_ids(con, email)
    with transaction(con):
        counts: ErasureCounts = erase_people(con, ids, source=source, emails=[email] if email else [])
        held = counts.total - counts.suppression_keys
        if not ids and held == 0 and not already:
            raise NotFoundError(
                f"no contact with the email {email}, and no imported row mentions it: nothing is held. "
                "Check the address (`crmseg contacts find`)."
            )
        if counts.total:
            # No email, name or id of the person: counts only.
            log_action(con, "gdpr", "forget", {k: v for k, v in asdict(counts).items() if v} | {"source": source})
    return ForgetResult(
        contacts_erased=counts.contacts,
        rows_removed=held,
        suppression_keys_added=counts.suppression_keys,
        already_forgotten=already and not ids and held == 0,
        unkeyed=unkeyed,
    )
