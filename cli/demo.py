"""The demo pipeline over ``sample_data/``: what ``make demo`` runs.

It builds a fresh project in the output folder (settings and segments copied
from the sample association), then runs each stage that exists and records
a one-line summary per stage. Stages are plain library calls, the same ones
the commands make.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from cli.reporting.stats import collect_stats
from cli.settings import CONFIG_FILE_NAME, Settings, load_settings
from cli.store import open_database

SAMPLE_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"
# The sample association's files end in mid-November 2026; a fixed "today"
# keeps the demo's figures the same whatever day it runs.
DEMO_AS_OF = date(2026, 11, 20)


@dataclass
class DemoStep:
    name: str
    summary: str


@dataclass
class DemoReport:
    database: Path
    out_dir: Path
    as_of: date
    steps: list[DemoStep] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)


@dataclass
class DemoContext:
    """What each stage gets: the open base, the settings, the dates and folders."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    sample_dir: Path
    out_dir: Path
    as_of: date
    report: DemoReport


# Stages in pipeline order; later capabilities append theirs (import, clean, score, segments, report).
DemoStage = Callable[[DemoContext], None]


def _stage_stats(ctx: DemoContext) -> None:
    figures = collect_stats(ctx.con)
    counts = figures["counts"]
    ctx.report.steps.append(
        DemoStep("stats", f"{counts['contacts']} contacts, {counts['events']} events, "
                 f"{counts['suppressions']} suppressions")
    )


def _stage_clean(ctx: DemoContext) -> None:
    from cli.cleaning import run_cleaning

    if not ctx.con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]:
        ctx.report.steps.append(DemoStep("clean", "skipped: no contacts imported"))
        return
    result = run_cleaning(ctx.con, ctx.settings, ctx.as_of)
    by_pass = {r.name: r for r in result.reports}
    bounces, dupes = by_pass["bounces"].details, by_pass["duplicates"].details
    ctx.report.steps.append(
        DemoStep(
            "clean",
            f"{bounces['hard_bounce_suppressed'] + bounces['soft_bounce_suppressed']} bounced, "
            f"{by_pass['unsubscribes'].details['suppressed']} unsubscribed, "
            f"{by_pass['complaints'].details['suppressed']} complained, "
            f"{by_pass['invalid'].details['suppressed']} invalid addresses suppressed; "
            f"{dupes['exact_merged'] + dupes['fuzzy_merged']} duplicates merged, "
            f"{dupes['pending_pairs']} pairs to review (crmseg dupes list); "
            f"{by_pass['inactive'].details['inactive_now']} inactive for "
            f"{ctx.settings.cleaning.inactive_months} months",
        )
    )


def demo_stages() -> list[DemoStage]:
    """The pipeline's stages, in order."""
    return [_stage_clean, _stage_stats]


def run_demo(out_dir: Path, *, sample_dir: Path = SAMPLE_DATA_DIR, as_of: date = DEMO_AS_OF) -> DemoReport:
    """Run the whole pipeline on ``sample_dir`` into a fresh ``out_dir``."""
    from cli.errors import InputError

    if not (sample_dir / CONFIG_FILE_NAME).exists():
        raise InputError(f"{sample_dir}: no sample data here (expected {CONFIG_FILE_NAME}).")
    out_dir.mkdir(parents=True, exist_ok=True)
    db_path = out_dir / "crmseg.duckdb"
    for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(sample_dir / CONFIG_FILE_NAME, out_dir / CONFIG_FILE_NAME)
    if (sample_dir / "segments").is_dir():
        shutil.rmtree(out_dir / "segments", ignore_errors=True)
        shutil.copytree(sample_dir / "segments", out_dir / "segments")

    settings = load_settings(out_dir / CONFIG_FILE_NAME)
    con = open_database(db_path, memory_limit=settings.memory_limit)
    report = DemoReport(database=db_path, out_dir=out_dir, as_of=as_of)
    ctx = DemoContext(con=con, settings=settings, sample_dir=sample_dir, out_dir=out_dir, as_of=as_of, report=report)
    try:
        for stage in demo_stages():
            stage(ctx)
    finally:
        con.close()
    return report
