"""The suppression ledger (SPEC §2).

Entries are keyed by HMAC-SHA256 (``crmseg_key``, see ``cli/store``) of the
normalised email, or of the E.164 phone where there is no email, so the
ledger outlives the contact record and holds no readable address. Import,
merge and every export consult it through ``contacts.email_key`` /
``phone_key``; ``apply_suppressions`` re-marks any live contact whose key
is in the ledger.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cli.store import rows_changed

# Reasons, from the least to the most strict (a merge keeps the strictest).
SUPPRESSION_REASONS = (
    "invalid", "role", "soft_bounce", "hard_bounce", "unsubscribe", "spam_complaint", "deceased", "erased",
)


def refresh_contact_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute ``email_key``/``phone_key`` where the value changed or is new."""
    con.execute(
        "UPDATE contacts SET email_key = CASE WHEN email IS NULL THEN NULL ELSE crmseg_key(email) END "
        "WHERE (email IS NULL) <> (email_key IS NULL) OR (email IS NOT NULL AND email_key IS DISTINCT FROM crmseg_key(email))"
    )
    con.execute(
        "UPDATE contacts SET phone_key = CASE WHEN phone IS NULL THEN NULL ELSE crmseg_key(phone) END "
        "WHERE (phone IS NULL) <> (phone_key IS NULL) OR (phone IS NOT NULL AND phone_key IS DISTINCT FROM crmseg_key(phone))"
    )


def fill_missing_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Compute ``email_key``/``phone_key`` where a value has no key yet (or a key lost its value).

    A cheap safety net for code that runs over the whole base (``clean``):
    unlike ``refresh_contact_keys`` it does not recompute every key, so a writer
    that changes an email or phone must still refresh that contact's key.
    """
    con.execute(
        "UPDATE contacts SET email_key = CASE WHEN email IS NULL THEN NULL ELSE crmseg_key(email) END "
        "WHERE (email IS NULL) <> (email_key IS NULL)"
    )
    con.execute(
        "UPDATE contacts SET phone_key = CASE WHEN phone IS NULL THEN NULL ELSE crmseg_key(phone) END "
        "WHERE (phone IS NULL) <> (phone_key IS NULL)"
    )


def suppress_contacts(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int], reason: str, source: str
) -> int:
    """Add ledger entries for these contacts (by email, else phone) and mark them suppressed.

    Returns how many contacts changed status. Existing entries for the same
    key and reason are not duplicated. A contact already suppressed keeps its
    reason, except that ``deceased`` replaces any: it also bars postal and
    phone lists.
    """
    if reason not in SUPPRESSION_REASONS:
        raise ValueError(f"unknown suppression reason {reason}")
    if not contact_ids:
        return 0
    con.execute(
        """
        INSERT INTO suppressions (key, kind, reason, source, contact_id)
        SELECT DISTINCT coalesce(c.email_key, c.phone_key),
               CASE WHEN c.email_key IS NOT NULL THEN 'email' ELSE 'phone' END,
               $reason, $source, c.id
        FROM contacts c
        WHERE list_contains($ids, c.id) AND coalesce(c.email_key, c.phone_key) IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM suppressions s
              WHERE s.key = coalesce(c.email_key, c.phone_key) AND s.reason = $reason)
        """,
        {"ids": contact_ids, "reason": reason, "source": source},
    )
    return rows_changed(
        con,
        """
        UPDATE contacts SET status = 'suppressed', status_reason = $reason, updated_at = current_timestamp
        WHERE list_contains($ids, id)
          AND (status = 'active' OR (status = 'suppressed' AND $reason = 'deceased'
                                     AND status_reason IS DISTINCT FROM 'deceased'))
        """,
        {"ids": contact_ids, "reason": reason},
    )


def apply_suppressions(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int] | None = None, *, since: Any = None
) -> int:
    """Mark suppressed every active contact whose email or phone key is in the ledger.

    ``contact_ids`` limits it to those contacts, ``since`` to ledger entries
    made at or after that time (an undone merge: what arrived after it).
    """
    return rows_changed(
        con,
        """
        UPDATE contacts c SET status = 'suppressed', status_reason = s.reason, updated_at = current_timestamp
        FROM (
            SELECT key, arg_max(reason, list_position($reasons, reason)) AS reason
            FROM suppressions WHERE $since IS NULL OR suppressed_at >= $since GROUP BY key
        ) s
        -- The email's key, else the phone's: one equality, so a hash join (an OR compared every pair).
        WHERE c.status = 'active' AND coalesce(c.email_key, c.phone_key) = s.key
          AND ($ids IS NULL OR list_contains($ids, c.id))
        """,
        {"reasons": list(SUPPRESSION_REASONS), "ids": contact_ids, "since": since},
    )


def is_forgotten(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """Whether ``key`` belongs to a person erased by ``gdpr forget`` (or retention)."""
    return bool(
        con.execute("SELECT count(*) FROM suppressions WHERE key = ? AND reason = 'erased'", [key]).fetchone()[0]
    )
