"""``crmseg report``."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.commands.common import app_context
from cli.reporting.html_report import render_html, report_data, write_report


def report(
    ctx: typer.Context,
    html: Path = typer.Option(..., "--html", help="Where to write the self-contained HTML report."),
) -> None:
    """Write one offline HTML file with charts: lifecycle funnel, segment sizes and
    overlaps, RFM grid, sources, data quality, recent imports and cleans.

    Example: crmseg report --html report.html
    """
    app = app_context(ctx)
    data = report_data(app.connect(), app.as_of)
    path = write_report(html, render_html(data))
    app.emit({"report": str(path), **data}, lambda console: console.print(f"Report written to {path}"))
