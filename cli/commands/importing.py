"""``crmseg import contacts|events|history|rejects``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from cli.commands.common import MORE_ROWS, SCREEN_ROWS, AppContext, app_context, screen_limit, shown_title, table
from cli.errors import CrmsegError

if TYPE_CHECKING:
    from cli.importing import ImportOptions

# The import library (Polars, fastexcel, phonenumbers, email-validator) is
# imported inside each command, so that other commands start without it.

app = typer.Typer(help="Import contacts and events from CSV/TSV/TXT or Excel exports.\n\nExample: crmseg import contacts export.csv", no_args_is_help=True)

# Files above this size get a progress bar (a few thousand rows).
_PROGRESS_BYTES = 512 * 1024
_SUMMARY_FIELDS = ["read", "inserted", "updated", "unchanged", "rejected", "issues", "skipped"]


def _options(
    sheet, encoding, delimiter, date_format, preset, mapping, tags, source, on_conflict, strict, dry_run,
    event_type=None, create_missing=False,
) -> ImportOptions:
    from cli.importing import ImportOptions, parse_map_option
    from cli.tagging import clean_tag_name

    return ImportOptions(
        sheet=sheet, encoding=encoding, delimiter=delimiter, date_format=date_format, preset=preset,
        mapping=parse_map_option(mapping), tags=[clean_tag_name(t) for t in tags or []], source=source, on_conflict=on_conflict,
        strict=strict, dry_run=dry_run, event_type=event_type, create_missing=create_missing,
    )


def _run(app: AppContext, files: list[Path], kind: str, options: ImportOptions) -> None:
    from cli.importing import import_contacts, import_events

    con = app.connect()
    function = import_contacts if kind == "contacts" else import_events
    summaries = []
    # Only on a terminal: elsewhere (cron, a log file) rich still ends the bar with a blank line,
    # and any output makes cron mail its owner.
    show_bar = not app.quiet and not app.json_output and app.err_console.is_terminal
    for index, path in enumerate(files):
        try:
            summaries.append(_import_one(app, con, function, path, options, show_bar))
        except CrmsegError as e:
            if len(files) == 1:
                raise
            # Each file is its own transaction: say which landed and which were not tried.
            if summaries:
                _emit(app, kind, options, summaries)
            done = ", ".join(Path(s.file).name for s in summaries) or "none"
            rest = ", ".join(p.name for p in files[index + 1:]) or "none"
            landed = "checked (dry run)" if options.dry_run else "imported"
            raise type(e)(f"{e} Files {landed} before it: {done}; not tried: {rest}.") from e
    _emit(app, kind, options, summaries)


def _import_one(app: AppContext, con, function, path: Path, options: ImportOptions, show_bar: bool):
    """Import one file, with a progress bar when it is big."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    big = path.exists() and path.is_file() and path.stat().st_size > _PROGRESS_BYTES
    if not (show_bar and big):
        return function(con, path, settings=app.settings, options=options)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn(),
        console=app.err_console, transient=True,
    ) as bar:
        task = bar.add_task(f"{path.name}: reading", total=4)
        steps = {"read": 0, "normalise": 1, "match": 2, "write": 3, "commit": 4}

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=steps.get(phase, 0), description=f"{path.name}: {phase}")

        return function(con, path, settings=app.settings, options=options, progress=progress)


def _emit(app: AppContext, kind: str, options: ImportOptions, summaries: list) -> None:
    """The summary table (or JSON document) of the files imported."""
    data = {"kind": kind, "dry_run": options.dry_run, "imports": [s.as_dict() for s in summaries]}

    def render(console) -> None:
        rows = []
        for s in summaries:
            note = f"already imported (#{s.already_imported}), nothing changed" if s.already_imported else ""
            rows.append([Path(s.file).name + (f" [{s.sheet}]" if s.sheet else "")] + [getattr(s, f) for f in _SUMMARY_FIELDS]
                        + [", ".join(s.unmapped_columns) or "-", note or (f"import #{s.import_id}" if not s.dry_run else "dry run: nothing saved")])
        title = f"Import {kind}" + (" (dry run)" if options.dry_run else "")
        console.print(table(title, ["file"] + _SUMMARY_FIELDS + ["unmapped columns", "note"], rows))
        for s in summaries:
            if s.created_contacts:
                console.print(f"{Path(s.file).name}: {s.created_contacts} prospect(s) created for unknown people.")
            if (s.rejected or s.issues) and s.import_id and not s.dry_run:
                console.print(f"{Path(s.file).name}: see the rejected rows and issues with `crmseg import rejects {s.import_id}`.")

    app.emit(data, render)


_SHEET = typer.Option(None, "--sheet", help="Workbook sheet, by name or number (default: the first with data).")
_ENCODING = typer.Option(None, "--encoding", help="Text encoding (default: detected: utf-8, utf-16, cp1252, latin-1).")
_DELIMITER = typer.Option(None, "--delimiter", help="Cell delimiter (default: sniffed among ; , tab |).")
_DATE_FORMAT = typer.Option(None, "--date-format", help="strptime format tried first, e.g. %m/%d/%Y.")
_PRESET = typer.Option(None, "--preset", help="Column names of an export: mailchimp, brevo, hubspot, google, outlook.")
_MAP = typer.Option(None, "--map", help="COLUMN=field, or a YAML file of COLUMN: field (repeatable).")
_STRICT = typer.Option(False, "--strict", help="Any rejected row or left-out value aborts the import (exit 2).")
_DRY_RUN = typer.Option(False, "--dry-run", help="Do everything but save nothing; print what would happen.")
_SOURCE = typer.Option(None, "--source", help="Source recorded for rows that name none.")


@app.command("contacts")
def contacts(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="CSV/TSV/TXT or Excel files."),
    sheet: Optional[str] = _SHEET,
    encoding: Optional[str] = _ENCODING,
    delimiter: Optional[str] = _DELIMITER,
    date_format: Optional[str] = _DATE_FORMAT,
    preset: Optional[str] = _PRESET,
    mapping: Optional[list[str]] = _MAP,
    tag: Optional[list[str]] = typer.Option(None, "--tag", help="Tag every imported contact (repeatable)."),
    source: Optional[str] = _SOURCE,
    on_conflict: str = typer.Option("fill", "--on-conflict", help="fill (default): existing contacts gain only missing values; update: file values win; keep: existing contacts untouched."),
    strict: bool = _STRICT,
    dry_run: bool = _DRY_RUN,
) -> None:
    """Import contacts: match on email, else external id, else phone; merge per --on-conflict.

    Example: crmseg import contacts export.csv --tag salon-2026 --source "Salon Animal Expo"
    """
    app = app_context(ctx)
    options = _options(sheet, encoding, delimiter, date_format, preset, mapping, tag, source, on_conflict, strict, dry_run)
    _run(app, files, "contacts", options)


@app.command("events")
def events(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="CSV/TSV/TXT or Excel files."),
    event_type: Optional[str] = typer.Option(None, "--type", help="Type of every event of the file (donation, membership, email_open, ...)."),
    create_missing: bool = typer.Option(False, "--create-missing", help="Create a prospect for an unknown email or external id instead of rejecting the row."),
    sheet: Optional[str] = _SHEET,
    encoding: Optional[str] = _ENCODING,
    delimiter: Optional[str] = _DELIMITER,
    date_format: Optional[str] = _DATE_FORMAT,
    preset: Optional[str] = _PRESET,
    mapping: Optional[list[str]] = _MAP,
    source: Optional[str] = _SOURCE,
    strict: bool = _STRICT,
    dry_run: bool = _DRY_RUN,
) -> None:
    """Import events (gifts, memberships, email activity...) linked by email or external id.

    Example: crmseg import events dons.xlsx --sheet Dons --type donation
    """
    app = app_context(ctx)
    options = _options(sheet, encoding, delimiter, date_format, preset, mapping, None, source, "fill", strict, dry_run,
                       event_type, create_missing)
    _run(app, files, "events", options)


@app.command("history")
def history(
    ctx: typer.Context,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Show only the newest N imports."),
) -> None:
    """List past imports, newest first, with their counts.

    Example: crmseg import history --limit 10
    """
    app = app_context(ctx)
    from cli.importing import import_history

    rows = import_history(app.connect(), limit)

    def render(console) -> None:
        console.print(table("Imports", ["#", "file", "sheet", "kind", "when", "read", "inserted", "updated", "unchanged", "rejected", "issues", "skipped"],
                            [[r["id"], r["file_name"], r["sheet"], r["kind"], r["started_at"].strftime("%Y-%m-%d %H:%M"), r["rows_read"],
                              r["inserted"], r["updated"], r["unchanged"], r["rejected"], r["issues"], r["skipped"]] for r in rows]))

    app.emit({"imports": rows}, render)


@app.command("rejects")
def rejects(
    ctx: typer.Context,
    import_id: Optional[int] = typer.Argument(None, metavar="[IMPORT]", help="Import number (default: the latest)."),
    limit: Optional[int] = typer.Option(
        None, "--limit", min=1, help=f"At most this many rejects and issues (default: {SCREEN_ROWS} on screen, all under --json)."
    ),
) -> None:
    """List the rejected rows and the left-out values (issues) of an import, first lines first.

    Example: crmseg import rejects 3 --json
    """
    app = app_context(ctx)
    from cli.importing import import_problems

    data = import_problems(app.connect(), import_id, limit=screen_limit(app, limit))

    def render(console) -> None:
        console.print(f"Import #{data['import_id']}: {data['file']} ({data['kind']})")
        if not data["rejected"] and not data["issue_count"]:
            console.print("No rejected row and no issue.")
        if data["rejected"]:
            console.print(table(shown_title("Rejected rows", len(data["rejects"]), data["rejected"]), ["line", "reason", "row"],
                                [[r["line"], r["reason"], _short(r["raw"])] for r in data["rejects"]]))
        if data["issue_count"]:
            console.print(table(shown_title("Issues (value left out, row imported)", len(data["issues"]), data["issue_count"]),
                                ["line", "column", "value", "reason"],
                                [[i["line"], i["column"], i["value"], i["reason"]] for i in data["issues"]]))
        if len(data["rejects"]) < data["rejected"] or len(data["issues"]) < data["issue_count"]:
            console.print(MORE_ROWS)

    app.emit(data, render)


def _short(raw) -> str:
    if isinstance(raw, dict):
        text = "; ".join(f"{k}={v}" for k, v in raw.items() if v not in (None, ""))
    else:
        text = str(raw)
    return text if len(text) <= 100 else text[:97] + "..."
