"""The root Typer app: global options, error handling, command groups.

Every error is mapped to an exit code here and only here (``exit_code_for``):
a ``CrmsegError`` prints its one-paragraph message on stderr, anything else
is a bug, whose traceback (never with local variables, which may hold contact
data) goes to a log file whose path is printed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from cli import __version__
from cli.commands import clean as clean_command
from cli.commands import contacts as contacts_command
from cli.commands import demo as demo_command
from cli.commands import dupes as dupes_command
from cli.commands import gdpr as gdpr_command
from cli.commands import group as group_command
from cli.commands import importing as importing_command
from cli.commands import init as init_command
from cli.commands import report as report_command
from cli.commands import score as score_command
from cli.commands import segment as segment_command
from cli.commands import stats as stats_command
from cli.commands import tag as tag_command
from cli.commands.common import AppContext, write_stdout
from cli.errors import CrmsegError, ExitCode, exit_code_for


def _write_error_log(error: BaseException) -> Path | None:
    """Write the traceback to a private log file; its path, or None when no file could be written.

    The folder is one per user (``crmseg-UID`` in the temporary folder): on a
    shared machine another user's ``crmseg`` folder is not writable, and a
    failure here must not turn a short message into a traceback.
    """
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    owner = os.getuid() if hasattr(os, "getuid") else "user"
    try:
        folder = Path(tempfile.gettempdir()) / f"crmseg-{owner}"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"error-{stamp}-{os.getpid()}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        try:
            fd, name = tempfile.mkstemp(prefix=f"crmseg-error-{stamp}-", suffix=".log")
            path = Path(name)
        except OSError:
            return None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"crmseg {__version__}\n{' '.join(sys.argv)}\n\n{text}")
    return path


def _json_requested(ctx: typer.Context) -> bool:
    """Whether ``--json`` was given (also before the global options were turned into ``ctx.obj``)."""
    if isinstance(ctx.obj, AppContext):
        return ctx.obj.json_output
    return bool(ctx.params.get("json_output"))


def _emit_json_error(ctx: typer.Context | None, code: int, message: str, **extra: Any) -> None:
    """Under ``--json``, the one JSON document of a failed command, unless the command printed its own."""
    obj = ctx.obj if ctx is not None else None
    if isinstance(obj, AppContext) and obj.emitted:
        return  # e.g. `segment run`: its document already says which segments failed
    write_stdout(json.dumps({"error": {"exit_code": code, "message": message, **extra}}, ensure_ascii=False,
                            indent=2) + "\n")


def _emit_usage_error(ctx: typer.Context | None, error: Exception) -> None:
    """The JSON document of a usage error (bad option or argument), which click prints on stderr."""
    message = error.format_message() if hasattr(error, "format_message") else str(error)
    _emit_json_error(ctx, getattr(error, "exit_code", int(ExitCode.INPUT)), message)


# Global options are accepted anywhere on the line (`crmseg stats --json`):
# the root group moves them in front of the command before parsing.
_GLOBAL_FLAGS = {"--json", "--quiet", "-q", "--debug", "--version"}
_GLOBAL_VALUED = {"--db", "--config", "--as-of", "--wait"}


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options found after the command name to the front.

    >>> hoist_global_options(["stats", "--json", "--db", "x.duckdb"])
    ['--json', '--db', 'x.duckdb', 'stats']
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS:
            front.append(arg)
        elif name in _GLOBAL_VALUED and "=" in arg:
            front.append(arg)
        elif arg in _GLOBAL_VALUED and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


class CrmsegGroup(TyperGroup):
    """Root group that turns exceptions into messages and exit codes."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        hoisted = hoist_global_options(list(args))
        json_wanted = "--json" in hoisted  # before parsing, which consumes the list
        try:
            if args and args[-1] in _GLOBAL_VALUED:
                # `crmseg stats --db`: without this, the command would say it has no option --db.
                raise typer.BadParameter("this option needs a value.", ctx=ctx, param_hint=f"'{args[-1]}'")
            return super().parse_args(ctx, hoisted)
        except typer.TyperException as error:
            if json_wanted:
                _emit_usage_error(None, error)
            raise

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.TyperException as error:  # a usage error: click prints it and exits 2
            if _json_requested(ctx):
                _emit_usage_error(ctx, error)
            raise
        except (typer.Exit, typer.Abort):
            raise  # --help and exits keep their own codes
        except CrmsegError as error:
            typer.echo(f"Error: {error}", err=True)
            if _json_requested(ctx):
                _emit_json_error(ctx, int(exit_code_for(error)), str(error))
            ctx.exit(int(exit_code_for(error)))
        except Exception as error:  # a bug: keep the traceback out of the user's terminal
            log_path = _write_error_log(error)
            debug = isinstance(ctx.obj, AppContext) and ctx.obj.debug
            if debug:
                traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
            where = (f"the details are in {log_path} (run with --debug to see them here)" if log_path
                     else "no log file could be written; run with --debug to see the details")
            message = f"Internal error: {type(error).__name__}. This is a bug in crmseg; {where}."
            typer.echo(message, err=True)
            if _json_requested(ctx):
                _emit_json_error(ctx, int(ExitCode.INTERNAL), message, log=str(log_path) if log_path else None)
            ctx.exit(int(ExitCode.INTERNAL))
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


app = typer.Typer(
    cls=CrmsegGroup,
    name="crmseg",
    help="crmseg: import contact exports into one local DuckDB base, clean, score and segment it.\n\n"
    "Example: crmseg --db base/crmseg.duckdb import contacts export.csv",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"crmseg {__version__}")
        raise typer.Exit()


def _parse_as_of(value: Optional[str]) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise typer.BadParameter(f"`{value}` is not a date; write it as YYYY-MM-DD.", param_hint="'--as-of'") from e


@app.callback()
def main(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(None, "--db", help="Database file (default: $CRMSEG_DB, else ./crmseg.duckdb)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Settings file (default: crmseg.yaml beside the database)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="The 'today' every relative date uses (YYYY-MM-DD)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document on stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    wait: float = typer.Option(30.0, "--wait", min=0, help="Seconds to wait for a database another crmseg holds."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
) -> None:
    """crmseg: a command-line contact-base toolkit.

    Example: crmseg --db base.duckdb import contacts export.csv
    """
    # Everything crmseg writes holds personal data: readable by its owner only.
    os.umask(0o077)
    ctx.obj = AppContext(
        db_option=db,
        config_option=config.expanduser() if config else None,
        as_of=_parse_as_of(as_of),
        as_of_explicit=as_of is not None,
        json_output=json_output,
        quiet=quiet,
        wait=wait,
        debug=debug,
    )


app.command("init")(init_command.init)
app.command("stats")(stats_command.stats)
app.command("report")(report_command.report)
app.command("demo")(demo_command.demo)
app.command("clean")(clean_command.clean)
app.add_typer(dupes_command.app, name="dupes")
app.add_typer(importing_command.app, name="import")
app.add_typer(tag_command.app, name="tag")
app.add_typer(group_command.app, name="group")
app.add_typer(contacts_command.app, name="contacts")
app.add_typer(gdpr_command.app, name="gdpr")
app.add_typer(score_command.app, name="score")
app.add_typer(segment_command.app, name="segment")


def run() -> None:
    """Console-script entry point.

    The command has closed the database by the time ``app`` returns, so the
    process ends with ``os._exit`` once the output is flushed: the
    interpreter's teardown adds nothing but time and, with DuckDB 2's
    bindings after a Polars conversion, a "nanobind: leaked ..." report on
    stderr that a cron job would mail to its owner.
    """
    code: int | str | None = 0
    try:
        app()
    except SystemExit as stop:
        code = stop.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # the reader went away (`crmseg ... | head`): nothing more can be written
    os._exit(code or 0)
