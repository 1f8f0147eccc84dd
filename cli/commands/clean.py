"""``crmseg clean``: run the cleaning passes and print one table of what they did."""

from __future__ import annotations

from typing import List, Optional

import typer

from cli.commands.common import app_context, table

# Written out so that `crmseg --help` does not load the cleaning library
# (rapidfuzz, numpy); a test keeps it equal to cli.cleaning.runner.PASS_NAMES.
PASSES_HELP = "bounces, unsubscribes, complaints, invalid, duplicates, inactive, retention"


def clean(
    ctx: typer.Context,
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="PASSES", help=f"Run only these passes (comma-separated or repeated): {PASSES_HELP}."),
    skip: Optional[List[str]] = typer.Option(None, "--skip", metavar="PASSES", help="Skip these passes (comma-separated or repeated)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would change, and change nothing."),
) -> None:
    """Run the cleaning passes in order: bounces, unsubscribes, complaints, invalid, duplicates, inactive, retention.

    Every change is logged and reversible, except retention (off unless
    cleaning.retention_months is set), which erases old prospects.

    Example: crmseg clean --skip duplicates --dry-run
    """
    from cli.cleaning.runner import run_cleaning, split_names

    app = app_context(ctx)
    result = run_cleaning(
        app.connect(), app.settings, app.as_of, only=split_names(only), skip=split_names(skip), dry_run=dry_run
    )

    def render(console) -> None:
        title = f"Cleaning as of {result.as_of}" + (" (dry run: nothing was written)" if dry_run else "")
        rows = [
            [r.name, r.looked_at, r.changed,
             ", ".join(f"{k} {v}" for k, v in r.details.items() if not isinstance(v, bool)), r.why]
            for r in result.reports
        ]
        console.print(table(title, ["pass", "looked at", "changed", "details", "rule"], rows))

    app.emit(result.as_dict(), render)
