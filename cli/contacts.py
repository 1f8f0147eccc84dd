"""Finding contacts by what a user types."""

from __future__ import annotations

from typing import Any

import duckdb

from cli.errors import NotFoundError
from cli.normalise import normalise_email


def contact_id_by_email(con: duckdb.DuckDBPyConnection, email: str, *, include_merged: bool = False) -> int:
    """The id of the contact with ``email`` (normalised); ``NotFoundError`` when none.

    Merged-away and erased contacts are skipped unless ``include_merged``.
    """
    normalised = normalise_email(email)
    if not normalised:
        raise NotFoundError("an empty email was given; give the contact's email address.")
    statuses = ["active", "suppressed"] + (["merged"] if include_merged else [])
    row = con.execute(
        "SELECT id FROM contacts WHERE email = ? AND list_contains(?, status) "
        "ORDER BY (status = 'merged'), id LIMIT 1",
        [normalised, statuses],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"no contact with the email {normalised}. Check the address, or `crmseg contacts find`.")
    return row[0]


def contact_record(con: duckdb.DuckDBPyConnection, contact_id: int) -> dict[str, Any]:
    """The contact row as a dict (column -> value)."""
    cursor = con.execute("SELECT * FROM contacts WHERE id = ?", [contact_id])
    row = cursor.fetchone()
    if row is None:
        raise NotFoundError(f"no contact with id {contact_id}.")
    return dict(zip([d[0] for d in cursor.description], row))
