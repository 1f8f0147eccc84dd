"""The demo's clean stage: it cleans what was imported, and skips an empty base."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from cli.demo import DemoContext, DemoReport, _stage_clean
from cli.settings import Settings

from .conftest import add_contact, add_events


def _ctx(con, tmp_path: Path) -> DemoContext:
    report = DemoReport(database=tmp_path / "x.duckdb", out_dir=tmp_path, as_of=date(2026, 11, 20))
    return DemoContext(con=con, settings=Settings(), sample_dir=tmp_path, out_dir=tmp_path,
                       as_of=date(2026, 11, 20), report=report)


def test_clean_stage_skips_an_empty_base(con, tmp_path):
    ctx = _ctx(con, tmp_path)
    _stage_clean(ctx)
    assert ctx.report.steps[0].summary.startswith("skipped")


def test_clean_stage_summarises_the_cleaning(con, tmp_path):
    bounced = add_contact(con, email="anne@orange.fr")
    add_events(con, bounced, ("hard_bounce", "2026-10-01"))
    ctx = _ctx(con, tmp_path)
    _stage_clean(ctx)
    assert ctx.report.steps[0].name == "clean"
    assert ctx.report.steps[0].summary.startswith("1 bounced")
