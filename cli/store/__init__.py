"""The DuckDB store: path resolution, locking, schema and migrations."""

from cli.store.connection import (
    log_action,
    open_database,
    register_macros,
    resolve_db_path,
    rows_changed,
    transaction,
)
from cli.store.schema import LATEST_VERSION, MIGRATIONS, Migration, apply_migrations, current_version

__all__ = [
    "LATEST_VERSION",
    "MIGRATIONS",
    "Migration",
    "apply_migrations",
    "current_version",
    "log_action",
    "open_database",
    "register_macros",
    "resolve_db_path",
    "rows_changed",
    "transaction",
]
