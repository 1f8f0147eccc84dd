"""Hand-made bases for the cleaning tests: contacts and events inserted with SQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from cli.cleaning import run_cleaning
from cli.settings import Settings
from cli.suppression import refresh_contact_keys

AS_OF = date(2026, 11, 20)


def add_contact(con, **values: Any) -> int:
    """Insert one contact (column=value) and return its id; keys are refreshed."""
    values.setdefault("consent_at", datetime(2026, 11, 1))
    columns = list(values)
    placeholders = ", ".join("?" for _ in columns)
    # Column names are the test's own keyword names.
    row = con.execute(
        "INSERT INTO contacts (" + ", ".join(columns) + ") VALUES (" + placeholders + ") RETURNING id",
        list(values.values()),
    ).fetchone()
    refresh_contact_keys(con)
    return row[0]


def add_events(con, contact_id: int, *events: tuple[str, str]) -> None:
    """Insert events given as (type, 'YYYY-MM-DD') pairs."""
    for kind, when in events:
        con.execute(
            "INSERT INTO events (contact_id, type, occurred_at) VALUES (?, ?, ?)",
            [contact_id, kind, datetime.fromisoformat(when)],
        )


def status_of(con, contact_id: int) -> tuple[str, str | None]:
    return con.execute("SELECT status, status_reason FROM contacts WHERE id = ?", [contact_id]).fetchone()


def clean(con, settings: Settings | None = None, **kwargs):
    return run_cleaning(con, settings or Settings(), AS_OF, **kwargs)


@pytest.fixture
def settings() -> Settings:
    return Settings()
