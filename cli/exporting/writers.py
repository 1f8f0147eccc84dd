"""The four writers and the atomic rename.

CSV is UTF-8 without a byte-order mark, comma-separated, with a header row,
ISO dates and empty cells for nulls. Excel goes through xlsxwriter in
constant-memory mode with formula, number and URL guessing turned off
(values are written as the types they are; dates get a date format). A
sheet holds at most 1,048,576 rows and a cell 32,767 characters: a longer
list is refused before anything is written (xlsxwriter would drop the rows
past the limit without a word), and a longer text keeps its first 32,767
characters (xlsxwriter would drop the rest of that row). JSON is an array of
records with amounts as numbers and times in ISO 8601; Parquet keeps the
column types, lists included.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl

from cli.atomic import atomic_path
from cli.errors import InputError
from cli.exporting.safe import neutralise_frame

FORMATS = ("csv", "xlsx", "json", "parquet")
XLSX_MAX_ROWS = 1_048_576  # the header row included
XLSX_MAX_TEXT = 32_767
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".json": "json", ".parquet": "parquet"}


def format_for_path(path: Path) -> str | None:
    """The format a file name implies (``.csv``, ``.xlsx``, ``.json``, ``.parquet``), else None."""
    return _SUFFIXES.get(Path(path).suffix.lower())


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    import xlsxwriter

    frame = frame.with_columns(pl.col(pl.String).str.slice(0, XLSX_MAX_TEXT))
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
               "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    try:
        sheet = workbook.add_worksheet("list")
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, frame.columns, bold)
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        dated = [(i, time_format if dtype == pl.Datetime else date_format)
                 for i, dtype in enumerate(frame.dtypes) if dtype in (pl.Date, pl.Datetime)]
        write_row = sheet.write_row
        write_datetime = sheet.write_datetime
        for index, row in enumerate(frame.iter_rows(), start=1):
            write_row(index, 0, row)
            for column, fmt in dated:
                value = row[column]
                if isinstance(value, (date, datetime)):
                    write_datetime(index, column, value, fmt)
    finally:
        try:
            workbook.close()
        except xlsxwriter.exceptions.FileCreateError as e:
            # xlsxwriter wraps the OSError; hand it on as one so that it reads as a write failure.
            cause = e.args[0] if e.args and isinstance(e.args[0], OSError) else OSError(str(e))
            raise cause from e


def write_export(frame: pl.DataFrame, path: Path, fmt: str, *, phone_columns: set[str] | frozenset[str] = frozenset()) -> int:
    """Write ``frame`` to ``path`` in ``fmt`` atomically; return the number of rows.

    CSV and Excel cells are neutralised first (see ``cli.exporting.safe``).
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format `{fmt}`; use one of {', '.join(FORMATS)}.")
    if fmt == "xlsx" and frame.height >= XLSX_MAX_ROWS:
        raise InputError(f"{path}: {frame.height:,} rows do not fit in an Excel sheet "
                         f"(at most {XLSX_MAX_ROWS - 1:,} below the header); use --format csv or parquet.")
    if fmt in ("csv", "xlsx"):
        frame = neutralise_frame(frame, phone_columns)
    with atomic_path(Path(path)) as temporary:
        if fmt == "csv":
            frame.write_csv(temporary, date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S")
        elif fmt == "xlsx":
            _write_xlsx(frame, temporary)
        elif fmt == "json":
            # Amounts as JSON numbers (Polars writes decimals as strings), times in ISO 8601.
            frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64),
                               pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f")).write_json(temporary)
        else:
            frame.write_parquet(temporary)
    return frame.height
