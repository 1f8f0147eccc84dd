"""Which contacts a command acts on: by email, by a file of emails, or by segment.

``tag add|remove`` and ``group add|remove`` share this. Emails are
normalised one by one (the same rules as import), then looked up set-wise in
DuckDB. An email that matches no contact is an error that names where it
came from (``--email`` or the file and line), so a typo never silently
shrinks a list; ``skip_unknown`` turns those into a count instead.

Only live contacts (status ``active`` or ``suppressed``) are targets. An
email that belongs to a record merged away resolves to the contact that
absorbed it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from cli.errors import InputError, NotFoundError
from cli.normalise import normalise_email
from cli.settings import Settings
from cli.yamlfile import did_you_mean, load_yaml

LIVE_STATUSES = ("active", "suppressed")

# Header names (accents, case, spaces, - and _ removed) that hold an email.
_EMAIL_HEADERS = frozenset(
    {
        "email", "mail", "emailaddress", "courriel", "adresseemail", "adressemail", "adressecourriel",
        "emailadres", "emailadresse", "emailadress", "adresseelectronique", "mel", "adressemel",
    }
)
_DELIMITERS = ",;\t|"
_SHOWN_UNKNOWN = 5


@dataclass(frozen=True)
class EmailRef:
    """One email a user gave, with where it came from (for messages)."""

    email: str
    where: str
    erased: bool = False  # the address of a person erased by `gdpr forget`


@dataclass
class Targets:
    """The resolved contacts, and what could not be resolved."""

    contact_ids: list[int] = field(default_factory=list)
    requested: int = 0
    unknown: list[EmailRef] = field(default_factory=list)

    @property
    def unknown_count(self) -> int:
        return len(self.unknown)


def _header_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-.]", "", plain.strip().lower())


# What a workbook's first bytes are: a zip (.xlsx, .ods) or an OLE2 file (.xls).
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
# Rows of a sheet searched for the header (title rows above it are common).
_HEADER_SEARCH_ROWS = 10


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise InputError(f"{path}: no such file. Check the path given to --file.") from e
    except OSError as e:
        raise InputError(f"{path}: cannot read the file ({e.strerror}).") from e


def _decode(path: Path, raw: bytes) -> str:
    """The text of a file in the encodings import reads (UTF-8 with or without BOM, UTF-16, Windows-1252, Latin-1)."""
    from cli.importing.sources import detect_encoding

    try:
        return raw.decode(detect_encoding(path, raw[:65536]))
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sheet_refs(path: Path) -> list[EmailRef]:
    """The emails of a workbook's first sheet holding data, from its email column (or the one holding addresses)."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheets = [
            (name, reader.load_sheet_by_name(name, header_row=None, skip_rows=0, dtypes="string"))
            for name in reader.sheet_names
        ]
    except Exception as e:  # fastexcel raises its own exception types
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(f"{path}: cannot be opened as a workbook ({first_line}). Export it again, or as CSV.") from e
    for name, sheet in sheets:
        if sheet.visible != "visible":
            continue
        rows = [[(cell or "").strip() for cell in row] for row in sheet.to_polars().iter_rows()]
        if not any(any(row) for row in rows):
            continue
        column = header = None
        for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
            found = next((i for i, cell in enumerate(row) if _header_key(cell) in _EMAIL_HEADERS), None)
            if found is not None:
                column, header = found, index
                break
            found = next((i for i, cell in enumerate(row) if _looks_like_email(cell)), None)
            if found is not None:  # no header row: the first row already holds an address
                column, header = found, index - 1
                break
        if column is None:
            raise InputError(
                f"{path}, sheet `{name}`: no email column in its first rows. Name the column `email`, "
                "or give one email per line."
            )
        return [
            EmailRef(row[column] if column < len(row) else "", f"{path.name}, row {number}")
            for number, row in enumerate(rows[header + 1:], start=header + 2)
            if any(row)
        ]
    raise InputError(f"{path}: the workbook holds no email. Give one email per line, or a CSV with an email column.")


def _looks_like_email(text: str) -> bool:
    return "@" in text and " " not in text.strip()


def _unquote(text: str) -> str:
    """A cell as a spreadsheet quotes it (``"marie@example.org"``), without the quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"').strip()
    return text


def _table_layout(first: str) -> tuple[str, int, bool] | None:
    """How a delimited first line reads: (delimiter, email column, has a header), or None.

    Spreadsheets save with `;` in France and Belgium, and a header cell may
    itself hold a comma (``Nom, prénom``), so every delimiter present is
    tried: the one whose cells hold an email header wins; else one whose
    cells hold an address (a file without a header line, or one email per
    line with the empty columns Excel adds: ``marie@example.org;``).
    """
    headerless = None
    for delimiter in _DELIMITERS:
        if delimiter not in first:
            continue
        cells = next(csv.reader([first], delimiter=delimiter))
        for i, cell in enumerate(cells):
            if _header_key(cell) in _EMAIL_HEADERS:
                return delimiter, i, True
        if headerless is None:
            position = next((i for i, cell in enumerate(cells) if _looks_like_email(cell)), None)
            if position is not None:
                headerless = (delimiter, position, False)
    return headerless


def read_email_file(path: Path) -> list[EmailRef]:
    """The emails in ``path``: one per line, a CSV/TSV whose header has an email column, or a workbook.

    Blank lines and lines starting with ``#`` are skipped; a lone ``email``
    header line is allowed. A delimited file without a header line is read
    from the column holding an address. A row with cells but an empty email
    cell comes back as an empty email, so that the caller reports it rather
    than dropping it.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if raw.startswith(_WORKBOOK_MAGIC):
        refs = _sheet_refs(path)
        if not any(r.email for r in refs):
            raise InputError(f"{path}: the workbook holds no email under its email column.")
        return refs
    text = _decode(path, raw)
    lines = text.splitlines()
    first_index = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if first_index is None:
        raise InputError(f"{path}: the file holds no email. Give one email per line, or a CSV with an email column.")
    first = lines[first_index]
    has_delimiter = any(d in first for d in _DELIMITERS)
    layout = _table_layout(first) if has_delimiter else None
    refs: list[EmailRef] = []
    if not has_delimiter:
        start = first_index + 1 if _header_key(_unquote(first)) in _EMAIL_HEADERS else first_index
        for number, line in enumerate(lines[start:], start=start + 1):
            value = _unquote(line)
            if value and not value.startswith("#"):
                refs.append(EmailRef(value, f"{path.name}, line {number}"))
    elif layout is None:
        header = next(csv.reader([first], delimiter=next(d for d in _DELIMITERS if d in first)))
        raise InputError(
            f"{path}, line {first_index + 1}: no email column in the header "
            f"({', '.join(h.strip() for h in header)}). Name the column `email`, or give one email per line."
        )
    else:
        delimiter, column, has_header = layout
        reader = csv.reader(io.StringIO("\n".join(lines[first_index:])), delimiter=delimiter)
        if has_header:
            next(reader)
        for row in reader:
            number = first_index + reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            value = row[column].strip() if column < len(row) else ""
            refs.append(EmailRef(value, f"{path.name}, line {number}"))
    if not any(r.email for r in refs):
        raise InputError(f"{path}: the file holds no email. Give one email per line, or a CSV with an email column.")
    return refs


def resolve_emails(con: duckdb.DuckDBPyConnection, refs: list[EmailRef]) -> tuple[list[int], list[EmailRef]]:
    """Map emails to live contact ids, set-wise; return (ids, unknown refs).

    An address reaches its contact as ``contacts show`` finds it: a record
    merged away leads to the contact that absorbed it, even through later
    merges, and so does the address a merge replaced on the kept contact.
    """
    from cli.contacts import live_contacts_for_emails

    if not refs:
        return [], []
    normalised = [normalise_email(r.email) or "" for r in refs]
    found = live_contacts_for_emails(con, sorted(set(normalised) - {""}))
    ids = sorted({found[email][0] for email in normalised if email in found})
    missing = sorted({email for email in normalised if email and email not in found})
    # Their keyed hash in the ledger is all that is left of people erased by `gdpr forget`.
    erased = {
        r[0] for r in con.execute(
            "SELECT e FROM unnest($emails::VARCHAR[]) AS t(e) WHERE EXISTS "
            "(SELECT 1 FROM suppressions s WHERE s.reason = 'erased' AND s.key = crmseg_key(t.e))",
            {"emails": missing},
        ).fetchall()
    } if missing else set()
    unknown = [
        EmailRef(ref.email, ref.where, erased=email in erased)
        for ref, email in zip(refs, normalised) if email not in found
    ]
    return ids, unknown


def segment_member_ids(
    con: duckdb.DuckDBPyConnection, settings: Settings, name: str, as_of: date
) -> list[int]:
    """Live contacts that match segment ``name``'s ``where`` at ``as_of``.

    Like ``in_segment`` in a segment, this uses the definition's ``where``,
    not its purpose rules: tagging everyone in ``donors-2025`` includes
    donors without consent.
    """
    from cli.segmenting import compile_segment, library_for
    from cli.segmenting.runner import ensure_inputs

    library = library_for(settings)
    spec = library.get(name)
    ensure_inputs(con, [spec], settings=settings, as_of=as_of, library=library)
    compiled = compile_segment(spec, settings=settings, as_of=as_of, library=library, con=con, purpose=False)
    # The compiled SQL comes from the segment compiler (field names from the known
    # schema, values bound in compiled.params), never from user text.
    query = "SELECT DISTINCT m.contact_id FROM (" + compiled.sql + ") m JOIN contacts c ON c.id = m.contact_id"
    query += " WHERE c.status IN ('active', 'suppressed') ORDER BY 1"
    rows = con.execute(query, compiled.params).fetchall()
    return [r[0] for r in rows]


def describe_unknown(unknown: list[EmailRef], shown: int = _SHOWN_UNKNOWN, lead: str = "no contact has the email ") -> str:
    """The first unknown emails with where they came from, for a message.

    >>> describe_unknown([EmailRef("x@y.fr", "--email"), EmailRef("", "a.csv, line 3")])
    'no contact has the email x@y.fr (--email); a.csv, line 3 has no email'
    """
    first = unknown[:shown]
    parts = []
    named = [r for r in first if r.email.strip()]
    if named:
        parts.append(lead + "; ".join(
            f"{r.email.strip()} ({r.where}{': erased by gdpr forget' if r.erased else ''})" for r in named))
    parts += [f"{r.where} has no email" for r in first if not r.email.strip()]
    more = f" and {len(unknown) - shown} more" if len(unknown) > shown else ""
    return "; ".join(parts) + more


def select_contacts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    as_of: date,
    *,
    emails: list[str] | None = None,
    files: list[Path] | None = None,
    segment: str | None = None,
    skip_unknown: bool = False,
) -> Targets:
    """Resolve ``--email``, ``--file`` and ``--segment`` (any mix) to live contact ids.

    Raises ``InputError`` when nothing was given, and ``NotFoundError`` when an
    email matches no contact (unless ``skip_unknown``).
    """
    emails = list(emails or [])
    files = list(files or [])
    if not emails and not files and not segment:
        raise InputError("say which contacts: give --email EMAIL, --file FILE or --segment NAME.")
    refs = [EmailRef(e, "--email") for e in emails]
    for path in files:
        refs.extend(read_email_file(path))
    ids, unknown = resolve_emails(con, refs)
    if unknown and not skip_unknown:
        raise NotFoundError(
            f"{describe_unknown(unknown)}. Nothing was changed. Check the addresses "
            "(`crmseg contacts find TEXT`), or pass --skip-unknown to act on the others."
        )
    requested = len(refs)
    if segment:
        members = segment_member_ids(con, settings, segment, as_of)
        requested += len(members)
        ids = sorted(set(ids) | set(members))
    return Targets(contact_ids=ids, requested=requested, unknown=unknown)
