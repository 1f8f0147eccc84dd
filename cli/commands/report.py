"""``crmseg report``."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.commands.common import app_context


def report(
    ctx: typer.Context,
    html: Path = typer.Option(..., "--html", help="Where to write the self-contained HTML report."),
) -> None:
    """Write one offline HTML file with charts: lifecycle funnel, segment sizes and
    overlaps, RFM grid, sources, data quality, recent imports and cleans.

    Example: crmseg report --html report.html
    """
    from cli.reporting.html_report import check_report_path, render_html, report_data, write_report
    from cli.reporting.stats import folder_segments
    from cli.scoring import ensure_fresh_scores

    check_report_path(html)  # a wrong target fails before the scores are refreshed
    app = app_context(ctx)
    con = app.connect()
    ensure_fresh_scores(con, app.settings, app.as_of)  # funnel and RFM grid
    data = report_data(con, app.as_of, folder_segments(app.settings, app.as_of))
    path = write_report(html, render_html(data))
    app.emit({"report": str(path), **data}, lambda console: console.print(f"Report written to {path}"))
