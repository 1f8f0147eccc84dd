"""A database with a few people, closed before the CLI opens it."""

from __future__ import annotations

import pytest

from cli.store import open_database
from tests.unit.people.helpers import small_base


@pytest.fixture
def people(db_path):
    """Seed ``db_path`` with the small base; return the contact ids by first name."""
    con = open_database(db_path, wait=0, memory_limit="1GB")
    try:
        ids = small_base(con)
    finally:
        con.close()
    return ids


@pytest.fixture
def query(db_path):
    """Run one read query on the test database (opened and closed around it)."""

    def _query(sql: str, params=None):
        con = open_database(db_path, wait=0, memory_limit="1GB")
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return _query
