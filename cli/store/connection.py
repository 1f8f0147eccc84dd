"""Opening the DuckDB file: where it is, who holds it, and its schema.

DuckDB lets one process write a file at a time and refuses the others at
once; crmseg turns that refusal into a wait of up to ``wait`` seconds and
then a ``DatabaseBusyError`` (exit 3), so two cron jobs queue instead of
failing. Connections never download extensions (json, parquet and icu are
built in) and run under a memory limit from the settings.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from cli.errors import DatabaseBusyError, StoreError
from cli.store.schema import Migration, apply_migrations

DEFAULT_DB_NAME = "crmseg.duckdb"
DB_ENV_VAR = "CRMSEG_DB"
_RETRY_SECONDS = 0.2


def resolve_db_path(explicit: Path | str | None) -> Path:
    """``--db``, else ``$CRMSEG_DB``, else ``./crmseg.duckdb``.

    A leading ``~`` is the home folder: cron does not expand it in a
    crontab's ``CRMSEG_DB=~/asso/crmseg.duckdb``, nor the shell in ``--db=~/...``.
    """
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(DB_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return Path(DEFAULT_DB_NAME)


def _is_lock_conflict(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def _connect(path: Path, config: dict[str, Any], wait: float, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as e:
            if "not a valid duckdb database" in str(e).lower():
                raise _not_a_database(path) from e
            if not _is_lock_conflict(e):
                raise StoreError(f"{path}: cannot open the database ({e}).") from e
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"{path}: the database is busy: another crmseg process holds it, and it was "
                    f"not released within {wait:g} s. Wait for that process to finish, or give "
                    "a longer --wait."
                ) from e
            time.sleep(_RETRY_SECONDS)
        except duckdb.Error as e:
            raise StoreError(f"{path}: cannot open the database ({e}). Is it a crmseg database?") from e


def _not_a_database(path: Path) -> StoreError:
    return StoreError(
        f"{path} is not a crmseg database (not a DuckDB file: a CSV, a spreadsheet, another file?). "
        "Check --db (or $CRMSEG_DB): it names the database, not a file to import (`crmseg import contacts FILE`)."
    )


def _check_database_path(path: Path, *, read_only: bool) -> None:
    """Refuse, with what to do, a ``--db`` that cannot be a crmseg database.

    A folder, an empty file, an unwritable file and an unwritable folder
    (DuckDB keeps its journal, ``PATH.wal``, beside the file) get a message
    of their own instead of DuckDB's, or instead of a failure at the first
    commit. Only ``stat`` and ``access``: opening the file here and closing
    it would drop the lock a DuckDB instance of this process holds on it.
    """
    folder = path.parent
    if not folder.is_dir():
        raise StoreError(
            f"{path}: the folder {folder} does not exist. Check --db (or $CRMSEG_DB), or run "
            f"`crmseg --db {path} init` to start a new project there."
        )
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder, not a database file. Check --db (or $CRMSEG_DB): give the file, "
            f"e.g. --db {path / DEFAULT_DB_NAME}."
        )
    if path.exists() and path.stat().st_size == 0:
        raise StoreError(
            f"{path} is an empty file, not a database. Delete it and run the command again to create a "
            "new database there, or check --db (or $CRMSEG_DB)."
        )
    if read_only:
        return
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(
            f"{path}: crmseg cannot write to this database file, and it writes even to read it (scores, runs, "
            f"the audit log). Give yourself write access (chmod u+w {path}) or work on a copy."
        )
    if not os.access(folder, os.W_OK):
        raise StoreError(
            f"{path}: crmseg cannot write in the folder {folder}, where the database keeps its journal "
            f"({path.name}.wal). Give yourself write access to the folder, or move the database."
        )


def _check_is_database_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a data file DuckDB opened as a database.

    DuckDB opens an existing CSV or Parquet file given as a database as a
    view in memory: a command would then "succeed" and keep nothing.
    """
    stored = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if stored is None or stored[0] is None:
        con.close()
        raise _not_a_database(path)


def key_sql(value: str, keyring: str = "") -> str:
    """SQL: HMAC-SHA256 of the expression ``value`` from the pads of ``keyring`` (a table alias, or none).

    The body of ``crmseg_key``; a bulk statement can join ``keyring`` once
    (``FROM t, keyring k`` and ``key_sql("t.email", "k")``) instead of calling
    the macro, whose scalar subquery costs a de-duplicating join per call.
    ``value`` and ``keyring`` are code, never user input.
    """
    prefix = keyring + "." if keyring else ""
    return "sha256(" + prefix + "opad || unhex(sha256(" + prefix + "ipad || encode(" + value + "))))"


def register_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Session macros the rest of the code relies on.

    ``crmseg_key(value)`` is HMAC-SHA256 of ``value`` under the database's
    secret, computed set-wise in SQL from the stored inner and outer pads.
    """
    con.execute("CREATE OR REPLACE TEMP MACRO crmseg_key(v) AS (SELECT " + key_sql("v") + " FROM keyring)")


def open_database(
    path: Path | str,
    *,
    wait: float = 30.0,
    memory_limit: str | None = "4GB",
    read_only: bool = False,
    migrations: list[Migration] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at ``path``, upgraded to the latest schema.

    Raises ``DatabaseBusyError`` when another process holds the file for
    longer than ``wait`` seconds.
    """
    path = Path(path)
    _check_database_path(path, read_only=read_only)
    is_new = not path.exists()
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
        # Hands memory that queries freed back to the system in the background, so a long
        # command (clean, import) does not keep every earlier query's peak.
        "allocator_background_threads": True,
        # DuckDB's default, said out loud: an import numbers the rows of a file by the rowids of
        # the table its parse fills (cli/importing/sources.py), which needs the file's order.
        "preserve_insertion_order": True,
    }
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = _connect(path, config, wait, read_only)
    _check_is_database_file(con, path)
    if is_new:
        os.chmod(path, 0o600)
    if not read_only:
        try:
            apply_migrations(con, migrations)
        except StoreError as e:
            con.close()
            raise StoreError(f"{path}: {e}") from e
        except duckdb.Error as e:
            con.close()
            raise StoreError(f"{path}: upgrading the database schema failed ({e}); nothing was changed.") from e
    # DuckDB's own progress bar would write to stderr during long queries.
    con.execute("SET enable_progress_bar = false")
    register_macros(con)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def rows_changed(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> int:
    """Run one INSERT, UPDATE or DELETE and return how many rows it changed.

    DuckDB answers such a statement with its row count; fetching a
    ``RETURNING`` column only to count it is much slower on a large table.
    """
    return con.execute(sql, params if params is not None else []).fetchall()[0][0]


def reserve_ids(con: duckdb.DuckDBPyConnection, sequence: str, count: int) -> int | None:
    """Draw ``count`` consecutive values from ``sequence``; returns the first, or None when they are not consecutive.

    A bulk INSERT that leaves an id to the column's ``DEFAULT nextval(...)``
    runs single-threaded (half the speed on 10M events); the inserting
    statement can instead write ``first + n`` for its rows' ordinals n in
    ``[0, count)``. ``sequence`` is a constant name from the schema.
    """
    if count <= 0:
        return None
    first, last = con.execute(
        "SELECT min(v), max(v) FROM (SELECT nextval('" + sequence + "') AS v FROM range(?))", [count]
    ).fetchall()[0]
    return first if last - first + 1 == count else None


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]], width: int) -> None:
    """Append Python ``rows`` (tuples of ``width`` values, in the table's column order) to ``table`` at once.

    Through an Arrow table: ``executemany`` costs ~0.5 ms a row (100 s for the
    200,000 distinct domains of a business contact list). ``table`` is a
    constant name from the code.
    """
    if not rows:
        return
    import pyarrow as pa

    frame = pa.table({f"c{i}": pa.array([row[i] for row in rows]) for i in range(width)})
    con.register("_crmseg_rows", frame)
    try:
        con.execute("INSERT INTO " + table + " SELECT * FROM _crmseg_rows")
    finally:
        con.unregister("_crmseg_rows")


def log_action(con: duckdb.DuckDBPyConnection, command: str, action: str, details: dict[str, Any] | None = None) -> None:
    """Append one line to the audit log. ``details`` must hold no email or name of an erased person."""
    con.execute(
        "INSERT INTO audit_log (command, action, details) VALUES (?, ?, ?)",
        [command, action, json.dumps(details or {}, default=str, ensure_ascii=False)],
    )
