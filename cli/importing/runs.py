"""One import run: the file's hash, the ``imports`` record, rejects and issues, the transaction.

``run_import`` owns what every kind of import shares: it refuses a file
already imported (same content hash, kind, sheet and options), reads the file into a
temporary table, opens one transaction, lets the kind-specific pipeline
write, records the counts, and then commits, or rolls back for
``--dry-run`` and for ``--strict`` when a row was rejected or a value
left out. Progress is reported through a callback so that the library
never prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from cli.errors import InputError, NotFoundError, StrictImportError
from cli.importing.headers import ColumnMapping
from cli.importing.sources import ColumnsUsed, SourceTable, cleanup, file_hash, read_source, scan_file
from cli.settings import Settings
from cli.store import log_action
from cli.store.connection import insert_rows, key_sql, rows_changed

Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    """The default progress callback: nothing."""


@dataclass
class ImportOptions:
    """Everything ``crmseg import contacts|events`` accepts beside the files."""

    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    date_format: str | None = None
    preset: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    on_conflict: str = "fill"
    strict: bool = False
    dry_run: bool = False
    event_type: str | None = None
    create_missing: bool = False

    def recorded(self) -> dict[str, Any]:
        """The options worth keeping in the ``imports`` record."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {}, False)}


@dataclass
class ImportSummary:
    """What an import did (the summary table and the ``--json`` document)."""

    file: str
    kind: str
    import_id: int | None = None
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    issues: int = 0
    skipped: int = 0
    created_contacts: int = 0
    unmapped_columns: list[str] = field(default_factory=list)
    mapped_columns: dict[str, str] = field(default_factory=dict)
    already_imported: int | None = None
    dry_run: bool = False
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PipelineContext:
    """What a kind-specific pipeline gets from ``run_import``."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    options: ImportOptions
    source: SourceTable
    import_id: int
    summary: ImportSummary
    progress: Progress


Pipeline = Callable[[PipelineContext], None]
Mapper = Callable[[SourceTable], ColumnMapping]


def record_reader_rejects(ctx: PipelineContext) -> None:
    """Store the rows the reader refused (ragged rows), except those naming a forgotten person."""
    rows = [(r.line, r.reason, json.dumps({"line": r.raw}, ensure_ascii=False)) for r in ctx.source.rejected]
    if not rows:
        return
    con = ctx.con
    con.execute("CREATE OR REPLACE TEMP TABLE import_reader_rejects (line BIGINT, reason VARCHAR, raw VARCHAR)")
    insert_rows(con, "import_reader_rejects", rows, 3)
    # The addresses a refused row holds, each keyed once (see contacts' _drop_forgotten).
    ctx.summary.skipped += rows_changed(
        con,
        """
        DELETE FROM import_reader_rejects WHERE line IN (
            SELECT x.line FROM (
                SELECT line, unnest(regexp_extract_all(lower(raw), '[^\\s;,|"<>]+@[^\\s;,|"<>]+')) AS e
                FROM import_reader_rejects
            ) x, keyring k
            WHERE """ + key_sql("x.e", "k") + """ IN (SELECT key FROM suppressions WHERE reason = 'erased'))
        """,
    )
    inserted = con.execute(
        "INSERT INTO import_rejects (import_id, row_number, reason, raw) "
        "SELECT ?, line, reason, raw::JSON FROM import_reader_rejects RETURNING 1",
        [ctx.import_id],
    ).fetchall()
    ctx.summary.rejected += len(inserted)


def record_cell_errors(ctx: PipelineContext, mapping: ColumnMapping, kept_lines: str) -> None:
    """Issues for the workbook's formula error cells (`#N/A`) in the columns the import reads, on its kept rows.

    fastexcel reads such a cell as empty; the issue says what it held.
    ``kept_lines`` is a query (code, not input) of the kept rows' line numbers.
    """
    used = mapping.used_columns()
    errors = [(e.line, ctx.source.headers[e.column], e.value) for e in ctx.source.cell_errors if e.column in used]
    if not errors:
        return
    con = ctx.con
    con.execute("CREATE OR REPLACE TEMP TABLE import_cell_errors (line BIGINT, column_name VARCHAR, value VARCHAR)")
    insert_rows(con, "import_cell_errors", errors, 3)
    ctx.summary.issues += rows_changed(
        con,
        "INSERT INTO import_issues (import_id, row_number, column_name, value, reason) "
        "SELECT $id, line, column_name, value, 'a formula error in the workbook: the cell is read as empty' "
        "FROM import_cell_errors WHERE line IN (" + kept_lines + ")",
        {"id": ctx.import_id},
    )


def columns_used_by(mapper: Callable[[list[str]], ColumnMapping]) -> ColumnsUsed:
    """``ColumnsUsed`` for a pipeline that reads the columns ``mapper`` maps, and no other.

    A mapping that fails here (a --map naming no column) fails again, with its
    message, when the pipeline maps the headers: here every column is kept.
    """

    def used(headers: list[str]) -> set[int] | None:
        try:
            return mapper(headers).used_columns()
        except InputError:
            return None

    return used


def raw_row_json(source: SourceTable, alias: str = "r") -> tuple[str, dict[str, str]]:
    """SQL building a JSON object header -> cell of a raw row, and its bound header names."""
    params = {f"h{i}": header for i, header in enumerate(source.headers)}
    parts = ", ".join(f"$h{i}, {alias}.c{i}" for i in range(len(source.headers)))
    return "json_object(" + parts + ")", params


def check_options(options: ImportOptions) -> None:
    """Refuse a wrong option before the file is read (and before the already-imported check).

    >>> check_options(ImportOptions(delimiter="tab"))
    """
    import codecs

    from cli.importing.headers import PRESETS
    from cli.importing.sources import normalise_delimiter

    if options.preset is not None and options.preset not in PRESETS:
        raise InputError(f"--preset {options.preset}: unknown preset; choose one of {', '.join(PRESETS)}.")
    normalise_delimiter(options.delimiter)
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except LookupError as e:
            raise InputError(
                f"--encoding {options.encoding}: unknown encoding; use utf-8, utf-16, cp1252 or latin-1."
            ) from e


# Options that do not change what a file's rows become.
_NOT_READING = ("strict", "dry_run")


def _reading(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in _NOT_READING}


def _already_imported(con: duckdb.DuckDBPyConnection, digest: str, kind: str, recorded: dict[str, Any]) -> int | None:
    """The earlier import of the same content, kind, sheet and options, if any.

    Options count because they are the remedies the rejects point to (`--create-missing`, `--type`,
    `--map`, `--date-format`): the same file read another way is another import.
    """
    rows = con.execute(
        "SELECT id, options FROM imports WHERE content_hash = ? AND kind = ? AND finished_at IS NOT NULL ORDER BY id",
        [digest, kind],
    ).fetchall()
    wanted = _reading(recorded)
    return next((id_ for id_, options in rows if _reading(json.loads(options or "{}")) == wanted), None)


def _strict_message(con: duckdb.DuckDBPyConnection, import_id: int, path: Path, summary: ImportSummary) -> str:
    problems = con.execute(
        "SELECT row_number, reason, NULL FROM import_rejects WHERE import_id = $id "
        "UNION ALL SELECT row_number, reason, column_name FROM import_issues WHERE import_id = $id "
        "ORDER BY 1 LIMIT 5",
        {"id": import_id},
    ).fetchall()
    listed = "; ".join(
        f"line {line}: " + (f"column `{column}`: " if column else "") + reason for line, reason, column in problems
    )
    return (
        f"{path}: --strict: {summary.rejected} row(s) rejected and {summary.issues} value(s) left out, "
        f"so nothing was imported. {listed}. Fix the file (or run without --strict to import the rest "
        "and list the problems with `crmseg import rejects`)."
    )


def run_import(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    kind: str,
    settings: Settings,
    options: ImportOptions,
    pipeline: Pipeline,
    progress: Progress = no_progress,
    columns_used: ColumnsUsed | None = None,
) -> ImportSummary:
    """Import one file (see the module docstring); returns its summary.

    ``columns_used`` names the columns the pipeline will read (see ``ColumnsUsed``).
    """
    started = time.monotonic()
    check_options(options)
    path = Path(path)
    summary = ImportSummary(file=str(path), kind=kind, dry_run=options.dry_run)
    progress("read", 0, 0)
    # The content hash and line count (hashlib releases the GIL) run beside DuckDB's parse.
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmseg-hash")
    scanned = hasher.submit(scan_file, path) if path.is_file() else None
    try:
        source = read_source(
            con, path, sheet=options.sheet, encoding=options.encoding, delimiter=options.delimiter,
            physical_lines=(lambda: scanned.result()[1]) if scanned is not None else None,
            columns_used=columns_used,
            combining_marks=(lambda: scanned.result()[2]) if scanned is not None else None,
        )
        summary.sheet, summary.encoding, summary.delimiter = source.sheet, source.encoding, source.delimiter
        digest = scanned.result()[0] if scanned is not None else file_hash(path)
        recorded = options.recorded()
        recorded["sheet"] = source.sheet
        previous = _already_imported(con, digest, kind, recorded)
        if previous is not None:
            summary.already_imported = previous
            summary.read = source.rows + len(source.rejected)
            summary.unchanged = 0
            return summary
        con.execute("BEGIN TRANSACTION")
        try:
            import_id = con.execute(
                "INSERT INTO imports (file_name, content_hash, kind, options, started_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                [path.name, digest, kind, json.dumps(recorded, ensure_ascii=False, default=str), datetime.now()],
            ).fetchall()[0][0]
            summary.import_id = import_id
            summary.read = source.rows + len(source.rejected)
            ctx = PipelineContext(con, settings, options, source, import_id, summary, progress)
            record_reader_rejects(ctx)
            pipeline(ctx)
            summary.duration_ms = int((time.monotonic() - started) * 1000)
            con.execute(
                "UPDATE imports SET finished_at = ?, duration_ms = ?, rows_read = ?, inserted = ?, updated = ?, "
                "unchanged = ?, rejected = ?, issues = ?, skipped = ?, unmapped_columns = ? WHERE id = ?",
                [datetime.now(), summary.duration_ms, summary.read, summary.inserted, summary.updated,
                 summary.unchanged, summary.rejected, summary.issues, summary.skipped, summary.unmapped_columns,
                 import_id],
            )
            if options.strict and (summary.rejected or summary.issues):
                raise StrictImportError(_strict_message(con, import_id, path, summary))
            log_action(con, "import", kind, {"import_id": import_id, "file": path.name, "read": summary.read,
                                             "inserted": summary.inserted, "updated": summary.updated})
            progress("commit", 1, 1)
            if options.dry_run:
                con.execute("ROLLBACK")
            else:
                con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return summary
    finally:
        hasher.shutdown(wait=True, cancel_futures=True)
        cleanup(con)


def import_history(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[dict[str, Any]]:
    """Every import, newest first."""
    cursor = con.execute(
        "SELECT id, file_name, kind, started_at, duration_ms, rows_read, inserted, updated, unchanged, rejected, "
        "issues, skipped, unmapped_columns, options->>'sheet' AS sheet FROM imports "
        "WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
        [limit if limit is not None else 1_000_000_000],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def import_problems(
    con: duckdb.DuckDBPyConnection, import_id: int | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Rejected rows and issues of one import (the latest when ``import_id`` is None).

    ``limit`` keeps the first rows of each list, by line; ``rejected`` and
    ``issue_count`` count all of them.
    """
    if import_id is None:
        rows = con.execute("SELECT max(id) FROM imports WHERE finished_at IS NOT NULL").fetchall()
        import_id = rows[0][0]
        if import_id is None:
            raise NotFoundError("no import yet. Run `crmseg import contacts FILE` first.")
    found = con.execute("SELECT id, file_name, kind FROM imports WHERE id = ?", [import_id]).fetchall()
    if not found:
        raise NotFoundError(f"no import #{import_id}. `crmseg import history` lists them.")
    # LIMIT NULL is no limit.
    rejects = con.execute(
        "SELECT row_number AS line, reason, raw FROM import_rejects WHERE import_id = ? ORDER BY row_number LIMIT ?",
        [import_id, limit],
    ).fetchall()
    issues = con.execute(
        "SELECT row_number AS line, column_name, value, reason, contact_id FROM import_issues WHERE import_id = ? "
        "ORDER BY row_number, column_name LIMIT ?",
        [import_id, limit],
    ).fetchall()
    counts = con.execute(
        "SELECT (SELECT count(*) FROM import_rejects WHERE import_id = $id), "
        "(SELECT count(*) FROM import_issues WHERE import_id = $id)",
        {"id": import_id},
    ).fetchall()[0]
    return {
        "import_id": found[0][0],
        "file": found[0][1],
        "kind": found[0][2],
        "rejected": counts[0],
        "issue_count": counts[1],
        "rejects": [{"line": r[0], "reason": r[1], "raw": json.loads(r[2]) if r[2] else None} for r in rejects],
        "issues": [
            {"line": i[0], "column": i[1], "value": i[2], "reason": i[3], "contact_id": i[4]} for i in issues
        ],
    }
