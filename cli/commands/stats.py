"""``crmseg stats``."""

from __future__ import annotations

import typer

from cli.commands.common import app_context, table
from cli.reporting.stats import collect_stats


def stats(ctx: typer.Context) -> None:
    """Show the size of the base, contacts per status and events per type.

    Example: crmseg stats --json
    """
    app = app_context(ctx)
    figures = collect_stats(app.connect())

    def render(console) -> None:
        console.print(table("Base", ["entity", "rows"], [[k, v] for k, v in figures["counts"].items()]))
        if figures["contacts_by_status"]:
            console.print(
                table("Contacts by status", ["status", "contacts"], [list(r) for r in figures["contacts_by_status"].items()])
            )
        if figures["events_by_type"]:
            console.print(
                table("Events by type", ["type", "events"], [list(r) for r in figures["events_by_type"].items()])
            )
        for advice in figures["tag_advice"]:
            console.print(f"Advice: {advice['advice']}")

    app.emit(figures, render)
