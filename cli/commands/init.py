"""``crmseg init``."""

from __future__ import annotations

import typer

from cli.commands.common import app_context


def init(ctx: typer.Context) -> None:
    """Create the database, a commented crmseg.yaml and an example segments/ folder.

    Existing files are kept as they are.

    Example: crmseg --db base/crmseg.duckdb init
    """
    from cli.project import init_project

    app = app_context(ctx)
    result = init_project(app.db_path, app.config_option, wait=app.wait)
    data = {
        "database": str(result.database),
        "config": str(result.config),
        "segments_dir": str(result.segments_dir),
        "schema_version": result.schema_version,
        "created": result.created,
        "kept": result.kept,
    }

    def render(console) -> None:
        for path in result.created:
            console.print(f"created  {path}")
        for path in result.kept:
            console.print(f"kept     {path} (already there)")
        config = f" --config {result.config}" if app.config_option else ""
        console.print(f"Next: crmseg --db {result.database}{config} import contacts FILE")

    app.emit(data, render)
