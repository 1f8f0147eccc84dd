"""Reading an import file into a DuckDB table of text cells with line numbers.

Every reader yields the same thing: a temporary view ``import_raw`` whose
columns are ``__row`` (ordinal of the data row), ``__line`` (the physical
line of a CSV record, or the spreadsheet row number) and ``c0 .. cN`` (the
cells as text, trimmed, an empty cell being NULL), plus the original headers
and the rows the reader itself had to refuse (ragged rows). The cells live
in a temporary table (``import_cells``); for a CSV file they are numbered by
the table's ``rowid`` (the parse keeps the file's order), because numbering
them in the parse with ``row_number()`` would make it single-threaded.

CSV files are parsed by DuckDB (fast, set-wise), which reads UTF-8 only
without downloads; any other encoding (UTF-8 with a BOM, UTF-16,
Windows-1252, Latin-1) is transcoded to a temporary UTF-8 file in chunks
first (a file whose first 64 KiB are UTF-8 is parsed at once, and examined
whole only if DuckDB meets other bytes). The line of record n is n + 1
whenever the file has exactly one physical line per record (counted with a
byte scan beside the parse, with the content hash). Otherwise (a quoted cell spans lines, blank lines were skipped,
a row was refused) DuckDB's rejected-row line numbers count records rather
than physical lines, so a second DuckDB pass reads the file as raw lines and
finds where each record starts (quote parity), joined to the rows in SQL;
when that alignment does not account for every row, a streaming ``csv``
pass in Python gives the same map. Excel workbooks (``.xlsx``, ``.xls``, ``.ods``) go through fastexcel.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import os
import re
import tempfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from cli.errors import ImportFileError, InputError
from cli.importing.headers import is_known_header

RAW_TABLE = "import_raw"
_COUNT_RAW = "SELECT count(*) FROM " + RAW_TABLE
# The tables behind the ``import_raw`` view: the parsed cells, and the same re-linked to their lines.
_CELLS = "import_cells"
_LINKED = "import_cells_linked"
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ""}
DELIMITERS = (";", ",", "\t", "|")
_CHUNK = 1 << 20
_SAMPLE = 1 << 16
# Bytes that Windows-1252 leaves undefined: a file holding them is Latin-1.
_CP1252_HOLES = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
# Given the (de-duplicated) headers, the indexes of the columns an import will read, or None for all.
ColumnsUsed = Callable[[list[str]], "set[int] | None"]
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# fastexcel logs its guesses ("Could not determine dtype for column 3, falling back to string"); without a
# handler, Python's last-resort one would print them on a user's stderr.
logging.getLogger("fastexcel").addHandler(logging.NullHandler())


@dataclass
class RawRejectedRow:
    """A record the reader could not split into the header's cells."""

    line: int
    reason: str
    raw: str


@dataclass
class CellError:
    """A workbook cell holding a formula error (`#N/A`, `#DIV/0!`): read as empty, reported as an issue."""

    line: int
    column: int
    value: str


@dataclass
class SourceTable:
    """What a reader produced: the raw table's headers and what it refused."""

    path: Path
    headers: list[str]
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    rejected: list[RawRejectedRow] = field(default_factory=list)
    blank_rows: int = 0
    cell_errors: list[CellError] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The internal column names, ``c0`` .. ``cN``, in header order."""
        return [f"c{i}" for i in range(len(self.headers))]


def scan_file(path: Path) -> tuple[str, int, bool]:
    """SHA-256 of the file's bytes, its number of physical lines, and whether it may hold decomposed accents.

    Run beside DuckDB's parse (hashlib releases the GIL), so that neither
    costs a pass of its own over a large file. The last answer is
    ``_may_hold_combining_marks`` of the bytes.
    """
    digest = hashlib.sha256()
    count = 0
    last = b""
    marks = False
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK * 8), b""):
            digest.update(chunk)
            count += chunk.count(b"\n")
            marks = marks or _may_hold_combining_marks(chunk)
            last = chunk[-1:]
    return digest.hexdigest(), count + (1 if last and last != b"\n" else 0), marks


def _may_hold_combining_marks(data: bytes) -> bool:
    """Whether UTF-8 ``data`` may hold a combining accent (U+0300..U+036F, lead byte 0xCC or 0xCD).

    A Mac or a PDF copy may write `é` as `e` + U+0301: it looks the same but
    compares unequal, so names, cities and tags would be stored twice.
    """
    return b"\xcc" in data or b"\xcd" in data


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    return scan_file(path)[0]


def check_readable(path: Path) -> None:
    """Raise ``ImportFileError`` when ``path`` is missing, a folder, or empty."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file. Check the path and run the command again.")
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder; give the file to import.")
    if path.stat().st_size == 0:
        raise ImportFileError(f"{path}: the file is empty (0 bytes); nothing to import.")


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return controls > max(2, len(sample) // 100)


def _marked_encoding(sample: bytes) -> str | None:
    """The encoding a file's first bytes show (a BOM, or UTF-16's NUL bytes), else None."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a BOM: every other byte of ASCII text is NUL.
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > half * 0.4 and even_nuls < half * 0.05:
            return "utf-16-le"
        if even_nuls > half * 0.4 and odd_nuls < half * 0.05:
            return "utf-16-be"
    return None


def _sample_is_utf8(sample: bytes) -> bool:
    """Whether the sample decodes as UTF-8 (a character cut at its end aside)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, sample: bytes) -> str:
    """The encoding of a text file: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252`` or ``latin-1``."""
    marked = _marked_encoding(sample)
    if marked is not None:
        return marked
    decoder = codecs.getincrementaldecoder("utf-8")()
    holes = False
    with open(path, "rb") as handle:
        try:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            if any(b in chunk for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")):
                holes = True
                break
    return "latin-1" if holes else "cp1252"


def _transcode(path: Path, encoding: str, folder: Path) -> Path:
    """Write ``path`` decoded from ``encoding`` as UTF-8 into ``folder``; newlines untouched."""
    target = folder / "source.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as out:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as e:
        raise ImportFileError(
            f"{path}: cannot be read as {encoding} (byte {e.start} of a chunk is invalid). "
            "Give the right encoding with --encoding (utf-8, utf-16, cp1252, latin-1)."
        ) from e
    return target


def sniff_delimiter(text: str, suffix: str) -> str | None:
    """The delimiter that splits the header and the next records alike; None for one column."""
    if suffix in (".tsv", ".tab"):
        return "\t"
    lines = text.splitlines()[:200]
    if lines and len(text) >= _SAMPLE:
        lines = lines[:-1]  # the last line of the sample may be cut
    sample = "\n".join(lines)
    best: tuple[float, int, int] | None = None
    choice = None
    for order, delimiter in enumerate(DELIMITERS):
        try:
            records = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        same = sum(1 for r in records if len(r) == width) / len(records)
        score = (same, width, -order)
        if best is None or score > best:
            best, choice = score, delimiter
    return choice


DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}


def normalise_delimiter(value: str | None) -> str | None:
    """The ``--delimiter`` character: one character, or ``tab``/``\\t`` (also ``semicolon``, ``comma``, ``pipe``).

    >>> normalise_delimiter("tab")
    '\t'
    """
    if value is None:
        return None
    named = DELIMITER_NAMES.get(value.lower() if len(value) > 1 else value)
    if named is not None:
        return named
    if len(value) != 1 or value in ('"', "\r", "\n"):
        raise InputError(
            f"--delimiter {value!r}: give one character (for example ; , | ) or tab; "
            "a quote or a line break cannot separate cells."
        )
    return value


def parse_header(text: str, delimiter: str | None, path: Path | None = None) -> list[str]:
    """The first record of ``text`` split by ``delimiter``."""
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter or "\x1f")
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                return [cell.strip() for cell in record]
    except csv.Error as e:
        where = f"{path}: " if path else ""
        raise ImportFileError(f"{where}the header line cannot be read as CSV ({e}). Check the file's delimiter and quotes.") from e
    return []


_MAX_TITLE_ROWS = 10


def title_rows(rows: list[list[str]]) -> int | None:
    """How many leading rows are a title above the table (``Liste des adhérents 2024``, a date, blanks).

    A title row has at most one filled cell, which is no column name crmseg
    knows; the header is the first row with two filled cells or more, and the
    two rows after it must have as many cells (so a one-column file, or a
    stray comma in it, is left alone). A row of group labels above the header
    (`Identité`, `Coordonnées` over `Nom`, `Email`: none a known column name,
    where the next row holds two or more) is a title row too. 0 when the first
    row is the header, None when no header shows in the first rows.
    """
    for index, row in enumerate(rows[: _MAX_TITLE_ROWS + 1]):
        filled = [cell.strip() for cell in row if cell and cell.strip()]
        if len(filled) >= 2:
            below = next(
                (i for i in range(index + 1, min(index + 3, len(rows))) if any(c and c.strip() for c in rows[i])), None
            )
            if (
                below is not None and not any(is_known_header(c) for c in filled)
                and sum(1 for c in rows[below] if c and c.strip() and is_known_header(c.strip())) >= 2
            ):
                index, row = below, rows[below]
            following = [r for r in rows[index + 1 : index + 3] if any(c and c.strip() for c in r)]
            return index if following and all(len(r) == len(row) for r in following) else None
        if len(filled) == 1 and is_known_header(filled[0]):
            return index
    return None


def _text_title_lines(text: str, delimiter: str | None) -> int:
    """``title_rows`` for the first lines of a text file, split by ``delimiter`` (or each likely one).

    Without a known delimiter, the first line is the header as soon as one
    delimiter makes it one (a title holding a comma still goes when another
    delimiter shows the table below it).
    """
    lines = text.splitlines()[: _MAX_TITLE_ROWS + 3]
    found = []
    for candidate in [delimiter] if delimiter else list(DELIMITERS):
        rows = [next(csv.reader([line], delimiter=candidate), []) if line else [] for line in lines]
        found.append(title_rows(rows))
    if 0 in found:
        return 0
    titles = [f for f in found if f]
    return min(titles) if titles else 0


_SEP_HINT = re.compile(r"\A\ufeff?sep=(.)[ \t]*(\r\n|\r|\n)", re.IGNORECASE)


def excel_sep_hint(text: str) -> str | None:
    """The delimiter of Excel's ``sep=;`` first line, if the text starts with one."""
    found = _SEP_HINT.match(text)
    return found.group(1) if found else None


def _rewrite(source: Path, folder: Path, *, skip_lines: int, cr_to_lf: bool) -> Path:
    """A UTF-8 copy of ``source`` without its first ``skip_lines`` lines and/or with CR line ends made LF."""
    target = folder / ("rewritten-" + source.name)
    with open(source, encoding="utf-8", errors="strict", newline="") as src, \
            open(target, "w", encoding="utf-8", newline="") as out:
        first = True
        pending_cr = False
        for chunk in iter(lambda: src.read(_CHUNK), ""):
            if pending_cr:
                chunk = "\r" + chunk
                pending_cr = False
            if chunk.endswith("\r") and not cr_to_lf:
                chunk, pending_cr = chunk[:-1], True
            if cr_to_lf:
                chunk = chunk.replace("\r\n", "\n").replace("\r", "\n")
            # The skipped lines lie in the 64 KiB sample, hence in the first chunk.
            for _ in range(skip_lines if first else 0):
                end = chunk.find("\n")
                cr = chunk.find("\r")
                if cr != -1 and (end == -1 or cr < end):
                    end = cr + (1 if chunk[cr + 1 : cr + 2] == "\n" else 0)
                chunk = chunk[end + 1 :] if end != -1 else ""
            first = False
            out.write(chunk)
        if pending_cr:
            out.write("\r")
    return target


def _free_delimiter(text: str) -> str:
    for candidate in (",", ";", "\t", "|", "\x1f", "\x1e"):
        if candidate not in text:
            return candidate
    return "\x1f"


def _record_starts_python(path: Path, delimiter: str) -> tuple[array, set[int]]:
    """The same map as ``_record_starts_duckdb``, from Python's csv module (slower, exact)."""
    starts: array = array("q")
    blanks: set[int] = set()
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=False)
        previous_end = 0
        for record in reader:
            starts.append(previous_end + 1)
            if not record:
                blanks.add(len(starts))
            previous_end = reader.line_num
    return starts, blanks


class _NotUtf8(Exception):
    """DuckDB met bytes that are not UTF-8 in a file whose sample was."""


def read_text_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    force_python_lines: bool = False,
    physical_lines: Callable[[], int] | None = None,
    columns_used: ColumnsUsed | None = None,
    combining_marks: Callable[[], bool] | None = None,
) -> SourceTable:
    """Load a CSV/TSV/TXT file into ``import_raw`` (see the module docstring).

    ``physical_lines``, when given, returns the file's line count (computed
    beside the parse, see ``scan_file``). ``columns_used``, when given, says
    which columns the import will read (see ``ColumnsUsed``); ``combining_marks``, whether
    the file may hold decomposed accents (see ``scan_file``). A file whose first 64 KiB are
    UTF-8 is parsed as UTF-8 at once; only when DuckDB then meets bytes that
    are not UTF-8 is the whole file examined and read again, transcoded.
    """
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
    if sample.startswith(_ZIP_MAGIC) or sample.startswith(_OLE_MAGIC):
        return read_excel_file(con, path, sheet=None, announced_as_text=True)
    if encoding is None and _marked_encoding(sample) is None and _sample_is_utf8(sample):
        try:
            return _read_text(
                con, path, sample, "utf-8", delimiter, force_python_lines, physical_lines, columns_used,
                combining_marks, guessed=True,
            )
        except _NotUtf8:
            cleanup(con)
    return _read_text(
        con, path, sample, encoding, delimiter, force_python_lines, physical_lines, columns_used, combining_marks,
        guessed=False,
    )


def _read_text(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    sample: bytes,
    encoding: str | None,
    delimiter: str | None,
    force_python_lines: bool,
    physical_lines: Callable[[], int] | None,
    columns_used: ColumnsUsed | None,
    combining_marks: Callable[[], bool] | None,
    *,
    guessed: bool,
) -> SourceTable:
    if encoding is None:
        encoding = detect_encoding(path, sample)
    elif not guessed:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as e:
            raise ImportFileError(f"--encoding {encoding}: unknown encoding; use utf-8, utf-16, cp1252 or latin-1.") from e
    if not encoding.startswith("utf-16") and _looks_binary(sample):
        raise ImportFileError(
            f"{path}: this is not a text file (it holds binary data). Give a CSV, TSV or TXT export, "
            "or an Excel workbook (.xlsx, .xls, .ods)."
        )
    with tempfile.TemporaryDirectory(prefix="crmseg-import-") as folder:
        source = path
        if encoding not in ("utf-8",):
            source = _transcode(path, encoding, Path(folder))
        with open(source, encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read(_SAMPLE)
        if _looks_binary(text.encode("utf-8", errors="replace")[:_SAMPLE]):
            raise ImportFileError(f"{path}: this is not a text file (it holds binary data).")
        # Old Mac exports end lines with CR alone: read them as line ends.
        cr_only = "\r" in text and "\n" not in text
        # Excel's `sep=;` first line names the delimiter; it is no header.
        hint = excel_sep_hint(text)
        line_offset = 1 if hint is not None else 0
        # Title lines above the table (a spreadsheet saved as CSV) are skipped; line numbers still count them.
        after_hint = "".join(text.splitlines(keepends=True)[1:]) if hint is not None else text
        line_offset += _text_title_lines(after_hint, normalise_delimiter(delimiter) or hint)
        if cr_only or line_offset:
            source = _rewrite(source, Path(folder), skip_lines=line_offset, cr_to_lf=cr_only)
            with open(source, encoding="utf-8", errors="replace", newline="") as handle:
                text = handle.read(_SAMPLE)
        delimiter = normalise_delimiter(delimiter)
        if delimiter is None and hint is not None:
            delimiter = hint
        if delimiter is None:
            delimiter = sniff_delimiter(text, path.suffix.lower())
        headers = parse_header(text, delimiter, path)
        if not headers:
            raise ImportFileError(f"{path}: no header line found; the first line must name the columns.")
        one_column = delimiter is None
        read_delim = delimiter if delimiter else _free_delimiter(text)
        lines = physical_lines if source == path and physical_lines is not None else (lambda: _physical_lines(source))
        used = columns_used(_unique_headers(headers)) if columns_used is not None else None
        table = _load_csv(
            con, path, source, headers, read_delim, one_column, encoding, force_python_lines, line_offset, lines, guessed,
            used,
        )
        marks = combining_marks if source == path and combining_marks is not None else (lambda: _file_marks(source))
        if marks():
            _compose_accents(con, len(headers))
        for row in table.rejected:
            row.line += line_offset
        return table


def _physical_lines(path: Path) -> int:
    """How many physical lines ``path`` holds (a last line without a newline counts)."""
    count = 0
    last = b""
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK * 8), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (1 if last and last != b"\n" else 0)


def _line_map_duckdb(con: duckdb.DuckDBPyConnection, path: Path, one_column: bool, parsed: int) -> bool:
    """Build ``import_starts`` (record ordinal -> start line) and ``import_line_map`` (data row -> line).

    Reads the file as raw lines (no quoting) and marks a line as a record
    start when the quotes before it are balanced; record ordinals count the
    header (1) and blank lines. Returns whether the data records line up with
    the rows DuckDB parsed (else the caller falls back to Python's csv).
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_lines AS "
        "SELECT row_number() OVER () AS n, t FROM read_csv(?, columns = {'t': 'VARCHAR'}, delim = '\x01', "
        "quote = '', escape = '', header = false, auto_detect = false, null_padding = true, "
        "strict_mode = false, ignore_errors = true)",
        [str(path)],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE import_starts AS
        WITH q AS (
            SELECT n, t, coalesce(strlen(t) - strlen(replace(t, '"', '')), 0) AS quotes FROM import_lines
        ), p AS (
            SELECT n, t, coalesce(sum(quotes) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
            FROM q
        )
        SELECT row_number() OVER (ORDER BY n) AS k, n AS line, t IS NULL AS blank FROM p WHERE before % 2 = 0
        """
    )
    con.execute("DROP TABLE IF EXISTS import_lines")
    # Ordinal k (1-based, blanks included, header = 1) -> start line; keep the data records.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE import_line_map AS "
        "SELECT row_number() OVER (ORDER BY k) AS __ord, line FROM import_starts "
        "WHERE k >= 2 AND k NOT IN (SELECT line FROM reject_errors WHERE line IS NOT NULL) AND ($one_column OR NOT blank)",
        {"one_column": one_column},
    )
    return con.execute("SELECT count(*) FROM import_line_map").fetchall()[0][0] == parsed


def _line_map_python(
    con: duckdb.DuckDBPyConnection, path: Path, delimiter: str, one_column: bool, rejected_ordinals: set[int], parsed: int
) -> bool:
    """The same tables as ``_line_map_duckdb``, from Python's csv module (slower, exact)."""
    starts, blanks = _record_starts_python(path, delimiter)
    lines = [
        starts[k - 1]
        for k in range(2, len(starts) + 1)
        if k not in rejected_ordinals and (one_column or k not in blanks)
    ]
    if len(lines) != parsed:
        return False
    frame = pl.DataFrame({
        "__ord": pl.arange(1, parsed + 1, eager=True), "line": pl.Series(lines, dtype=pl.Int64),
    })
    starts_frame = pl.DataFrame({
        "k": pl.arange(1, len(starts) + 1, eager=True), "line": pl.Series(list(starts), dtype=pl.Int64),
    })
    con.register("import_line_frame", frame)
    con.register("import_starts_frame", starts_frame)
    con.execute("CREATE OR REPLACE TEMP TABLE import_line_map AS SELECT * FROM import_line_frame")
    con.execute("CREATE OR REPLACE TEMP TABLE import_starts AS SELECT * FROM import_starts_frame")
    con.unregister("import_line_frame")
    con.unregister("import_starts_frame")
    return True


_BLANKS = "' \t\r\n\u00a0'"


def _trimmed(column: str, last: str) -> str:
    """SQL: the cell without surrounding blanks, an empty cell NULL; ``last`` is its last character.

    ``trim`` with a character set costs more than the read itself, so it only
    runs on cells that start or end with one of those characters (or are
    empty). The first character is tested by byte-wise comparison (free):
    below ``!`` means empty or a control or space character, and between
    U+00A0 and U+00A1 means a leading no-break space. The last character comes
    from ``substr(cell, -1)``, computed once in an inner projection: half the
    cost of ``right(cell, 1)``, and a CASE would compute it once per test.
    """
    return (
        "CASE WHEN " + column + " < '!' OR (" + column + " >= '\u00a0' AND " + column + " < '\u00a1') "
        "OR " + last + " < '!' OR " + last + " = '\u00a0' "
        "THEN nullif(trim(" + column + ", " + _BLANKS + "), '') ELSE " + column + " END"
    )


def _file_marks(path: Path) -> bool:
    """``_may_hold_combining_marks`` of a whole (transcoded or rewritten) file."""
    with open(path, "rb") as handle:
        return any(_may_hold_combining_marks(chunk) for chunk in iter(lambda: handle.read(_CHUNK * 8), b""))


def _compose_accents(con: duckdb.DuckDBPyConnection, width: int) -> None:
    """Write every cell in Unicode NFC (`e` + U+0301 becomes `é`), in place: the rows keep their rowids."""
    table = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name IN ($cells, $linked)",
        {"cells": _CELLS, "linked": _LINKED},
    ).fetchall()[0][0]
    # Generated names only (the constants above, c0..cN).
    con.execute(f"UPDATE {table} SET " + ", ".join(f"c{i} = nfc_normalize(c{i})" for i in range(width)))


def _expose(con: duckdb.DuckDBPyConnection, table: str, width: int, row_sql: str, line_sql: str) -> None:
    """(Re)define the ``import_raw`` view over ``table`` with the given row and line expressions."""
    cells = ", ".join(f"c{i}" for i in range(width))
    # Table names are the constants above; the expressions are generated here.
    view = f"CREATE OR REPLACE TEMP VIEW {RAW_TABLE} AS SELECT {row_sql} AS __row, {line_sql} AS __line, {cells} FROM {table}"
    con.execute(view)


def _load_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: Path,
    headers: list[str],
    delimiter: str,
    one_column: bool,
    encoding: str,
    force_python_lines: bool,
    line_offset: int,
    physical_lines: Callable[[], int],
    guessed_utf8: bool,
    used: set[int] | None,
) -> SourceTable:
    width = len(headers)
    columns = {f"c{i}": "VARCHAR" for i in range(width)}
    # Cells of columns the import does not read are only made NULL when empty: trimming costs
    # ~0.05 s per column and million rows, and wide exports (Mailchimp, HubSpot) leave most unread.
    trimmed = set(range(width)) if used is None else used
    cells = ", ".join(
        (_trimmed(f"c{i}", f"t{i}") if i in trimmed else f"nullif(c{i}, '')") + f" AS c{i}" for i in range(width)
    )
    last_characters = "".join(f", substr(c{i}, -1) AS t{i}" for i in sorted(trimmed))
    # One parallel pass: parse and trim the cells. Record n is the table's
    # rowid n - 1 and sits on line n + 1 unless a record spans lines or lines
    # were skipped (checked below against the file's physical line count).
    # Column names are generated here (c0..cN), never user text.
    build = (
        f"CREATE OR REPLACE TEMP TABLE {_CELLS} AS SELECT {cells} FROM (SELECT *{last_characters} FROM "  # noqa: S608
        "read_csv($path, columns = $columns, delim = $delim, "
        "quote = '\"', escape = '\"', header = true, auto_detect = false, null_padding = false, "
        "store_rejects = true, max_line_size = 10000000, strict_mode = true))"
    )
    offset = f"{int(line_offset):d}"
    try:
        con.execute("DROP TABLE IF EXISTS reject_errors")
        con.execute("DROP TABLE IF EXISTS reject_scans")
        con.execute(build, {"path": str(source), "columns": columns, "delim": delimiter})
        _expose(con, _CELLS, width, "rowid + 1", "rowid + 2 + " + offset)
        rejects = con.execute(
            "SELECT line, arg_min(error_type, column_idx), arg_min(csv_line, column_idx) "
            "FROM reject_errors GROUP BY line ORDER BY line"
        ).fetchall()
    except duckdb.Error as e:
        raise ImportFileError(f"{path}: cannot be read as CSV ({str(e).splitlines()[0]}).") from e
    if guessed_utf8 and any(error_type == "INVALID ENCODING" for _, error_type, _ in rejects):
        raise _NotUtf8
    rejected_ordinals = {r[0] for r in rejects}
    parsed = con.execute(_COUNT_RAW).fetchall()[0][0]
    cells_table = _CELLS
    starts: dict[int, int] = {}
    if rejects or physical_lines() != parsed + 1:
        # Some record spans several lines, or blank or refused lines were
        # skipped: map each record to the line it starts on.
        mapped = not force_python_lines and _line_map_duckdb(con, source, one_column, parsed)
        if not mapped:
            mapped = _line_map_python(con, source, delimiter, one_column, rejected_ordinals, parsed)
        if mapped:
            relink = (
                f"CREATE OR REPLACE TEMP TABLE {_LINKED} AS "  # noqa: S608
                f"SELECT r.__row, m.line AS __line, r.* EXCLUDE (__row, __line) FROM {RAW_TABLE} r "
                "JOIN import_line_map m ON m.__ord = r.__row ORDER BY r.__row"
            )
            con.execute(relink)
            cells_table = _LINKED
            _expose(con, _LINKED, width, "__row", "__line + " + offset)
            con.execute("DROP TABLE " + _CELLS)
            starts = dict(
                con.execute(
                    "SELECT k, line FROM import_starts WHERE k IN (SELECT line FROM reject_errors)"
                ).fetchall()
            )
        # else (should not happen): keep going with record ordinals rather than fail
        con.execute("DROP TABLE IF EXISTS import_line_map")
        con.execute("DROP TABLE IF EXISTS import_starts")
    rejected = []
    for ordinal, error_type, raw in rejects:
        line = starts.get(ordinal, ordinal)
        reason = {
            "MISSING COLUMNS": f"too few cells (the header has {len(headers)})",
            "TOO MANY COLUMNS": f"too many cells (the header has {len(headers)})",
            "UNQUOTED VALUE": "a quote inside an unquoted cell",
            "UNTERMINATED QUOTE": "a quoted cell is never closed",
        }.get(error_type, str(error_type).lower())
        rejected.append(RawRejectedRow(line=line, reason=reason, raw=(raw or "").strip("\r\n")))
    all_null = " AND ".join(
        f"c{i} IS NULL" if i in trimmed else f"(c{i} IS NULL OR trim(c{i}, {_BLANKS}) = '')" for i in range(width)
    )
    # Rows of blank cells are dropped; the others keep their numbers (a gap is harmless, and the
    # rowids of the rows left do not move).
    blank_sql = f"DELETE FROM {cells_table} WHERE {all_null}"  # generated names only
    blank_rows = con.execute(blank_sql).fetchall()[0][0]
    rows = parsed - blank_rows
    return SourceTable(
        path=path, headers=_unique_headers(headers), rows=rows, encoding=encoding,
        delimiter=None if one_column else delimiter, rejected=rejected, blank_rows=blank_rows,
    )


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for index, header in enumerate(headers):
        name = header or f"column {index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        result.append(name)
    return result


def _excel_cell_text(name: str, dtype: pl.DataType, series: pl.Series) -> pl.Expr:
    """An Excel column as text: dates in ISO form, whole numbers without ``.0``."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        has_time = bool(
            (series.dt.hour().fill_null(0) + series.dt.minute().fill_null(0) + series.dt.second().fill_null(0)).sum()
        )
        return column.dt.strftime("%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d")
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d")
    if dtype.is_float():
        whole = column.is_not_null() & (column == column.floor()) & (column.abs() < 1e15)
        return pl.when(whole).then(column.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(column.cast(pl.String))
    return column.cast(pl.String)


def _sheet_rows(frame: pl.DataFrame) -> list[list[str]]:
    """The rows of a sheet read without a header (``header_row=None, skip_rows=0``), as text."""
    return [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]


def _header_row(rows: list[list[str]]) -> int:
    """The sheet row (0-based) of the header: below any title rows, else the first row with a cell."""
    titles = title_rows(rows)
    if titles is not None:
        return titles
    return next((index for index, row in enumerate(rows) if any(cell.strip() for cell in row)), 0)


def _load_sheet(reader, name: str, **options):
    """``reader.load_sheet_by_name(name, **options)``; a column that an error cell (`#NAME?`) keeps fastexcel
    from typing is read as text, its error cells empty, instead of failing the whole sheet."""
    import fastexcel

    as_text: dict[str, str] = {}
    while True:
        try:
            return reader.load_sheet_by_name(name, dtypes=as_text or None, **options)
        except fastexcel.CalamineCellError as e:
            found = re.search(r"could not determine dtype for column (.+)$", str(e), re.MULTILINE)
            if found is None or found.group(1).strip() in as_text:
                raise
            as_text[found.group(1).strip()] = "string"


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook."""
    import fastexcel

    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as e:  # fastexcel raises its own exception types
        raise ImportFileError(f"{path}: cannot be opened as a workbook ({_first_line(e)}).") from e


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def read_excel_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, sheet: str | None, announced_as_text: bool = False
) -> SourceTable:
    """Load one sheet of a workbook into ``import_raw``.

    Without ``--sheet``, the first sheet that holds data is read (a workbook
    whose first sheet is a cover page still imports).
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        names = list(reader.sheet_names)
    except Exception as e:
        what = "a workbook named as a text file" if announced_as_text else "a workbook"
        raise ImportFileError(
            f"{path}: cannot be opened as {what} ({_first_line(e)}). The file may be damaged or truncated: "
            "export it again."
        ) from e
    if sheet is not None:
        if sheet not in names:
            # `--sheet dons` finds `Dons ` (case and surrounding blanks differ), else `--sheet 2` the second.
            alike = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
            index = int(sheet) - 1 if sheet.isdigit() and 0 < int(sheet) <= len(names) else None
            if len(alike) == 1:
                index = names.index(alike[0])
            if index is None:
                raise ImportFileError(f"{path}: no sheet named `{sheet}`; its sheets are: {', '.join(names)}.")
            sheet = names[index]
        candidates = [sheet]
    else:
        candidates = names
    frame = None
    chosen = None
    header_row = 0
    frame_errors = None
    hidden: list[str] = []
    for name in candidates:
        try:
            # The first rows, each where it stands: with a header row, fastexcel starts at the first row
            # holding a cell, so a sheet whose rows 1-2 are empty would shift every row number by two.
            probe = _load_sheet(reader, name, header_row=None, skip_rows=0, n_rows=_MAX_TITLE_ROWS + 3)
            if sheet is None and probe.visible != "visible":
                # A hidden sheet (lookup lists, an old copy) is no one's data unless --sheet names it.
                hidden.append(name)
                continue
            titles = _header_row(_sheet_rows(probe.to_polars()))
            # Every row decides a column's type (fastexcel samples 1,000 by default): a text cell further
            # down a column of numbers would otherwise be read as empty.
            batch, errors = _load_sheet(
                reader, name, header_row=titles, dtype_coercion="coerce", schema_sample_rows=None
            ).to_arrow_with_errors()
            loaded = pl.from_arrow(batch)
        except Exception as e:
            raise ImportFileError(f"{path}: sheet `{name}` cannot be read ({_first_line(e)}).") from e
        if loaded.width:
            # Without rows anywhere, the last sheet with a header is read (it imports nothing).
            frame, chosen, header_row, frame_errors = loaded, name, titles, errors
            if loaded.height:
                break
    if frame is None or frame.width == 0:
        if sheet is not None:
            raise ImportFileError(
                f"{path}: sheet `{sheet}` is empty (no header row); its sheets are: {', '.join(names)}. "
                "Name the one with the data with --sheet."
            )
        if hidden:
            raise ImportFileError(
                f"{path}: the workbook's visible sheets hold no data; to read a hidden one, name it with "
                f"--sheet ({', '.join(hidden)})."
            )
        raise ImportFileError(f"{path}: the workbook holds no data (no header row found in any sheet).")
    # fastexcel names a blank header cell `__UNNAMED__N`: it is a blank header (`column N+1`).
    headers = _unique_headers(["" if str(h).startswith("__UNNAMED__") else str(h).strip() for h in frame.columns])
    data = frame.select(
        [
            _excel_cell_text(column, frame.schema[column], frame.get_column(column))
            .str.strip_chars(" \t\r\n\u00a0")
            .str.normalize("NFC")
            .replace("", None)
            .alias(f"c{index}")
            for index, column in enumerate(frame.columns)
        ]
    )
    # Spreadsheet row numbers: ``header_row`` is the header's (0-based) row; data starts on the next row.
    first = header_row + 2
    data = data.with_columns(pl.int_range(first, data.height + first, dtype=pl.Int64).alias("__line"))
    not_blank = pl.any_horizontal([pl.col(f"c{i}").is_not_null() for i in range(len(headers))])
    blank_rows = data.height - data.filter(not_blank).height
    data = data.filter(not_blank).with_row_index("__row", offset=1).with_columns(pl.col("__row").cast(pl.Int64))
    con.register("import_excel_frame", data)
    ordered = ", ".join(["__row", "__line"] + [f"c{i}" for i in range(len(headers))])
    build = f"CREATE OR REPLACE TEMP TABLE {_CELLS} AS SELECT {ordered} FROM import_excel_frame"  # generated names only
    con.execute(build)
    con.unregister("import_excel_frame")
    _expose(con, _CELLS, len(headers), "__row", "__line")
    return SourceTable(
        path=path, headers=headers, rows=data.height, sheet=chosen, blank_rows=blank_rows,
        cell_errors=_cell_errors(frame_errors, first),
    )


# calamine's names of Excel's error values.
_EXCEL_ERRORS = {
    "Div0": "#DIV/0!", "NA": "#N/A", "Name": "#NAME?", "Null": "#NULL!", "Num": "#NUM!", "Ref": "#REF!",
    "Value": "#VALUE!", "GettingData": "#GETTING_DATA",
}


def _cell_errors(errors, first_line: int) -> list[CellError]:
    """The formula error cells fastexcel read as empty, by spreadsheet line and column index."""
    found = []
    for error in getattr(errors, "errors", None) or []:
        kind = re.search(r"Error\((\w+)\)", error.detail)
        if kind is None:
            continue  # not an error value (fastexcel's coercions of other cells are not reported)
        row, column = error.offset_position
        found.append(CellError(first_line + row, column, _EXCEL_ERRORS.get(kind.group(1), "#" + kind.group(1).upper())))
    return found


_MARKUP_STARTS = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta", b"<head", b"<body", b"<style")


def _text_named_as_workbook(path: Path, sheet: str | None) -> bool:
    """Whether a file named ``.xlsx``/``.xls``/``.ods`` is a text file (a CSV or TSV some web tools name so).

    A web page or an Excel 2003 XML file under such a name is refused with what to do.
    """
    with open(path, "rb") as handle:
        head = handle.read(_SAMPLE)
    if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return False
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(_MARKUP_STARTS):
        raise ImportFileError(
            f"{path}: is a web page (HTML) or an XML spreadsheet saved under a workbook's name, which crmseg "
            "cannot read. Open it in Excel or LibreOffice, save it as .xlsx or .csv, and import that file."
        )
    if _looks_binary(head) and _marked_encoding(head) is None:
        return False  # not text: the workbook reader says it cannot open it
    if sheet is not None:
        raise ImportFileError(
            f"{path}: is a text file (CSV) under a workbook's name, so it has no sheets: run the import "
            "again without --sheet."
        )
    return True


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    physical_lines: Callable[[], int] | None = None,
    columns_used: ColumnsUsed | None = None,
    combining_marks: Callable[[], bool] | None = None,
) -> SourceTable:
    """Load ``path`` (text or workbook, by its name) into the ``import_raw`` view.

    ``physical_lines`` may give the file's line count, ``columns_used`` the
    columns the import reads, ``combining_marks`` whether it may hold
    decomposed accents (see ``read_text_file``). Every cell is read in Unicode NFC.
    """
    path = Path(path)
    check_readable(path)
    if path.suffix.lower() in EXCEL_SUFFIXES and not _text_named_as_workbook(path, sheet):
        if encoding or delimiter:
            pass  # meaningless for a workbook; ignored
        return read_excel_file(con, path, sheet=sheet)
    if sheet is not None:
        raise ImportFileError(f"{path}: --sheet applies to workbooks (.xlsx, .xls, .ods), not to a text file.")
    return read_text_file(
        con, path, encoding=encoding, delimiter=delimiter, physical_lines=physical_lines, columns_used=columns_used,
        combining_marks=combining_marks,
    )


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the reader's temporary tables."""
    con.execute("DROP VIEW IF EXISTS " + RAW_TABLE)
    for name in (_CELLS, _LINKED, "import_lines", "import_starts", "import_line_map", "reject_errors", "reject_scans"):
        con.execute("DROP TABLE IF EXISTS " + name)  # constant names


__all__ = ["RawRejectedRow", "SourceTable", "cleanup", "file_hash", "read_source", "scan_file", "sheet_names", "os"]
