"""Erasing people: ``gdpr forget`` and the ``retention`` cleaning pass.

Erasure removes every row that holds the person's values (contact, custom
values, tags, events, group and segment memberships, scores, stage history,
duplicate pairs, merges, cleaning records, and import rejects and issues
that mention them) and keeps only the suppression key with reason
``erased``, so a later import skips the person. Contacts that were merged
into the person are erased with them. The caller runs this inside a
transaction and checkpoints afterwards, so that the values do not linger in
the write-ahead log.
"""

from __future__ import annotations

import duckdb

# (table, column holding a contact id)
_CONTACT_ROWS = [
    ("custom_values", "contact_id"),
    ("contact_tags", "contact_id"),
    ("events", "contact_id"),
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


def _with_merged(con: duckdb.DuckDBPyConnection, contact_ids: list[int]) -> list[int]:
    """The ids plus every contact merged (directly or not) into them."""
    rows = con.execute(
        """
        WITH RECURSIVE family(id) AS (
            SELECT unnest($ids::BIGINT[])
            UNION
            SELECT c.id FROM contacts c JOIN family f ON c.merged_into = f.id
        )
        SELECT DISTINCT id FROM family
        """,
        {"ids": contact_ids},
    ).fetchall()
    return [r[0] for r in rows]


def erase_contacts(con: duckdb.DuckDBPyConnection, contact_ids: list[int], *, source: str) -> int:
    """Erase these contacts everywhere, keeping only their suppression keys.

    Returns the number of contact rows erased (merged-away records included).
    """
    if not contact_ids:
        return 0
    ids = _with_merged(con, contact_ids)
    # The ledger entry, by email key and by phone key, with reason 'erased'.
    con.execute(
        """
        INSERT INTO suppressions (key, kind, reason, source)
        SELECT DISTINCT k.key, k.kind, 'erased', $source
        FROM contacts c,
             LATERAL (VALUES (c.email_key, 'email'), (c.phone_key, 'phone')) AS k(key, kind)
        WHERE list_contains($ids, c.id) AND k.key IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.key = k.key AND s.reason = 'erased')
        """,
        {"ids": ids, "source": source},
    )
    # Rejected rows and issues hold raw values: drop those that mention the person.
    con.execute(
        """
        DELETE FROM import_rejects r USING (
            SELECT email, phone, first_name, last_name FROM contacts WHERE list_contains($ids, id)
        ) c
        WHERE (c.email IS NOT NULL AND contains(lower(r.raw::VARCHAR), c.email))
           OR (c.phone IS NOT NULL AND contains(regexp_replace(r.raw::VARCHAR, '[^0-9+]', '', 'g'), substr(c.phone, 4)))
           OR (c.last_name IS NOT NULL AND c.first_name IS NOT NULL
               AND contains(lower(r.raw::VARCHAR), lower(c.last_name))
               AND contains(lower(r.raw::VARCHAR), lower(c.first_name)))
        """,
        {"ids": ids},
    )
    con.execute(
        """
        DELETE FROM import_issues i USING (
            SELECT email, phone FROM contacts WHERE list_contains($ids, id)
        ) c
        WHERE i.value IS NOT NULL AND (
            (c.email IS NOT NULL AND contains(lower(i.value), c.email))
            OR (c.phone IS NOT NULL AND contains(regexp_replace(i.value, '[^0-9+]', '', 'g'), substr(c.phone, 4))))
        """,
        {"ids": ids},
    )
    # Table and column names come from the constant list above.
    for table, column in _CONTACT_ROWS:
        con.execute(f"DELETE FROM {table} WHERE list_contains($ids, {column})", {"ids": ids})  # noqa: S608
    con.execute("UPDATE suppressions SET contact_id = NULL WHERE list_contains($ids, contact_id)", {"ids": ids})
    deleted = con.execute("DELETE FROM contacts WHERE list_contains($ids, id) RETURNING id", {"ids": ids}).fetchall()
    return len(deleted)
