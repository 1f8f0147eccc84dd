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
    counts, by_status = figures["counts"], figures["contacts_by_status"]
    # The people the base holds now: merged-away records are counted apart.
    live = by_status.get("active", 0) + by_status.get("suppressed", 0)
    ctx.report.steps.append(
        DemoStep("stats", f"{live} contacts ({by_status.get('merged', 0)} merged away), {counts['events']} events, "
                 f"{counts['suppressions']} suppressions")
    )


def _stage_report(ctx: DemoContext) -> None:
    from cli.reporting.html_report import render_html, report_data, write_report

    path = write_report(ctx.out_dir / "report.html", render_html(report_data(ctx.con, ctx.as_of)))
    ctx.report.outputs.append(path)
    ctx.report.steps.append(DemoStep("report", f"HTML report with charts: {path}"))


def _stage_people(ctx: DemoContext) -> None:
    """Tags and groups in use, and one person's GDPR export as an example document."""
    from cli.gdpr import export_person, write_document
    from cli.groups import list_groups
    from cli.tagging import list_tags

    row = ctx.con.execute(
        "SELECT email FROM contacts WHERE email IS NOT NULL AND status IN ('active', 'suppressed') ORDER BY id LIMIT 1"
    ).fetchone()
    if row is None:
        ctx.report.steps.append(DemoStep("people", "skipped: no contacts to show"))
        return
    tags, groups = list_tags(ctx.con), list_groups(ctx.con)
    path = write_document(export_person(ctx.con, row[0], as_of=ctx.as_of), ctx.out_dir / "gdpr-export-example.json")
    ctx.report.outputs.append(path)
    ctx.report.steps.append(
        DemoStep("people", f"{len(tags)} tags, {len(groups)} groups; one contact's GDPR export written")
    )


def _stage_score(ctx: DemoContext) -> None:
    from cli.scoring import lifecycle_distribution, refresh_scores, rfm_distribution

    if not ctx.con.execute("SELECT count(*) FROM contacts").fetchone()[0]:
        ctx.report.steps.append(DemoStep("score", "skipped: no contacts imported"))
        return
    run = refresh_scores(ctx.con, ctx.settings, ctx.as_of)
    stages = lifecycle_distribution(ctx.con)["stages"]
    rfm = rfm_distribution(ctx.con)
    top = sorted(rfm["segments"], key=lambda s: -s["contacts"])[:3]
    ctx.report.steps.append(
        DemoStep(
            "score",
            f"{run.contacts} contacts scored; stages "
            + ", ".join(f"{s['stage']} {s['contacts']}" for s in stages if s["contacts"])
            + "; RFM "
            + ", ".join(f"{s['segment']} {s['contacts']}" for s in top if s["contacts"]),
        )
    )


def _stage_import(ctx: DemoContext) -> None:
    """Import the sample association's CRM export, its gifts, memberships and emailing activity."""
    from cli.importing import ImportOptions, import_contacts, import_events

    files = [
        ("contacts_crm.csv", "contacts", ImportOptions()),
        ("dons_adhesions.xlsx", "events", ImportOptions(sheet="Dons", event_type="donation")),
        ("dons_adhesions.xlsx", "events", ImportOptions(sheet="Adhésions", event_type="membership")),
        ("emailing_activity.csv", "events", ImportOptions()),
    ]
    parts = []
    for name, kind, options in files:
        path = ctx.sample_dir / name
        if not path.exists():
            continue
        function = import_contacts if kind == "contacts" else import_events
        summary = function(ctx.con, path, settings=ctx.settings, options=options)
        label = name + (f" [{summary.sheet}]" if summary.sheet else "")
        parts.append(f"{label}: {summary.inserted} in, {summary.rejected} rejected, {summary.issues} issues")
    ctx.report.steps.append(DemoStep("import", "; ".join(parts) if parts else "no sample files found"))


def _stage_segments(ctx: DemoContext) -> None:
    """Run every example segment and write its list into ``out_dir/lists``."""
    from cli.segmenting import load_library
    from cli.segmenting.runner import run_segments

    library = load_library(ctx.settings.segments_path, ctx.settings)
    contacts = ctx.con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    if not library.names or not contacts:
        ctx.report.steps.append(DemoStep("segments", "skipped: no segments or no contacts yet"))
        return
    lists = ctx.out_dir / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    results = run_segments(ctx.con, library, library.names, settings=ctx.settings, as_of=ctx.as_of, out_dir=lists)
    written = [r for r in results if r.output]
    ctx.report.outputs.extend(r.output for r in written)
    sizes = ", ".join(f"{r.segment} {r.members}" for r in written)
    failed = [r.segment for r in results if r.error]
    summary = f"{len(written)} lists written to {lists} ({sizes})"
    if failed:
        summary += f"; failed: {', '.join(failed)}"
    ctx.report.steps.append(DemoStep("segments", summary))


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


def _stage_profile(ctx: DemoContext) -> None:
    """The persona of the seeds' own segment (or of the first segment there is)."""
    from cli.reporting.profile import profile_segment
    from cli.segmenting import library_for

    names = library_for(ctx.settings).names
    if not names or not ctx.con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]:
        ctx.report.steps.append(DemoStep("profile", "skipped: no segments or no contacts"))
        return
    name = "relance-animaux" if "relance-animaux" in names else names[0]
    profile = profile_segment(ctx.con, name, settings=ctx.settings, as_of=ctx.as_of)
    ctx.report.steps.append(DemoStep("profile", f"{name} ({profile.size} members): {profile.persona}"))


def demo_stages() -> list[DemoStage]:
    """The pipeline's stages, in order."""
    return [
        _stage_import, _stage_clean, _stage_score, _stage_segments, _stage_profile, _stage_people, _stage_stats,
        _stage_report,
    ]


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
