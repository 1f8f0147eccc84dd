"""``crmseg stats``."""

from __future__ import annotations

import typer

from cli.commands.common import app_context, table


def stats(ctx: typer.Context) -> None:
    """Show the size of the base, statuses and stages, data quality, segment sizes
    and recent imports.

    Example: crmseg stats --json
    """
    from cli.reporting.stats import collect_stats, folder_segments
    from cli.scoring import ensure_fresh_scores

    app = app_context(ctx)
    con = app.connect()
    ensure_fresh_scores(con, app.settings, app.as_of)  # stages are shown
    figures = collect_stats(con, app.as_of, folder_segments(app.settings, app.as_of))

    def render(console) -> None:
        console.print(table("Base", ["entity", "rows"], [
            [k, v] for k, v in figures["counts"].items() if v or k != "events_after_as_of"]))
        for key, title, label in [
            ("contacts_by_status", "Contacts by status", "status"),
            ("contacts_by_stage", "Contacts by lifecycle stage", "stage"),
            ("events_by_type", "Events by type", "type"),
        ]:
            if figures[key]:
                console.print(table(title, [label, "count"], [list(r) for r in figures[key].items()]))
        quality = figures["data_quality"]
        rows = [[name.replace("_", " "),
                 f"{value:.0%} ({quality['counts'][name]})" if isinstance(value, float) else value]
                for name, value in quality.items() if name != "counts"]
        console.print(table("Data quality (live contacts)", ["measure", "value"], rows))
        segments = figures["segments"]
        if segments:
            console.print(table("Segments at their last run", ["segment", "members", "last run", "as of", "note"],
                                [[s["segment"], "-" if s["members"] is None else s["members"],
                                  f"{s['last_run']:%Y-%m-%d %H:%M}" if s["last_run"] else "never",
                                  s["last_run_as_of"], _segment_note(s)] for s in segments]))
        for s in segments:
            if s["error"]:
                console.print(f"Segment {s['segment']} cannot run: {s['error']}")
        if figures["recent_imports"]:
            console.print(table("Recent imports", ["id", "file", "kind", "read", "inserted", "rejected", "issues"],
                                [[i["id"], i["file_name"], i["kind"], i["rows_read"], i["inserted"], i["rejected"],
                                  i["issues"]] for i in figures["recent_imports"]]))
        for advice in figures["tag_advice"]:
            console.print(f"Advice: {advice['advice']}")

    app.emit(figures, render)


def _segment_note(segment: dict) -> str:
    if segment["error"]:
        return "cannot run (see below)"
    if segment["in_folder"] is False:
        return "no longer in the segments folder"
    return "" if segment["members"] is not None else "never run"
