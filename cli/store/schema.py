"""The database schema, as ordered migrations.

Each migration takes a connection and brings the schema from version N-1 to
N. ``apply_migrations`` runs the missing ones inside one transaction, so a
newer crmseg opens an older file and upgrades it whole or not at all.

Tables that are updated in bulk (contacts, events) carry no primary-key or
unique constraint: DuckDB checks such indexes eagerly, which makes set-wise
updates slower and more fragile; ids come from sequences and uniqueness is
kept by the code that writes them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from cli.errors import StoreError

SCHEMA_V1 = [
    """CREATE TABLE schema_version (
        version INTEGER NOT NULL,
        applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    # HMAC-SHA256 pads of the per-database secret (see cli/store/keys.py).
    """CREATE TABLE keyring (ipad BLOB NOT NULL, opad BLOB NOT NULL)""",
    "CREATE SEQUENCE contact_id_seq START 1",
    """CREATE TABLE contacts (
        id BIGINT NOT NULL DEFAULT nextval('contact_id_seq'),
        email VARCHAR,
        email_key VARCHAR,
        phone_key VARCHAR,
        external_id VARCHAR,
        first_name VARCHAR,
        last_name VARCHAR,
        phone VARCHAR,
        street VARCHAR,
        postal_code VARCHAR,
        city VARCHAR,
        country VARCHAR,
        birth_date DATE,
        gender VARCHAR,
        organisation VARCHAR,
        job_title VARCHAR,
        kind VARCHAR NOT NULL DEFAULT 'person',
        source VARCHAR,
        consent_email BOOLEAN,
        consent_basis VARCHAR,
        consent_at TIMESTAMP,
        consent_method VARCHAR,
        consent_withdrawn_at TIMESTAMP,
        status VARCHAR NOT NULL DEFAULT 'active',
        status_reason VARCHAR,
        merged_into BIGINT,
        is_inactive BOOLEAN NOT NULL DEFAULT false,
        email_quality VARCHAR,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        import_id BIGINT
    )""",
    """CREATE TABLE custom_fields (
        name VARCHAR PRIMARY KEY,
        type VARCHAR NOT NULL,
        options VARCHAR[],
        external_id BOOLEAN NOT NULL DEFAULT false
    )""",
    # One typed value per contact and custom field; exactly one value column is set.
    """CREATE TABLE custom_values (
        contact_id BIGINT NOT NULL,
        field VARCHAR NOT NULL,
        text_value VARCHAR,
        number_value DOUBLE,
        date_value DATE,
        bool_value BOOLEAN,
        list_value VARCHAR[]
    )""",
    """CREATE TABLE contact_tags (
        contact_id BIGINT NOT NULL,
        tag VARCHAR NOT NULL,
        added_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        source VARCHAR
    )""",
    "CREATE SEQUENCE event_id_seq START 1",
    """CREATE TABLE events (
        id BIGINT NOT NULL DEFAULT nextval('event_id_seq'),
        contact_id BIGINT NOT NULL,
        type VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        amount DECIMAL(18, 2),
        currency VARCHAR,
        campaign VARCHAR,
        channel VARCHAR,
        payment_method VARCHAR,
        details VARCHAR,
        import_id BIGINT
    )""",
    "CREATE SEQUENCE group_id_seq START 1",
    """CREATE TABLE groups (
        id BIGINT PRIMARY KEY DEFAULT nextval('group_id_seq'),
        name VARCHAR NOT NULL UNIQUE,
        description VARCHAR,
        fields JSON,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE group_members (
        group_id BIGINT NOT NULL,
        contact_id BIGINT NOT NULL,
        added_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    "CREATE SEQUENCE segment_run_id_seq START 1",
    """CREATE TABLE segment_runs (
        id BIGINT PRIMARY KEY DEFAULT nextval('segment_run_id_seq'),
        segment VARCHAR NOT NULL,
        run_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        as_of DATE NOT NULL,
        definition_hash VARCHAR,
        member_count BIGINT NOT NULL,
        output VARCHAR
    )""",
    """CREATE TABLE segment_members (run_id BIGINT NOT NULL, contact_id BIGINT NOT NULL)""",
    # Keyed by HMAC of the normalised email (kind 'email') or phone (kind 'phone');
    # outlives the contact so that a re-import never brings the person back.
    """CREATE TABLE suppressions (
        key VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        suppressed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        source VARCHAR,
        contact_id BIGINT
    )""",
    "CREATE SEQUENCE import_id_seq START 1",
    """CREATE TABLE imports (
        id BIGINT PRIMARY KEY DEFAULT nextval('import_id_seq'),
        file_name VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        options JSON,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        duration_ms BIGINT,
        rows_read BIGINT DEFAULT 0,
        inserted BIGINT DEFAULT 0,
        updated BIGINT DEFAULT 0,
        unchanged BIGINT DEFAULT 0,
        rejected BIGINT DEFAULT 0,
        issues BIGINT DEFAULT 0,
        skipped BIGINT DEFAULT 0,
        unmapped_columns VARCHAR[]
    )""",
    """CREATE TABLE import_rejects (
        import_id BIGINT NOT NULL,
        row_number BIGINT,
        reason VARCHAR NOT NULL,
        raw JSON
    )""",
    """CREATE TABLE import_issues (
        import_id BIGINT NOT NULL,
        row_number BIGINT,
        contact_id BIGINT,
        column_name VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL
    )""",
    "CREATE SEQUENCE merge_id_seq START 1",
    """CREATE TABLE merges (
        id BIGINT PRIMARY KEY DEFAULT nextval('merge_id_seq'),
        kept_id BIGINT NOT NULL,
        absorbed_id BIGINT NOT NULL,
        merged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        score DOUBLE,
        rule VARCHAR,
        absorbed_record JSON,
        kept_before JSON,
        undone_at TIMESTAMP
    )""",
    "CREATE SEQUENCE duplicate_pair_id_seq START 1",
    """CREATE TABLE duplicate_pairs (
        id BIGINT PRIMARY KEY DEFAULT nextval('duplicate_pair_id_seq'),
        contact_a BIGINT NOT NULL,
        contact_b BIGINT NOT NULL,
        score DOUBLE NOT NULL,
        matched_fields VARCHAR[],
        status VARCHAR NOT NULL DEFAULT 'pending',
        found_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    """CREATE TABLE contact_scores (
        contact_id BIGINT NOT NULL,
        as_of DATE NOT NULL,
        rfm_r INTEGER,
        rfm_f INTEGER,
        rfm_m INTEGER,
        rfm_segment VARCHAR,
        engagement_score DOUBLE,
        lead_score INTEGER,
        lead_stage VARCHAR,
        lifecycle_stage VARCHAR
    )""",
    """CREATE TABLE stage_history (
        contact_id BIGINT NOT NULL,
        stage VARCHAR NOT NULL,
        previous_stage VARCHAR,
        changed_at DATE NOT NULL
    )""",
    "CREATE SEQUENCE clean_run_id_seq START 1",
    # Every change a cleaning pass makes, with the value before, so it can be undone.
    """CREATE TABLE cleaning_changes (
        run_id BIGINT NOT NULL,
        pass VARCHAR NOT NULL,
        contact_id BIGINT,
        change VARCHAR NOT NULL,
        before_value JSON,
        after_value JSON,
        changed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    )""",
    "CREATE SEQUENCE audit_id_seq START 1",
    """CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
        logged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        command VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        details JSON
    )""",
]


def _migrate_to_1(con: duckdb.DuckDBPyConnection) -> None:
    for statement in SCHEMA_V1:
        con.execute(statement)
    secret = secrets.token_bytes(32)
    padded = secret.ljust(64, b"\0")
    con.execute(
        "INSERT INTO keyring VALUES (?, ?)",
        [bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)],
    )


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``apply`` brings version ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _migrate_to_2(con: duckdb.DuckDBPyConnection) -> None:
    # Two stage changes of one contact may share a date (two runs on one day);
    # ``seq`` keeps their order, so "the latest recorded stage" is never a guess.
    con.execute("CREATE SEQUENCE stage_history_seq START 1")
    con.execute("ALTER TABLE stage_history ADD COLUMN seq BIGINT DEFAULT nextval('stage_history_seq')")


def _migrate_to_3(con: duckdb.DuckDBPyConnection) -> None:
    # Imported lazily: the summary module's SQL belongs with the code that keeps it current.
    from cli.event_summary import CREATE_SQL, rebuild_event_summary

    con.execute(CREATE_SQL)
    rebuild_event_summary(con)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _migrate_to_1),
    Migration(2, "stage_history.seq: the order of stage changes", _migrate_to_2),
    Migration(3, "contact_event_summary: per-contact, per-type event aggregates", _migrate_to_3),
]

LATEST_VERSION = MIGRATIONS[-1].version


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of the open database, 0 for an empty file."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def _holds_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the open file holds any table or view (temporary ones aside)."""
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchone()[0] > 0


def apply_migrations(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply every missing migration in one transaction; return the versions applied."""
    migrations = MIGRATIONS if migrations is None else migrations
    version = current_version(con)
    newest = max((m.version for m in migrations), default=0)
    if version > newest:
        raise StoreError(
            f"this database has schema version {version}, newer than this crmseg knows "
            f"({newest}). Upgrade crmseg to open it."
        )
    if version == 0 and _holds_tables(con):
        # Someone else's DuckDB file: crmseg would add its thirty tables among theirs.
        raise StoreError(
            "this DuckDB file holds tables but is not a crmseg database; crmseg leaves it alone. "
            "Check --db (or $CRMSEG_DB), or give a new path to create a crmseg database."
        )
    pending = [m for m in sorted(migrations, key=lambda m: m.version) if m.version > version]
    if not pending:
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        for migration in pending:
            migration.apply(con)
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [migration.version])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return [m.version for m in pending]
