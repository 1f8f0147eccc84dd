"""``crmseg demo``."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.commands.common import app_context, table
from cli.demo import DEMO_AS_OF, SAMPLE_DATA_DIR, run_demo


def demo(
    ctx: typer.Context,
    out_dir: Path = typer.Option(Path("demo"), "--out-dir", help="Folder for the demo base and its outputs."),
    sample_dir: Path = typer.Option(SAMPLE_DATA_DIR, "--sample-dir", help="The sample association's files."),
) -> None:
    """Run the whole pipeline on the sample association into demo/.

    Uses --as-of when given, else 2026-11-20 (the sample data's "today").

    Example: crmseg demo --out-dir /tmp/crmseg-demo
    """
    app = app_context(ctx)
    as_of = app.as_of if app.as_of_explicit else DEMO_AS_OF
    report = run_demo(out_dir, sample_dir=sample_dir, as_of=as_of)
    data = {
        "database": str(report.database),
        "out_dir": str(report.out_dir),
        "as_of": report.as_of,
        "steps": [{"step": s.name, "summary": s.summary} for s in report.steps],
        "outputs": [str(p) for p in report.outputs],
    }

    def render(console) -> None:
        console.print(table(f"crmseg demo (as of {report.as_of})", ["step", "what it did"],
                            [[s.name, s.summary] for s in report.steps]))
        console.print(f"Database: {report.database}")
        for path in report.outputs:
            console.print(f"Output:   {path}")

    app.emit(data, render)
