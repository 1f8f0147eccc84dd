"""Shared fixtures: a temporary database per test and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.store import open_database

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crmseg.duckdb"


@pytest.fixture
def con(db_path: Path):
    """An open, migrated database in the test's temporary folder."""
    connection = open_database(db_path, wait=0, memory_limit="1GB")
    yield connection
    connection.close()


@pytest.fixture
def invoke(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run the CLI against the test's database; returns click's Result (stdout, stderr, exit_code)."""
    runner = CliRunner()
    monkeypatch.delenv("CRMSEG_DB", raising=False)

    def _invoke(*args: str, db: Path | None = None, input: str | None = None):
        full = ["--db", str(db or db_path), *args]
        return runner.invoke(app, full, input=input, env={"NO_COLOR": "1", "COLUMNS": "200"})

    return _invoke
