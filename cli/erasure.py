"""Erasing people: ``gdpr forget`` and the ``retention`` cleaning pass.

``erase_contacts`` removes every row that holds the person's values and
keeps only their suppression keys with reason ``erased``, so a later import
skips them. What it covers:

- the contact rows, with every record merged into them (``merged_into`` and
  the ``merges`` ledger, followed to any depth);
- rows linked by contact id: custom values, tags, events, group and segment
  memberships, scores, stage history, duplicate pairs, merges, cleaning
  changes, import issues;
- rows that hold their values without their id: rejected import rows (the
  raw row), every issue of an import row that was theirs, cleaning changes
  and audit-log details (redacted, the log line stays), matched on the
  email, the phone's last nine digits, or the first and last name together;
- any table a later migration adds: rows whose contact-id column points at
  them, or whose text holds their email, phone or full name.

Matching is set-wise (equality joins on tokens taken from each value), so
the retention pass can erase thousands of contacts in one call. The caller
runs this inside a transaction and then calls ``checkpoint`` (and, for
``gdpr forget``, ``rewrite_database_file``) so the values do not linger in
the write-ahead log or in freed blocks of the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from cli.store import open_database, rows_changed

# (table, column holding a contact id); names are constants, never user text.
_CONTACT_ROWS = [
    ("custom_values", "contact_id"),
    ("contact_tags", "contact_id"),
    ("events", "contact_id"),
    ("contact_event_summary", "contact_id"),
    ("group_members", "contact_id"),
    ("segment_members", "contact_id"),
    ("contact_scores", "contact_id"),
    ("stage_history", "contact_id"),
    ("import_issues", "contact_id"),
    ("cleaning_changes", "contact_id"),
    ("duplicate_pairs", "contact_a"),
    ("duplicate_pairs", "contact_b"),
    ("merges", "kept_id"),
    ("merges", "absorbed_id"),
]
# Tables of schema version 1 (and the event summary), each handled above or below by name. Any other
# table (added by a later migration) gets the generic sweep.
_KNOWN_TABLES = frozenset(
    {
        "schema_version", "meta", "keyring", "contacts", "custom_fields", "custom_values", "contact_tags",
        "events", "groups", "group_members", "segment_runs", "segment_members", "suppressions", "imports",
        "import_rejects", "import_issues", "merges", "duplicate_pairs", "contact_scores", "stage_history",
        "cleaning_changes", "audit_log",
        # Migration 3: per-contact event aggregates, no free text of theirs.
        "contact_event_summary",
    }
)
# Tables the sweep never touches: the ledger is how erasure is remembered.
_NEVER_SWEPT = frozenset({"schema_version", "meta", "keyring", "suppressions"})
_TEXT_TYPES = ("VARCHAR", "JSON", "VARCHAR[]", "JSON[]")

# What a group field or description that named an erased person says afterwards.
ERASED_VALUE = "(erased)"

_EMAIL_PATTERN = r"[^\s<>\"',;:()\[\]{}]+@[^\s<>\"',;:()\[\]{}]+"

# The erased people's tokens: email, phone tail, first, last and full names.
# Names are compared after lower() and strip_accents(); emails after lower()
# only (zoe@exémple.fr and zoe@exemple.fr are two addresses), and an email
# with an IDNA domain also in its Unicode spelling (``email_form``, see
# ``_add_unicode_forms``), as a raw row may hold either.
_PEOPLE_TOKENS = """
CREATE OR REPLACE TEMP TABLE _erase_tokens AS
WITH people AS (
    SELECT email, phone, first_name, last_name FROM contacts
    WHERE id IN (SELECT id FROM _erase_ids)
    UNION ALL
    SELECT r ->> 'email', r ->> 'phone', r ->> 'first_name', r ->> 'last_name'
    FROM merges, LATERAL (VALUES (absorbed_record), (kept_before)) AS v(r)
    WHERE (kept_id IN (SELECT id FROM _erase_ids) OR absorbed_id IN (SELECT id FROM _erase_ids))
      AND r IS NOT NULL AND json_type(r) = 'OBJECT'
    UNION ALL
    SELECT unnest($emails::VARCHAR[]), NULL, NULL, NULL
),
clean AS (
    SELECT nullif(lower(trim(email)), '') AS email,
           nullif(trim(phone), '') AS phone,
           nullif(strip_accents(lower(trim(first_name))), '') AS first_name,
           nullif(strip_accents(lower(trim(last_name))), '') AS last_name
    FROM people
)
SELECT DISTINCT kind, token FROM (
    SELECT 'email' AS kind, email AS token FROM clean
    UNION ALL SELECT 'phone', right(regexp_replace(phone, '[^0-9]', '', 'g'), 9) FROM clean
        WHERE length(regexp_replace(phone, '[^0-9]', '', 'g')) >= 9
    UNION ALL SELECT 'full', first_name || ' ' || last_name FROM clean
    UNION ALL SELECT 'full', last_name || ' ' || first_name FROM clean
    UNION ALL SELECT 'first', first_name FROM clean WHERE last_name IS NOT NULL
    UNION ALL SELECT 'last', last_name FROM clean WHERE first_name IS NOT NULL
) WHERE token IS NOT NULL
"""

# Given ``_erase_values(rid, v)`` (one text value per row), the rows whose
# values name an erased person: by email, by phone, by full name in one value,
# or by first and last name in two values of the same row.
_MATCHING_ROWS = """
WITH tokens AS (
    SELECT rid, strip_accents(lower(trim(v))) AS norm,
           lower(regexp_extract(v, $pattern)) AS email,
           CASE WHEN length(regexp_replace(v, '[^0-9]', '', 'g')) >= 9
                THEN right(regexp_replace(v, '[^0-9]', '', 'g'), 9) END AS phone
    FROM _erase_values WHERE v IS NOT NULL
),
hits AS (
    SELECT t.rid, 'email' AS kind FROM tokens t JOIN _erase_tokens p ON p.kind IN ('email', 'email_form') AND t.email = p.token
    UNION ALL
    SELECT t.rid, p.kind FROM tokens t JOIN _erase_tokens p ON p.kind = 'phone' AND t.phone = p.token
    UNION ALL
    SELECT t.rid, p.kind FROM tokens t JOIN _erase_tokens p ON p.kind IN ('full', 'first', 'last') AND t.norm = p.token
)
SELECT rid FROM hits GROUP BY rid
HAVING bool_or(kind IN ('email', 'phone', 'full')) OR (bool_or(kind = 'first') AND bool_or(kind = 'last'))
"""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


_FAMILY = """
WITH RECURSIVE family(id) AS (
    SELECT unnest($ids::BIGINT[])
    UNION
    SELECT x.id FROM family f JOIN (
        SELECT id, merged_into AS parent FROM contacts WHERE merged_into IS NOT NULL
        UNION ALL
        SELECT absorbed_id, kept_id FROM merges WHERE undone_at IS NULL
    ) x ON x.parent = f.id
)
SELECT DISTINCT id FROM family WHERE id IS NOT NULL
"""


def family_ids(con: duckdb.DuckDBPyConnection, contact_ids: list[int]) -> list[int]:
    """The ids and every record merged (at any depth) into them, sorted."""
    rows = con.execute(_FAMILY + " ORDER BY id", {"ids": contact_ids}).fetchall()
    return [r[0] for r in rows]


def prepare_people(con: duckdb.DuckDBPyConnection, contact_ids: list[int], emails: list[str] | None = None) -> list[int]:
    """Set up the temporary tables that describe the people to erase (or export).

    ``_erase_ids`` holds the contacts and their merged-away records;
    ``_erase_tokens`` the values that identify them (``emails`` adds
    addresses with no contact, such as one only seen in rejected rows).
    Returns the ids. Call ``release_people`` when done.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _erase_ids AS " + _FAMILY, {"ids": list(contact_ids)})
    con.execute(_PEOPLE_TOKENS, {"emails": list(emails or [])})
    _add_unicode_forms(con)
    return [r[0] for r in con.execute("SELECT id FROM _erase_ids ORDER BY id").fetchall()]


def _add_unicode_forms(con: duckdb.DuckDBPyConnection) -> None:
    """Add the Unicode spelling of each email token whose domain is stored in IDNA form.

    A contact's address is kept as ``zoe@xn--exmple-cva.fr``; a rejected row
    or an issue quotes the file's own text, ``Zoe@Exémple.fr``. SQL has no
    IDNA codec, so the few such tokens are decoded here. They get their own
    kind, ``email_form``, which matches rows but makes no suppression key.
    """
    rows = con.execute("SELECT token FROM _erase_tokens WHERE kind = 'email' AND token LIKE '%xn--%'").fetchall()
    forms = []
    for (token,) in rows:
        local, _, domain = token.rpartition("@")
        try:
            unicode_domain = domain.encode("ascii").decode("idna")
        except UnicodeError:
            continue
        form = (local + "@" + unicode_domain).lower()
        if form != token:
            forms.append(form)
    if forms:
        con.execute("INSERT INTO _erase_tokens SELECT DISTINCT 'email_form', unnest($forms::VARCHAR[])", {"forms": forms})


def release_people(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary tables ``prepare_people`` and the matchers made."""
    for temp in ("_erase_values", "_erase_import_rows", "_erase_tokens", "_erase_ids"):
        con.execute("DROP TABLE IF EXISTS " + temp)


def _values_sql(table: str, columns: list[tuple[str, str]]) -> str:
    """SQL listing (rowid, text value) for the text columns of ``table``.

    JSON values contribute their own text and each member (object or array)
    so a raw row {"Email": "x@y.fr"} yields ``x@y.fr``.
    """
    parts = []
    for column, data_type in columns:
        col = _quote(column)
        if data_type.endswith("[]"):
            value = f"{col}::VARCHAR[]"
        elif data_type.startswith("JSON"):
            value = (
                f"list_concat([{col}::VARCHAR], json_extract_string({col}::JSON, '$.*'), "
                f"json_extract_string({col}::JSON, '$[*]'))"
            )
        else:
            value = f"[{col}]"
        parts.append(value)
    values = "list_concat(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]
    return f"SELECT rowid AS rid, unnest({values}) AS v FROM {_quote(table)}"  # noqa: S608


def matching_rowids(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> list[int]:
    """Rowids of ``table`` whose text columns name a prepared person (``prepare_people``)."""
    columns = [(c, t) for c, t in columns if t in _TEXT_TYPES]
    if not columns:
        return []
    # Table and column names come from the schema (information_schema), quoted.
    values_query = "CREATE OR REPLACE TEMP TABLE _erase_values AS " + _values_sql(table, columns)
    con.execute(values_query)
    rows = con.execute(_MATCHING_ROWS, {"pattern": _EMAIL_PATTERN}).fetchall()
    return [r[0] for r in rows]


def table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        """
        SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE t.table_type = 'BASE TABLE' AND c.table_schema = 'main' AND t.table_catalog = current_database()
        ORDER BY c.table_name, c.ordinal_position
        """
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, [])
        columns[table].append((column, data_type))
    return columns


def _delete_rowids(con: duckdb.DuckDBPyConnection, table: str, rowids: list[int]) -> None:
    if rowids:
        # Table name from the schema, quoted.
        statement = "DELETE FROM " + _quote(table) + " WHERE rowid IN (SELECT unnest($rowids::BIGINT[]))"
        con.execute(statement, {"rowids": rowids})


@dataclass
class ErasureCounts:
    """Rows erased or redacted, per kind (no value of the person is kept here)."""

    contacts: int = 0
    suppression_keys: int = 0
    import_rejects: int = 0
    import_issues: int = 0
    cleaning_changes: int = 0
    audit_redacted: int = 0
    group_fields_redacted: int = 0
    linked_rows: int = 0
    other_rows: int = 0

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


def suppression_keys_of(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``_erase_keys(key, kind)``: the prepared people's email and phone keys.

    Their contacts' keys, those of emails and phones kept in merge records,
    and those of the extra emails given to ``prepare_people``.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _erase_keys AS
        WITH keys AS (
            SELECT email_key AS key, 'email' AS kind FROM contacts WHERE id IN (SELECT id FROM _erase_ids)
            UNION SELECT phone_key, 'phone' FROM contacts WHERE id IN (SELECT id FROM _erase_ids)
            UNION SELECT crmseg_key(r ->> 'email'), 'email'
                  FROM merges, LATERAL (VALUES (absorbed_record), (kept_before)) AS v(r)
                  WHERE (kept_id IN (SELECT id FROM _erase_ids) OR absorbed_id IN (SELECT id FROM _erase_ids))
                    AND r IS NOT NULL AND json_type(r) = 'OBJECT' AND nullif(r ->> 'email', '') IS NOT NULL
            UNION SELECT crmseg_key(r ->> 'phone'), 'phone'
                  FROM merges, LATERAL (VALUES (absorbed_record), (kept_before)) AS v(r)
                  WHERE (kept_id IN (SELECT id FROM _erase_ids) OR absorbed_id IN (SELECT id FROM _erase_ids))
                    AND r IS NOT NULL AND json_type(r) = 'OBJECT' AND nullif(r ->> 'phone', '') IS NOT NULL
            UNION SELECT crmseg_key(token), 'email' FROM _erase_tokens WHERE kind = 'email'
        )
        SELECT DISTINCT key, kind FROM keys WHERE key IS NOT NULL
        """
    )


def erase_people(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int], *, source: str, emails: list[str] | None = None
) -> ErasureCounts:
    """Erase these contacts (and the extra ``emails``) everywhere; return what was removed.

    Run it inside a transaction; checkpoint afterwards (``checkpoint``).
    """
    counts = ErasureCounts()
    prepare_people(con, contact_ids, emails)
    suppression_keys_of(con)
    counts.suppression_keys = len(
        con.execute(
            """
            INSERT INTO suppressions (key, kind, reason, source)
            SELECT key, kind, 'erased', $source FROM _erase_keys k
            WHERE NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.key = k.key AND s.reason = 'erased')
            RETURNING key
            """,
            {"source": source},
        ).fetchall()
    )
    columns = table_columns(con)

    reject_rows, issue_rows = import_rows_of(con)
    _delete_rowids(con, "import_rejects", reject_rows)
    _delete_rowids(con, "import_issues", issue_rows)
    counts.import_rejects, counts.import_issues = len(reject_rows), len(issue_rows)
    # Cleaning records: theirs by id, and any that quote their values.
    quoting = matching_rowids(con, "cleaning_changes", columns["cleaning_changes"])
    counts.cleaning_changes = rows_changed(
        con,
        "DELETE FROM cleaning_changes WHERE rowid IN (SELECT unnest($rowids::BIGINT[])) "
        "OR contact_id IN (SELECT id FROM _erase_ids)",
        {"rowids": quoting},
    )
    # The audit log keeps its lines (what was done, when) but loses details naming them.
    redacted = matching_rowids(con, "audit_log", [("details", "JSON")])
    if redacted:
        con.execute(
            "UPDATE audit_log SET details = '{\"redacted\": \"erasure\"}' WHERE rowid IN (SELECT unnest($rowids::BIGINT[]))",
            {"rowids": redacted},
        )
    counts.audit_redacted = len(redacted)

    # A group's own fields (its contact person, a phone) keep their key and lose the value.
    named = group_fields_naming(con)
    for group_id, keys in named.items():
        fields = json.loads(con.execute("SELECT fields FROM groups WHERE id = ?", [group_id]).fetchone()[0] or "{}")
        fields.update({key: ERASED_VALUE for key in keys if key is not None})
        description = ERASED_VALUE if None in keys else None
        con.execute(
            "UPDATE groups SET fields = ?, description = coalesce(?, description) WHERE id = ?",
            [json.dumps(fields, ensure_ascii=False), description, group_id],
        )
        counts.group_fields_redacted += len(keys)

    # Table and column names come from the constant list above.
    for table, column in _CONTACT_ROWS:
        statement = "DELETE FROM " + table + " WHERE " + column + " IN (SELECT id FROM _erase_ids)"
        counts.linked_rows += rows_changed(con, statement)

    # Tables added by later migrations: by contact-id column, then by text.
    for table, table_cols in columns.items():
        if table in _KNOWN_TABLES or table in _NEVER_SWEPT:
            continue
        for column in contact_id_columns(table_cols):
            # Names from the schema, quoted.
            statement = (
                "DELETE FROM " + _quote(table) + " WHERE " + _quote(column) + " IN (SELECT id FROM _erase_ids)"
            )
            counts.other_rows += rows_changed(con, statement)
        text = [(c, t) for c, t in table_cols if t in _TEXT_TYPES]
        if text:
            rowids = matching_rowids(con, table, text)
            _delete_rowids(con, table, rowids)
            counts.other_rows += len(rowids)

    con.execute("UPDATE suppressions SET contact_id = NULL WHERE contact_id IN (SELECT id FROM _erase_ids)")
    counts.contacts = rows_changed(con, "DELETE FROM contacts WHERE id IN (SELECT id FROM _erase_ids)")
    con.execute("DROP TABLE IF EXISTS _erase_keys")
    release_people(con)
    return counts


def group_fields_naming(con: duckdb.DuckDBPyConnection) -> dict[int, list[str | None]]:
    """Groups whose own fields (or description, as key None) name a prepared person: id -> keys.

    Each value is matched on its own, so a field naming them is redacted and
    the group's other fields stay.
    """
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _erase_group_values AS
        SELECT id AS group_id, k AS key, fields ->> k AS value
        FROM groups, unnest(json_keys(fields)) AS t(k)
        WHERE fields IS NOT NULL AND json_type(fields) = 'OBJECT'
        UNION ALL
        SELECT id, NULL, description FROM groups WHERE description IS NOT NULL
        """
    )
    try:
        rowids = matching_rowids(con, "_erase_group_values", [("value", "VARCHAR")])
        rows = con.execute(
            "SELECT group_id, key FROM _erase_group_values WHERE rowid IN (SELECT unnest($rowids::BIGINT[])) "
            "ORDER BY group_id, key NULLS FIRST",
            {"rowids": rowids},
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _erase_group_values")
    named: dict[int, list[str | None]] = {}
    for group_id, key in rows:
        named.setdefault(group_id, []).append(key)
    return named


def import_rows_of(con: duckdb.DuckDBPyConnection) -> tuple[list[int], list[int]]:
    """Rowids of the rejected rows and issues that are the prepared people's.

    A rejected row naming them, an issue quoting them or linked to their
    contact, and every other reject or issue of the same import row (a
    misspelt address of theirs is only theirs by the row it came in).
    """
    rejects = matching_rowids(con, "import_rejects", [("raw", "JSON")])
    issues = matching_rowids(con, "import_issues", [("value", "VARCHAR")])
    params = {"rejects": rejects, "issues": issues}
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _erase_import_rows AS
        SELECT import_id, row_number FROM import_rejects WHERE rowid IN (SELECT unnest($rejects::BIGINT[])) AND row_number IS NOT NULL
        UNION SELECT import_id, row_number FROM import_issues
              WHERE (rowid IN (SELECT unnest($issues::BIGINT[])) OR contact_id IN (SELECT id FROM _erase_ids))
                AND row_number IS NOT NULL
        """,
        params,
    )
    reject_rows = con.execute(
        """
        SELECT rowid FROM import_rejects r WHERE rowid IN (SELECT unnest($rejects::BIGINT[]))
           OR EXISTS (SELECT 1 FROM _erase_import_rows x WHERE x.import_id = r.import_id AND x.row_number = r.row_number)
        ORDER BY rowid
        """,
        {"rejects": rejects},
    ).fetchall()
    issue_rows = con.execute(
        """
        SELECT rowid FROM import_issues i WHERE rowid IN (SELECT unnest($issues::BIGINT[])) OR contact_id IN (SELECT id FROM _erase_ids)
           OR EXISTS (SELECT 1 FROM _erase_import_rows x WHERE x.import_id = i.import_id AND x.row_number = i.row_number)
        ORDER BY rowid
        """,
        {"issues": issues},
    ).fetchall()
    return [r[0] for r in reject_rows], [r[0] for r in issue_rows]


def contact_id_columns(columns: list[tuple[str, str]]) -> list[str]:
    """Columns that hold a contact id, by the naming every crmseg table follows."""
    return [
        c for c, t in columns
        if t in ("BIGINT", "INTEGER") and (c == "contact_id" or c.endswith("_contact_id") or c in ("contact_a", "contact_b"))
    ]


def erase_contacts(con: duckdb.DuckDBPyConnection, contact_ids: list[int], *, source: str) -> int:
    """Erase these contacts everywhere, keeping only their suppression keys (reason ``erased``).

    Returns the number of contact rows erased (merged-away records included).
    Run it inside a transaction; checkpoint afterwards (``checkpoint``).
    The retention cleaning pass calls this.
    """
    if not contact_ids:
        return 0
    return erase_people(con, contact_ids, source=source).contacts


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the write-ahead log into the file, so erased values leave the log."""
    con.execute("CHECKPOINT")


def rewrite_database_file(
    path: Path | str, *, wait: float = 30.0, con: duckdb.DuckDBPyConnection | None = None
) -> None:
    """Copy the database into a fresh file and put it in place of the old one.

    DuckDB marks deleted rows and frees their blocks but does not wipe them,
    so erased values can remain readable in the file's bytes after a
    checkpoint. A copy holds only live data. Give ``con``, the connection
    that erased, so the database is never released between the erasure and
    the rewrite: another crmseg waiting for it would take it in that gap and
    the rewrite would end busy (exit 3) with the erasure done but the values
    still in the file. The caller closes ``con`` afterwards and uses it no
    more (it reads the replaced file). Without ``con`` the file is opened
    here (another process gets ``wait`` seconds to release it). The copy is
    renamed into place (same folder, owner-only mode) under the database's
    own lock.
    """
    path = Path(path)
    fresh = path.with_name(path.name + ".rewrite")
    wal = path.with_name(path.name + ".wal")
    for stale in (fresh, fresh.with_name(fresh.name + ".wal")):
        stale.unlink(missing_ok=True)
    own = con is None
    if con is None:
        con = open_database(path, wait=wait, memory_limit=None)
    try:
        con.execute("CHECKPOINT")
        name = con.execute("SELECT current_database()").fetchone()[0]
        # ATTACH and COPY take no bound parameters: the path is quoted as a string
        # literal and the database names as identifiers.
        attach = "ATTACH '" + str(fresh).replace("'", "''") + "' AS crmseg_rewrite"
        con.execute(attach)
        copy = "COPY FROM DATABASE " + _quote(name) + " TO crmseg_rewrite"
        con.execute(copy)
        con.execute("DETACH crmseg_rewrite")
        os.chmod(fresh, 0o600)
        with open(fresh, "rb") as handle:
            os.fsync(handle.fileno())
        # The checkpoint left no log of the old file; one left now would be replayed into the new
        # file. Removed while the lock is still ours: once the new file is in place, a `.wal`
        # beside it may be another process's.
        wal.unlink(missing_ok=True)
        os.replace(fresh, path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        if own:
            con.close()
