"""What every command shares: the global options, the open database, output.

``AppContext`` is built by the root callback from the global options and
passed down in ``ctx.obj``. Data goes to stdout (one JSON document under
``--json``), messages to stderr, so piped output stays clean.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from cli.settings import Settings, load_settings
from cli.store import open_database, resolve_db_path


def _discard(stream: Any) -> None:
    """Send whatever ``stream`` still gets to /dev/null (its reader went away)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout; a reader that went away (``| head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard(sys.stdout)


class _Console(Console):
    """A rich console that outlives a reader going away (``crmseg stats | head -1``).

    Rich's own answer to a broken pipe is ``SystemExit(1)``, the code the SPEC
    keeps for a bug, and it would stop a command half-way. Here the rest of
    the output goes to /dev/null and the command finishes its work and exits
    with its own code.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Contact data is printed as it is: a name like ``[/b]`` must not be read as rich markup
        # (it would stop the command with a MarkupError, or restyle the rest of the line).
        kwargs.setdefault("markup", False)
        super().__init__(*args, **kwargs)

    def on_broken_pipe(self) -> None:
        if self.quiet:
            return
        _discard(sys.stderr if self.stderr else sys.stdout)


@dataclass
class AppContext:
    """Global options and lazily opened resources."""

    db_option: Path | None = None
    config_option: Path | None = None
    as_of: date = field(default_factory=date.today)
    as_of_explicit: bool = False
    json_output: bool = False
    quiet: bool = False
    wait: float = 30.0
    debug: bool = False
    # Set once the command's JSON document is on stdout: an error after it adds no second one.
    emitted: bool = False
    _settings: Settings | None = None
    _con: duckdb.DuckDBPyConnection | None = None

    @property
    def db_path(self) -> Path:
        return resolve_db_path(self.db_option)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_option, default_dir=self.db_path.parent)
        return self._settings

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The database, opened (and upgraded) on first use."""
        if self._con is None:
            self._con = open_database(self.db_path, wait=self.wait, memory_limit=self.settings.memory_limit)
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def console(self) -> Console:
        """Rich console on stdout; plain when not a terminal or when NO_COLOR is set.

        Piped output (cron, files) gets a wide page instead of rich's 80 columns,
        so tables are not cut; $COLUMNS still wins. Markup is off (see ``_Console``).
        """
        width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
        return _Console(highlight=False, soft_wrap=False, width=width)

    @property
    def err_console(self) -> Console:
        return _Console(stderr=True, highlight=False)

    def emit(self, data: Any, render: Callable[[Console], None] | None = None) -> None:
        """Print ``data`` as JSON under ``--json``; otherwise call ``render`` unless ``--quiet``."""
        if self.json_output:
            write_stdout(json.dumps(data, default=_json_default, ensure_ascii=False, indent=2) + "\n")
            self.emitted = True
            return
        if self.quiet or render is None:
            return
        render(self.console)

    def info(self, message: str) -> None:
        """A progress or status message on stderr (silent under --quiet or --json)."""
        if not self.quiet and not self.json_output:
            self.err_console.print(message)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def app_context(ctx: typer.Context) -> AppContext:
    """The ``AppContext`` the root callback stored (a default one in isolated calls)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def emit_selection_change(app: AppContext, label: str, name: str, change: Any, unknown: list,
                          adding: bool, sentence: str) -> None:
    """Report what adding or removing a tag or a group membership did (``sentence`` says it in full).

    ``unknown`` holds the emails ``--skip-unknown`` left out: each is named with where it
    came from, so that the user can correct them.
    """
    from cli.targets import describe_unknown

    data = {
        label: name,
        "contacts": change.targeted,
        "added" if adding else "removed": change.changed,
        "unchanged": change.unchanged,
        "unknown_emails": len(unknown),
        "skipped": [{"email": r.email.strip() or None, "where": r.where, "erased": r.erased} for r in unknown],
    }

    def render(console: Console) -> None:
        console.print(sentence)
        if unknown:
            console.print(f"{len(unknown)} emails matched no contact and were skipped: {describe_unknown(unknown, lead='')}.")

    app.emit(data, render)


# Rows a listing shows on screen when no --limit is given: a terminal cannot show a million
# rows (rich took minutes to lay them out); --json gives them all.
SCREEN_ROWS = 100


def contacts_count(count: int) -> str:
    """``1 contact``, ``2 contacts``, ``0 contacts``: for messages a person reads.

    >>> contacts_count(1)
    '1 contact'
    """
    return f"{count} contact" if count == 1 else f"{count} contacts"


def screen_limit(app: AppContext, limit: int | None) -> int | None:
    """``limit`` if given, else ``SCREEN_ROWS`` on screen and no limit (None) under ``--json``."""
    if limit is not None or app.json_output:
        return limit
    return SCREEN_ROWS


def shown_title(title: str, shown: int, total: int) -> str:
    """A listing's title, saying when it shows only the first rows."""
    return title if shown >= total else f"{title}: the first {shown:,} of {total:,}"


MORE_ROWS = "More with --limit N, or all of them with --json."


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """A simple rich table with ``columns`` as headers."""
    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*["" if v is None else str(v) for v in row])
    return result
