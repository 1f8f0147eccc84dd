"""Fixtures for import tests: a project folder with custom fields, and file writers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

SETTINGS = """\
default_region: FR
fields:
  interests: {type: multiselect, options: [animaux, environnement, education]}
  volunteer_days: {type: multiselect, options: [lun, mar, mer, jeu, ven, sam, dim]}
  member_number: {type: text, external_id: true}
  newsletter_theme: {type: select, options: [chats, chiens], aliases: ["Thème préféré"]}
"""


@pytest.fixture(autouse=True)
def project(db_path: Path) -> Path:
    """crmseg.yaml beside the test database."""
    (db_path.parent / "crmseg.yaml").write_text(SETTINGS, encoding="utf-8")
    return db_path.parent


@pytest.fixture
def write(tmp_path: Path):
    """Write ``text`` to ``name`` in ``encoding`` (bytes are written as they are)."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return _write


@pytest.fixture
def query(db_path: Path):
    """Run a read-only query on the test database after a command finished."""

    def _query(sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return _query


def dump(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes (to compare a base before and after)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            table: sorted(con.execute("SELECT * FROM " + table).fetchall(), key=repr)
            for table in ("contacts", "custom_values", "contact_tags", "events", "imports", "import_rejects", "import_issues")
        }
    finally:
        con.close()
