"""``crmseg clean``: run the cleaning passes and print one table of what they did."""

from __future__ import annotations

from typing import List, Optional

import typer

from cli.commands.common import app_context, contacts_count, table

# Written out so that `crmseg --help` does not load the cleaning library
# (rapidfuzz, numpy); a test keeps it equal to cli.cleaning.runner.PASS_NAMES.
PASSES_HELP = "bounces, unsubscribes, complaints, invalid, duplicates, inactive, retention"


def clean(
    ctx: typer.Context,
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="PASSES", help=f"Run only these passes (comma-separated or repeated): {PASSES_HELP}."),
    skip: Optional[List[str]] = typer.Option(None, "--skip", metavar="PASSES", help="Skip these passes (comma-separated or repeated)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what would change, and change nothing."),
    undo: Optional[int] = typer.Option(None, "--undo", metavar="RUN", help="Undo the clean run RUN (its id is printed by each clean)."),
) -> None:
    """Run the cleaning passes in order: bounces, unsubscribes, complaints, invalid, duplicates, inactive, retention.

    Every change is logged and reversible with `crmseg clean --undo RUN`,
    except retention (off unless cleaning.retention_months is set), which
    erases old prospects.

    Example: crmseg clean --skip duplicates --dry-run
    """
    from cli.cleaning.runner import run_cleaning, split_names

    app = app_context(ctx)
    if undo is not None:
        if only or skip:
            raise typer.BadParameter("--undo takes no --only or --skip: it undoes the whole run.")
        _undo(app, undo, dry_run)
        return
    result = run_cleaning(
        app.connect(), app.settings, app.as_of, only=split_names(only), skip=split_names(skip), dry_run=dry_run
    )

    def render(console) -> None:
        title = f"Cleaning as of {result.as_of}" + (
            " (dry run: nothing was written)" if dry_run else f": run {result.run_id}, undo with `crmseg clean --undo {result.run_id}`"
        )
        rows = [
            [r.name, r.looked_at, r.changed,
             ", ".join(f"{k} {v}" for k, v in r.details.items() if not isinstance(v, bool)), r.why]
            for r in result.reports
        ]
        console.print(table(title, ["pass", "looked at", "changed", "details", "rule"], rows))

    app.emit(result.as_dict(), render)


def _undo(app, run_id: int, dry_run: bool) -> None:
    from cli.cleaning.undo import undo_run

    data = undo_run(app.connect(), run_id, dry_run=dry_run)

    def render(console) -> None:
        verb = "would be put back (dry run: nothing was written)" if dry_run else "put back"
        console.print(
            f"Clean run {run_id}: {verb}: {data['statuses']} statuses, {data['consents']} consents, "
            f"{data['email_qualities']} email qualities, {data['inactive_flags']} inactive flags, "
            f"{data['merges_undone']} merges; {data['ledger_entries_removed']} ledger entries removed."
        )
        if data["changed_since_left"]:
            console.print(f"{data['changed_since_left']} values changed since the run were left as they are.")
        if data["erased_not_undone"]:
            console.print(f"{contacts_count(data['erased_not_undone'])} erased by retention cannot be brought back.")

    app.emit(data, render)
