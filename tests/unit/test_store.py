"""The store: schema creation, migrations, locking, file modes, transactions."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap

import duckdb
import pytest

from cli.errors import DatabaseBusyError, StoreError
from cli.store import LATEST_VERSION, MIGRATIONS, Migration, current_version, open_database, transaction
from cli.store.connection import resolve_db_path


def test_new_database_is_at_latest_version_and_private(db_path):
    con = open_database(db_path, wait=0)
    assert current_version(con) == LATEST_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for expected in ["contacts", "custom_values", "contact_tags", "events", "groups", "group_members",
                     "segment_runs", "segment_members", "suppressions", "imports", "import_rejects",
                     "import_issues", "merges", "stage_history", "audit_log", "keyring"]:
        assert expected in tables
    con.close()
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_older_file_is_upgraded_on_open(db_path):
    con = open_database(db_path, wait=0)
    con.close()

    def add_column(c):
        c.execute("ALTER TABLE contacts ADD COLUMN nickname VARCHAR")

    newer = MIGRATIONS + [Migration(LATEST_VERSION + 1, "nickname", add_column)]
    con = open_database(db_path, wait=0, migrations=newer)
    assert current_version(con) == LATEST_VERSION + 1
    columns = {r[0] for r in con.execute("DESCRIBE contacts").fetchall()}
    assert "nickname" in columns
    con.close()


def test_failed_migration_changes_nothing(db_path):
    open_database(db_path, wait=0).close()

    def broken(c):
        c.execute("ALTER TABLE contacts ADD COLUMN nickname VARCHAR")
        c.execute("THIS IS NOT SQL")

    newer = MIGRATIONS + [Migration(LATEST_VERSION + 1, "broken", broken)]
    with pytest.raises(StoreError, match="nothing was changed"):
        open_database(db_path, wait=0, migrations=newer)
    con = open_database(db_path, wait=0)
    assert current_version(con) == LATEST_VERSION
    assert "nickname" not in {r[0] for r in con.execute("DESCRIBE contacts").fetchall()}
    con.close()


def test_newer_file_is_refused(db_path):
    con = open_database(db_path, wait=0)
    con.execute("INSERT INTO schema_version (version) VALUES (?)", [LATEST_VERSION + 5])
    con.close()
    with pytest.raises(StoreError, match="newer than this crmseg"):
        open_database(db_path, wait=0)


def test_transaction_rolls_back_on_error(con):
    with pytest.raises(RuntimeError):
        with transaction(con):
            con.execute("INSERT INTO contacts (email) VALUES ('a@b.fr')")
            raise RuntimeError("boom")
    assert con.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_keyed_hash_is_hmac_sha256_of_the_secret(con):
    import hashlib
    import hmac

    ipad, opad = con.execute("SELECT ipad, opad FROM keyring").fetchone()
    secret = bytes(b ^ 0x36 for b in ipad).rstrip(b"\0")
    got = con.execute("SELECT crmseg_key('marie@exemple.fr')").fetchone()[0]
    assert got == hmac.new(secret, b"marie@exemple.fr", hashlib.sha256).hexdigest()


def test_each_database_has_its_own_secret(tmp_path):
    a = open_database(tmp_path / "a.duckdb", wait=0)
    b = open_database(tmp_path / "b.duckdb", wait=0)
    assert a.execute("SELECT crmseg_key('x@y.fr')").fetchone() != b.execute("SELECT crmseg_key('x@y.fr')").fetchone()
    a.close()
    b.close()


def test_second_process_waits_then_reports_busy(db_path):
    con = open_database(db_path, wait=0)
    script = textwrap.dedent(
        f"""
        import sys, time
        from cli.errors import DatabaseBusyError
        from cli.store import open_database
        start = time.monotonic()
        try:
            open_database({str(db_path)!r}, wait=0.6)
        except DatabaseBusyError as e:
            print(round(time.monotonic() - start, 1), e)
            sys.exit(3)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    con.close()
    assert result.returncode == 3, result.stderr
    waited = float(result.stdout.split()[0])
    assert waited >= 0.5
    assert "busy" in result.stdout


def test_db_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("CRMSEG_DB", raising=False)
    assert resolve_db_path(None).name == "crmseg.duckdb"
    monkeypatch.setenv("CRMSEG_DB", str(tmp_path / "env.duckdb"))
    assert resolve_db_path(None) == tmp_path / "env.duckdb"
    assert resolve_db_path(tmp_path / "flag.duckdb") == tmp_path / "flag.duckdb"


def test_no_extension_is_downloaded(con):
    setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()[0]
    assert setting is False


def test_not_a_database_is_an_input_error(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("hello, not a database")
    with pytest.raises(StoreError):
        open_database(bogus, wait=0)


def test_busy_error_exit_code_is_3():
    from cli.errors import exit_code_for

    assert exit_code_for(DatabaseBusyError("x")) == 3
    assert exit_code_for(ValueError("x")) == 1
    assert isinstance(duckdb.__version__, str)
