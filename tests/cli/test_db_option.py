"""What `--db` may point at, seen by a user: each wrong target is exit 2 with what to do.

DuckDB opens an existing CSV or Parquet file given as a database as a view in
memory, so without a check `crmseg --db export.csv import contacts export.csv`
"succeeded" and kept nothing.
"""

from __future__ import annotations

import os

import duckdb
import pytest

import cli.store.connection as connection
from cli.store import open_database


def _refused(result) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name, content", [
    ("export.csv", "email,first_name\nmarie@example.org,Marie\n"),
    ("export.parquet", "PAR1 not really"),
    ("notes.txt", "hello"),
])
def test_a_data_file_given_as_db_is_refused_and_left_alone(invoke, tmp_path, name, content):
    data = tmp_path / name
    data.write_text(content)
    result = invoke("import", "contacts", str(data), db=data)
    _refused(result)
    assert f"{data} is not a crmseg database" in result.stderr
    assert "crmseg import contacts FILE" in result.stderr
    assert data.read_text() == content


def test_a_folder_given_as_db_names_the_file_to_give(invoke, tmp_path):
    result = invoke("stats", db=tmp_path)
    _refused(result)
    assert "is a folder" in result.stderr
    assert f"--db {tmp_path / 'crmseg.duckdb'}" in result.stderr


def test_an_empty_file_says_to_delete_it(invoke, tmp_path):
    empty = tmp_path / "crmseg.duckdb"
    empty.touch()
    result = invoke("stats", db=empty)
    _refused(result)
    assert "empty file" in result.stderr and "Delete it" in result.stderr


def test_a_missing_folder_says_how_to_start_a_project(invoke, tmp_path):
    result = invoke("stats", db=tmp_path / "nope" / "base.duckdb")
    _refused(result)
    assert "does not exist" in result.stderr and "init" in result.stderr


def test_another_duckdb_file_is_left_alone(invoke, tmp_path):
    other = tmp_path / "analytics.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE sales (amount INTEGER)")
    con.close()
    result = invoke("stats", db=other)
    _refused(result)
    assert f"{other}:" in result.stderr and "not a crmseg database" in result.stderr
    con = duckdb.connect(str(other))
    assert con.execute("SELECT table_name FROM information_schema.tables").fetchall() == [("sales",)]
    con.close()


def test_a_newer_database_names_its_file(invoke, db_path):
    con = open_database(db_path, wait=0)
    con.execute("INSERT INTO schema_version (version) VALUES (999)")
    con.close()
    result = invoke("stats")
    _refused(result)
    assert f"{db_path}: this database has schema version 999" in result.stderr
    assert "Upgrade crmseg" in result.stderr


def _deny_writes(monkeypatch, denied):
    # Tests may run as root, whom permissions do not stop: pretend, as access(2) would answer a user.
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and os.fspath(path) == os.fspath(denied):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(connection.os, "access", access)


def test_a_read_only_database_file_is_exit_2_with_what_to_do(invoke, db_path, monkeypatch):
    open_database(db_path, wait=0).close()
    _deny_writes(monkeypatch, db_path)
    result = invoke("stats")
    _refused(result)
    assert "cannot write to this database file" in result.stderr and "chmod u+w" in result.stderr


def test_a_read_only_folder_is_exit_2_not_an_internal_error(invoke, db_path, monkeypatch):
    open_database(db_path, wait=0).close()
    _deny_writes(monkeypatch, db_path.parent)
    result = invoke("stats")
    _refused(result)
    assert "cannot write in the folder" in result.stderr and ".wal" in result.stderr
